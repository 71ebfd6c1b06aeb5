// pcv eval MODEL DATA: accuracy of a classifier over labelled class folders or a list file, or the
// per-class IoU of a segmentation model over a folder of labelled clouds.
#include <pcv/classifier.hpp>
#include <pcv/error.hpp>
#include <pcv/segmenter.hpp>
#include <pcv/threads.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "progress_bar.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

void print_report(const Evaluation& e, const std::vector<std::string>& labels) {
  const ConfusionMatrix& m = e.confusion;
  std::printf("overall accuracy %.2f%% (%lld samples), mean class accuracy %.2f%%\n\n", 100 * m.accuracy(),
              static_cast<long long>(m.total()), 100 * m.mean_class_accuracy());
  Table per_class({"CLASS", "ACCURACY", "SAMPLES"});
  const auto acc = m.per_class_accuracy();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::int64_t n = 0;
    for (std::size_t j = 0; j < labels.size(); ++j) n += m.count(i, j);
    if (n == 0) continue;
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f%%", 100 * acc[i]);
    per_class.add({labels[i], buf, std::to_string(n)});
  }
  per_class.print(std::cout);
  std::cout << "\nconfusion matrix (rows: truth, columns: prediction)\n";
  std::vector<std::string> header{""};
  for (std::size_t j = 0; j < labels.size(); ++j) header.push_back(std::to_string(j));
  Table confusion(header);
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::vector<std::string> row{std::to_string(i) + " " + labels[i]};
    for (std::size_t j = 0; j < labels.size(); ++j) row.push_back(std::to_string(m.count(i, j)));
    confusion.add(row);
  }
  confusion.print(std::cout);
}

nlohmann::json report_json(const Evaluation& e, const std::vector<std::string>& labels) {
  const ConfusionMatrix& m = e.confusion;
  nlohmann::json per_class = nlohmann::json::object();
  const auto acc = m.per_class_accuracy();
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (!std::isnan(acc[i])) per_class[labels[i]] = acc[i];
  nlohmann::json matrix = nlohmann::json::array();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    nlohmann::json row = nlohmann::json::array();
    for (std::size_t j = 0; j < labels.size(); ++j) row.push_back(m.count(i, j));
    matrix.push_back(row);
  }
  return {{"accuracy", m.accuracy()}, {"mean_class_accuracy", m.mean_class_accuracy()},
          {"per_class", per_class},   {"n", m.total()},
          {"labels", labels},         {"confusion", matrix},
          {"failures", e.failures}};
}

void print_segmentation_report(const Evaluation& e, const std::vector<std::string>& labels) {
  const ConfusionMatrix& m = e.confusion;
  std::printf("mIoU %.2f%%, overall accuracy %.2f%% (%lld points)\n\n", 100 * m.mean_iou(),
              100 * m.accuracy(), static_cast<long long>(m.total()));
  Table per_class({"CLASS", "IOU", "ACCURACY", "POINTS"});
  const auto iou = m.iou();
  const auto acc = m.per_class_accuracy();
  for (std::size_t i = 0; i < labels.size(); ++i) {
    std::int64_t n = 0;
    for (std::size_t j = 0; j < labels.size(); ++j) n += m.count(i, j);
    char a[32], b[32];
    std::snprintf(a, sizeof a, "%.2f%%", 100 * iou[i]);
    std::snprintf(b, sizeof b, "%.2f%%", 100 * acc[i]);
    per_class.add({labels[i], std::isnan(iou[i]) ? "-" : a, std::isnan(acc[i]) ? "-" : b, std::to_string(n)});
  }
  per_class.print(std::cout);
}

nlohmann::json segmentation_json(const Evaluation& e, const std::vector<std::string>& labels) {
  const ConfusionMatrix& m = e.confusion;
  nlohmann::json iou = nlohmann::json::object();
  const auto values = m.iou();
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (!std::isnan(values[i])) iou[labels[i]] = values[i];
  nlohmann::json report = report_json(e, labels);
  report["miou"] = m.mean_iou();
  report["iou"] = iou;
  return report;
}

// --record: the report, without the per-file failures, as the model file's pcv.evaluation
// metadata; the file is rewritten atomically.
void record_evaluation(const std::string& model_path, const std::string& data, nlohmann::json report) {
  report.erase("failures");
  report["data"] = data;
  Model model = Model::load(model_path);
  model.metadata[kEvaluationKey] = report.dump();
  model.save(model_path);
  std::fprintf(stderr, "recorded the evaluation in %s (%s)\n", model_path.c_str(), kEvaluationKey);
}

using Progress = std::function<void(std::size_t done, std::size_t total)>;

