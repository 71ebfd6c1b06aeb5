// pcv op PLUGIN.OP: runs one op on named tensors from safetensors files, forward and optionally
// backward, and writes the results as safetensors.
#include <pcv/error.hpp>
#include <pcv/graph.hpp>
#include <pcv/safetensors.hpp>
#include <pcv/threads.hpp>

#include <iostream>
#include <memory>

#include "commands.hpp"
#include "timing.hpp"

namespace pcv::cli {
namespace {

// Input i's tensor: named like the op's input; copies of a variadic last input are "x.0", "x.1", ...
std::vector<Tensor> gather_inputs(const OpInfo& op, const SafetensorsFile& file) {
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < op.inputs.size(); ++i) {
    const ArgInfo& arg = op.inputs[i];
    if (arg.variadic) {
      for (int k = 0; file.contains(arg.name + "." + std::to_string(k)); ++k)
        inputs.push_back(file.tensor(arg.name + "." + std::to_string(k)));
      if (file.contains(arg.name)) inputs.push_back(file.tensor(arg.name));
      continue;
    }
    if (file.contains(arg.name))
      inputs.push_back(file.tensor(arg.name));
    else if (arg.optional)
      inputs.emplace_back();
    else
      throw Error(file.path().string() + " has no tensor '" + arg.name + "' for input #" + std::to_string(i) +
                  " of " + op.full_name);
  }
  for (const std::string& name : file.names()) {
    const bool known = std::any_of(op.inputs.begin(), op.inputs.end(), [&](const ArgInfo& a) {
      return name == a.name || (a.variadic && name.rfind(a.name + ".", 0) == 0);
    });
    if (!known)
      throw Error(file.path().string() + ": tensor '" + name + "' is not an input of " + op.full_name);
  }
  return inputs;
}

std::string input_name(const OpInfo& op, std::size_t i, std::size_t count) {
  const ArgInfo& last = op.inputs.back();
  if (i + 1 >= op.inputs.size() && last.variadic && count > op.inputs.size() - 1)
    return last.name + "." + std::to_string(i - (op.inputs.size() - 1));
  return op.inputs[i].name;
}

}  // namespace

void add_op_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand(
      "op",
      "Run one op on tensors from a safetensors file, for scripting, debugging and checking pcv\n"
      "against other frameworks. Input tensors are named like the op's inputs (`pcv ops PLUGIN`\n"
      "lists them; copies of a variadic input are x.0, x.1, ...); outputs are written under the op's\n"
      "output names. With --grad-in (gradients named like the outputs), also runs backward and\n"
      "writes the input gradients to --grad-out.");
  auto op_name = std::make_shared<std::string>();
  auto in = std::make_shared<std::string>(), out = std::make_shared<std::string>();
  auto grad_in = std::make_shared<std::string>(), grad_out = std::make_shared<std::string>();
  auto attrs = std::make_shared<std::vector<std::string>>();
  auto training = std::make_shared<bool>(false);
  auto seed = std::make_shared<std::uint64_t>(0);
  auto repeat = std::make_shared<int>(1);
  cmd->add_option("op", *op_name, "The op, PLUGIN.OP (e.g. nn.conv2d)")->required();
  cmd->add_option("--in", *in, "Input tensors (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("--out", *out, "Where to write the outputs (.safetensors)")->required();
  cmd->add_option("--attr", *attrs,
                  "An attribute, k=v with v in JSON: stride=[2,2], reduction=sum (repeatable)");
  auto* gin = cmd->add_option("--grad-in", *grad_in, "Gradients of the outputs (.safetensors)")
                  ->check(CLI::ExistingFile);
  auto* gout = cmd->add_option("--grad-out", *grad_out, "Where to write the gradients of the inputs");
  gin->needs(gout);
  gout->needs(gin);
  cmd->add_flag("--training", *training, "Run in training mode (batch statistics, dropout)");
  cmd->add_option("--seed", *seed, "Seed for random ops")->capture_default_str();
  cmd->add_option("--repeat", *repeat, "Run forward this many times and print each run's time and the median")
      ->check(CLI::PositiveNumber);
  cmd->callback([&options, op_name, in, out, grad_in, grad_out, attrs, training, seed, repeat] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    const OpInfo& op = registry.op(*op_name);
    AttrMap attr_map;
    for (const std::string& kv : *attrs) {
      const auto eq = kv.find('=');
      if (eq == std::string::npos || eq == 0)
        throw Error("--attr '" + kv + "' is not of the form name=value");
      attr_map[kv.substr(0, eq)] = parse_attr_value(kv.substr(eq + 1));
    }
    const Kernel kernel = registry.create_kernel(*op_name, attr_map);
    const SafetensorsFile input_file = SafetensorsFile::open(*in);
    std::vector<Tensor> inputs = gather_inputs(op, input_file);
    for (std::size_t i = 0; i < inputs.size();
         ++i)  // state inputs may be updated: never write into the mapping
      if (inputs[i].defined()) inputs[i] = inputs[i].clone();
    RunOptions run;
    run.training = *training;
    run.seed = *seed;
    run.num_threads = num_threads();
    std::vector<Tensor> outputs;
    time_runs(*repeat, [&] { outputs = kernel.forward(inputs, run); });
    std::vector<std::pair<std::string, Tensor>> named;
    for (std::size_t i = 0; i < outputs.size(); ++i) named.emplace_back(op.outputs[i].name, outputs[i]);
    write_safetensors(*out, named);
    std::cout << "wrote " << outputs.size() << " output(s) to " << *out << "\n";
    if (grad_in->empty()) return;
    const SafetensorsFile grads_file = SafetensorsFile::open(*grad_in);
    std::vector<Tensor> grad_outputs;
    for (std::size_t i = 0; i < outputs.size(); ++i) {
      const std::string& name = op.outputs[i].name;
      grad_outputs.push_back(grads_file.contains(name) ? grads_file.tensor(name)
                                                       : Tensor(outputs[i].dtype(), outputs[i].shape()));
    }
    const std::vector<Tensor> grads = kernel.backward(inputs, outputs, grad_outputs, {}, run);
    std::vector<std::pair<std::string, Tensor>> named_grads;
    for (std::size_t i = 0; i < grads.size(); ++i)
      if (grads[i].defined()) named_grads.emplace_back(input_name(op, i, inputs.size()), grads[i]);
    write_safetensors(*grad_out, named_grads);
    std::cout << "wrote " << named_grads.size() << " gradient(s) to " << *grad_out << "\n";
  });
}

}  // namespace pcv::cli
