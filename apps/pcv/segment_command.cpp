// pcv segment MODEL CLOUDS... --out PATH: per-point labels, written as a labelled, coloured cloud.
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>
#include <pcv/segmenter.hpp>
#include <pcv/threads.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.hpp"
#include "progress_bar.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

namespace fs = std::filesystem;

// One input: --out is the file (or an existing folder); several: --out is a folder and each cloud
// keeps its stem.
fs::path output_for(const fs::path& input, const fs::path& out, bool many) {
  std::error_code ec;
  return many || fs::is_directory(out, ec) ? out / (input.stem().string() + ".ply") : out;
}

}  // namespace

void add_segment_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd = app.add_subcommand(
      "segment",
      "Label every point of each cloud with a segmentation model file and write the cloud with a\n"
      "`label` field and a colour per class (.ply or .pcd by the --out extension). With several\n"
      "clouds --out is a folder and each output is <stem>.ply. A cloud that cannot be read is\n"
      "reported and skipped; the others are still written. Large clouds are processed in tiles of\n"
      "the model's block size. Example:\n"
      "  pcv segment data/models/pointconv_seg_ground.safetensors scan.pcd --out labelled.ply");
  auto model_path = std::make_shared<std::string>();
  auto files = std::make_shared<std::vector<std::string>>();
  auto out = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto batch = std::make_shared<std::int64_t>(8);
  cmd->add_option("model", *model_path, "Segmentation model file (.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("clouds", *files, "Clouds to label (.pcd, .ply, .txt/.xyz, .bin)")->required();
  cmd->add_option("-o,--out", *out, "Output cloud (.ply/.pcd), or a folder for several clouds")->required();
  cmd->add_flag("--json", *json, "Print each file's point count per class as JSON");
  cmd->add_option("--batch-size", *batch, "Tiles per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->callback([&options, model_path, files, out, json, batch] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    Segmenter segmenter(registry, Model::load(*model_path), *model_path);
    const bool many = files->size() > 1;
    if (many) {
      // Outputs are named by stem: two inputs with one stem would overwrite each other's result.
      std::map<std::string, std::string> by_stem;
      for (const std::string& f : *files)
        if (const auto [it, fresh] = by_stem.emplace(fs::path(f).stem().string(), f); !fresh)
          throw Error(f + " and " + it->second + " would both be written to " +
                      (fs::path(*out) / (it->first + ".ply")).string() + "; segment them in separate runs");
      fs::create_directories(*out);
    }
    const auto& labels = segmenter.labels();
    std::vector<std::string> header{"FILE", "POINTS"};
    header.insert(header.end(), labels.begin(), labels.end());
    Table table(header);
    nlohmann::json report = nlohmann::json::array();
    std::size_t failed = 0;
    for (const std::string& file : *files) {
      try {
        PointCloud cloud = read_point_cloud(file);
        ProgressBar bar("segment");
        cloud.labels =
            segmenter.segment(cloud, num_threads(), *batch, [&](std::size_t done, std::size_t total) {
              bar.update(double(done), double(total),
                         std::to_string(done) + "/" + std::to_string(total) + " tiles");
            });
        bar.finish();
        const fs::path target = output_for(file, *out, many);
        if (!target.parent_path().empty()) fs::create_directories(target.parent_path());
        write_point_cloud(target, cloud);
        std::vector<std::int64_t> counts(labels.size(), 0);
        for (const std::int32_t l : cloud.labels) ++counts[static_cast<std::size_t>(l)];
        std::vector<std::string> row{target.string(), std::to_string(cloud.size())};
        nlohmann::json per_class = nlohmann::json::object();
        for (std::size_t c = 0; c < labels.size(); ++c) {
          char buf[48];
          std::snprintf(buf, sizeof buf, "%lld (%.1f%%)", static_cast<long long>(counts[c]),
                        100.0 * double(counts[c]) / double(cloud.size()));
          row.push_back(buf);
          per_class[labels[c]] = counts[c];
        }
        table.add(row);
        report.push_back(
            {{"file", file}, {"out", target.string()}, {"points", cloud.size()}, {"counts", per_class}});
      } catch (const Error& e) {
        std::fprintf(stderr, "pcv: error: %s\n", e.what());
        ++failed;
      }
    }
    if (*json)
      std::cout << report.dump(2) << "\n";
    else
      table.print(std::cout);
    if (failed > 0)
      throw Error(std::to_string(failed) + " of " + std::to_string(files->size()) +
                  " clouds could not be segmented");
  });
}

}  // namespace pcv::cli
