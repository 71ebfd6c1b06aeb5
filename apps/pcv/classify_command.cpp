// pcv classify MODEL FILES...: the top-k labels of each cloud.
#include <pcv/classifier.hpp>
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>
#include <pcv/threads.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <numeric>

#include "commands.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

struct Ranked {
  std::string file;
  std::vector<std::pair<std::string, double>> top;  // label, probability
};

// Stacks preprocessed clouds [C, N] into [B, C, N].
Tensor stack(const std::vector<Tensor>& clouds) {
  Shape shape = clouds.front().shape();
  shape.insert(shape.begin(), static_cast<std::int64_t>(clouds.size()));
  Tensor out = Tensor::empty(clouds.front().dtype(), shape);
  auto* dst = static_cast<std::uint8_t*>(out.raw_data());
  for (const Tensor& c : clouds) {
    std::copy_n(static_cast<const std::uint8_t*>(c.raw_data()), c.nbytes(), dst);
    dst += c.nbytes();
  }
  return out;
}

}  // namespace

void add_classify_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd =
      app.add_subcommand("classify",
                         "Classify point clouds with a model file: the top-k labels of each file with\n"
                         "their probabilities. Uses the preprocessing recorded in the model.");
  auto model_path = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto top_k = std::make_shared<int>(3);
  auto json = std::make_shared<bool>(false);
  auto csv = std::make_shared<bool>(false);
  auto batch = std::make_shared<std::size_t>(32);
  cmd->add_option("model", *model_path, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("files", *files, "Clouds to classify (.pcd, .ply, .txt/.xyz, .bin)")->required();
  cmd->add_option("-k,--top-k", *top_k, "How many labels per file")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  auto* json_flag = cmd->add_flag("--json", *json, "Print JSON");
  cmd->add_flag("--csv", *csv, "Print CSV: file,rank,label,probability")->excludes(json_flag);
  cmd->add_option("--batch-size", *batch, "Clouds per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([&options, model_path, files, top_k, json, csv, batch] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    Classifier classifier(registry, Model::load(*model_path), *model_path);
    const std::size_t k = std::min<std::size_t>(static_cast<std::size_t>(*top_k), classifier.labels().size());
    std::vector<Ranked> results;
    std::size_t failed = 0;
    for (std::size_t begin = 0; begin < files->size(); begin += *batch) {
      std::vector<Tensor> clouds;
      std::vector<std::string> names;
      for (std::size_t i = begin; i < std::min(files->size(), begin + *batch); ++i) {
        try {
          clouds.push_back(preprocess(read_point_cloud((*files)[i]), classifier.preprocessing(), 0));
          names.push_back((*files)[i]);
        } catch (const Error& e) {
          std::fprintf(stderr, "pcv: error: %s\n", e.what());
          ++failed;
        }
      }
      if (clouds.empty()) continue;
      const Tensor p = classifier.probabilities(stack(clouds), num_threads());
      const auto n = static_cast<std::size_t>(p.shape()[1]);
      for (std::size_t i = 0; i < names.size(); ++i) {
        const double* row = p.data<double>() + i * n;
        std::vector<std::size_t> order(n);
        std::iota(order.begin(), order.end(), std::size_t{0});
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t a, std::size_t b) { return row[a] > row[b]; });
        Ranked r{names[i], {}};
        for (std::size_t j = 0; j < k; ++j) r.top.emplace_back(classifier.labels()[order[j]], row[order[j]]);
        results.push_back(std::move(r));
      }
    }
    if (*json) {
      nlohmann::json out = nlohmann::json::array();
      for (const Ranked& r : results) {
        nlohmann::json top = nlohmann::json::array();
        for (const auto& [label, prob] : r.top) top.push_back({{"label", label}, {"probability", prob}});
        out.push_back({{"file", r.file}, {"top", top}});
      }
      std::cout << out.dump(2) << "\n";
    } else if (*csv) {
      std::cout << "file,rank,label,probability\n";
      for (const Ranked& r : results)
        for (std::size_t j = 0; j < r.top.size(); ++j)
          std::printf("\"%s\",%zu,\"%s\",%.6f\n", r.file.c_str(), j + 1, r.top[j].first.c_str(),
                      r.top[j].second);
    } else {
      std::vector<std::string> header{"FILE"};
      for (std::size_t j = 0; j < k; ++j) header.push_back("TOP" + std::to_string(j + 1));
      Table table(header);
      for (const Ranked& r : results) {
        std::vector<std::string> row{r.file};
        char buf[64];
        for (const auto& [label, prob] : r.top) {
          std::snprintf(buf, sizeof buf, " (%.1f%%)", 100 * prob);
          row.push_back(label + buf);
        }
        table.add(row);
      }
      table.print(std::cout);
    }
    if (failed > 0)
      throw Error(std::to_string(failed) + " of " + std::to_string(files->size()) +
                  " files could not be classified");
  });
}

}  // namespace pcv::cli