// What both kinds of model share: the evaluation under a progress bar, skipped files as warnings,
// the report (or its JSON) and, with --record, the JSON stored in the model file.
void run_evaluation(const std::function<Evaluation(const Progress&)>& evaluate_with,
                    const std::function<nlohmann::json(const Evaluation&)>& to_json,
                    const std::function<void(const Evaluation&)>& print, bool json, bool record,
                    const std::string& model_path, const std::string& data_name) {
  ProgressBar bar("eval");
  const Evaluation e = evaluate_with([&](std::size_t done, std::size_t total) {
    bar.update(double(done), double(total), std::to_string(done) + "/" + std::to_string(total) + " clouds");
  });
  bar.finish();
  for (const std::string& f : e.failures) std::fprintf(stderr, "pcv: warning: skipped %s\n", f.c_str());
  const nlohmann::json report = to_json(e);
  if (json)
    std::cout << report.dump(2) << "\n";
  else
    print(e);
  if (record) record_evaluation(model_path, data_name, report);
}

bool is_segmentation(const Model& model) {
  const auto task = model.metadata.find(kTaskKey);
  return task != model.metadata.end() && task->second == "segmentation";
}

}  // namespace

void add_eval_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd =
      app.add_subcommand("eval",
                         "Evaluate a classifier on DATA: a folder with one sub-folder of clouds per class\n"
                         "(the ModelNet layout; .pcd, .ply, .txt/.xyz, .bin), or a list file with one\n"
                         "`path label` per line (a held-out split, say; relative paths from the list's\n"
                         "folder). Prints overall and per-class accuracy and the confusion matrix.\n"
                         "For a segmentation model, DATA is a folder of clouds with a per-point `label`\n"
                         "field (see pcv label); prints per-class IoU and mIoU, with --json\n"
                         "{\"miou\": ..., \"iou\": {class: ...}, \"accuracy\": ..., ...}.");
  auto model_path = std::make_shared<std::string>();
  auto dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto batch = std::make_shared<std::int64_t>(32);
  auto record = std::make_shared<bool>(false);
  auto held_out = std::make_shared<int>(0);
  cmd->add_option("model", *model_path, "Model file (.safetensors)")->required()->check(CLI::ExistingFile);
  cmd->add_option("data", *dir,
                  "Folder of class folders, or a list file of `path label` lines; for a segmentation model, "
                  "a folder of labelled clouds")
      ->required()
      ->check(CLI::ExistingPath);
  cmd->add_flag("--json", *json, "Print {\"accuracy\", \"per_class\", \"n\", ...} as JSON");
  cmd->add_option("--batch-size", *batch, "Clouds per forward pass")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_flag("--record", *record,
                "Also store the result (as --json gives it, with DATA as given) in the model file's "
                "pcv.evaluation metadata, rewriting the file atomically");
  cmd->add_option("--held-out", *held_out,
                  "Classifiers: evaluate only the samples that training with \"val_every\": K held out "
                  "(the K-th, 2K-th, ... of each class in name order)")
      ->check(CLI::Range(2, 1000000));
  cmd->callback([&options, model_path, dir, json, batch, record, held_out] {
    Registry registry;
    load_plugins(registry, options, /*quiet=*/false);
    Model model = Model::load(*model_path);
    if (is_segmentation(model)) {
      if (*held_out > 0)
        throw Error("--held-out is for classifiers; give a segmentation model a folder of its own");
      Segmenter segmenter(registry, std::move(model), *model_path);
      const PointCloudDataset data = PointCloudDataset::from_labelled_clouds(*dir, segmenter.labels());
      run_evaluation(
          [&](const Progress& progress) { return evaluate(segmenter, data, num_threads(), progress); },
          [&](const Evaluation& e) { return segmentation_json(e, segmenter.labels()); },
          [&](const Evaluation& e) { print_segmentation_report(e, segmenter.labels()); }, *json, *record,
          *model_path, *dir);
      return;
    }
    Classifier classifier(registry, std::move(model), *model_path);
    PointCloudDataset data = std::filesystem::is_directory(*dir)
                                 ? PointCloudDataset::from_class_folders(*dir)
                                 : PointCloudDataset::from_file_list(*dir, classifier.labels());
    if (*held_out > 0) data = data.split_every(*held_out).second;
    run_evaluation(
        [&](const Progress& progress) { return evaluate(classifier, data, *batch, num_threads(), progress); },
        [&](const Evaluation& e) { return report_json(e, classifier.labels()); },
        [&](const Evaluation& e) { print_report(e, classifier.labels()); }, *json, *record, *model_path,
        *held_out > 0 ? *dir + " --held-out " + std::to_string(*held_out) : *dir);
  });
}

}  // namespace pcv::cli
