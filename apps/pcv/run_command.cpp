// pcv run MODEL: runs a model file's graph on tensors from a safetensors file and writes its
// outputs, for scripting and for checking pcv against other frameworks on the same inputs.
#include <pcv/error.hpp>
#include <pcv/graph_passes.hpp>
#include <pcv/model.hpp>
#include <pcv/runtime.hpp>
#include <pcv/safetensors.hpp>
#include <pcv/threads.hpp>

#include <algorithm>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "timing.hpp"

namespace pcv::cli {

void add_run_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run a model's graph in inference mode on tensors from a safetensors file: one tensor per\n"
      "graph input, named like it. No preprocessing is applied: the tensors go in as they are.\n"
      "Outputs are written under the graph's output names.");
  auto model_path = std::make_shared<std::string>();
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto no_fold = std::make_shared<bool>(false);
  auto repeat = std::make_shared<int>(1);
  auto profile = std::make_shared<bool>(false);
  cmd->add_option("model", *model_path, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--in", *in, "Input tensors (.safetensors), named like the graph inputs")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "Where to write the outputs (.safetensors)")->required();
  cmd->add_flag("--no-fold", *no_fold, "Run the graph as it is: no batch-norm folding, no PointConv fusion");
  cmd->add_option("--repeat", *repeat,
                  "Run this many times and print each run's time and the median (warm-up: run 1)")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--profile", *profile, "Print the time of each op of the last run, slowest first");
  cmd->callback([&options, model_path, in, out, no_fold, repeat, profile] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/true);
    Model model = Model::load(*model_path);
    TensorMap stored(model.tensors.begin(), model.tensors.end());
    model.tensors.clear();  // inference folds batch norms into these weights in place
    Graph graph = model.graph;
    if (!*no_fold) graph = prepare_for_inference(registry, graph, stored);
    GraphRuntime runtime(registry, graph, std::move(stored), *model_path);
    const SafetensorsFile input_file = SafetensorsFile::open(*in);
    TensorMap inputs;
    for (const GraphInput& gi : graph.inputs) {
      if (!input_file.contains(gi.name))
        throw Error(input_file.path().string() + " has no tensor '" + gi.name + "' for graph input '" +
                    gi.name + "' of " + *model_path);
      inputs[gi.name] = input_file.tensor(gi.name);
    }
    RunOptions run;
    run.num_threads = num_threads();
    TensorMap outputs;
    time_runs(*repeat, [&] { outputs = runtime.run(inputs, run); });
    if (*repeat > 1)
      std::cout << "intermediate buffers: " << double(runtime.planned_bytes()) / (1 << 20) << " MiB\n";
    if (*profile) {
      std::map<std::string, double> by_op;
      for (std::size_t k = 0; k < graph.nodes.size(); ++k)
        by_op[graph.nodes[k].op] += runtime.node_seconds()[k];
      std::vector<std::pair<double, std::string>> rows;
      for (const auto& [op, s] : by_op) rows.emplace_back(s, op);
      std::sort(rows.rbegin(), rows.rend());
      for (const auto& [s, op] : rows) std::cout << "  " << s * 1e3 << " ms  " << op << "\n";
    }
    std::vector<std::pair<std::string, Tensor>> named(outputs.begin(), outputs.end());
    write_safetensors(*out, named);
    std::cout << "wrote " << named.size() << " output(s) to " << *out << "\n";
  });
}

}  // namespace pcv::cli
