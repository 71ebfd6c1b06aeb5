// pcv verify EMBEDDINGS PAIRS: face-verification accuracy (k-fold), ROC, AUC and TAR at FAR.
#include <pcv/embedder.hpp>
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/safetensors.hpp>
#include <pcv/threads.hpp>
#include <pcv/verification.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.hpp"
#include "progress_bar.hpp"
#include "table.hpp"

namespace pcv::cli {
namespace {

constexpr const char* kFooter =
    R"(Input, either:
  EMBEDDINGS  a .safetensors file with a 2-D float32/float64 tensor [N, d] named "embeddings"
              (or its only tensor); row r is the embedding of image r, and
  PAIRS       a text file, one pair per line: "i j same" (0-based rows, same = 1 for the same
              identity, 0 for different ones); blank lines and '#' comments are skipped; or
  MODEL       a face-embedding model file (pcv train, image preprocessing), and
  PAIRS       one pair of images per line: "image1 image2 same|diff" (paths relative to the pairs
              file). A model that records a face alignment (face_embed_orl does) detects each
              image's largest face, finds its landmarks and aligns it as its training crops were
              (pcv faces align with the same settings); an image where no face is found takes the
              recorded fallback: "resize" treats it as a face crop already (as ORL's are) and
              resizes it to the crop size; such images are listed after the report. A model
              without one embeds the images as they are: give aligned crops. Each embedding is
              the sum of those of the image and its mirror image (--no-flip: the image alone).
Protocol (insightface's eval/verification.py):
  Rows are L2-normalised. The score of a pair is the squared distance ||e1 - e2||^2 in [0, 4]
  (a pair is "same" when it is below the threshold), or with --metric cosine the cosine
  similarity in [-1, 1] ("same" when above the threshold).
  Accuracy: the pairs are split in file order, without shuffling, into --folds contiguous folds
  (the first N % K folds one pair larger). For each fold, the threshold with the most correct
  decisions on the other folds is applied to it; candidates are 0, 0.01, ..., 3.99 (cosine:
  -1, -0.995, ..., 1); among equally good ones the strictest wins. Reported: the mean and the
  population standard deviation of the fold accuracies, and the mean threshold.
  ROC: over all pairs, one point per distinct score (tied pairs are accepted together), AUC by
  the trapezoid rule. TAR@FAR: the largest TAR at a point whose FAR is at most the target; n/a
  when there are fewer than 1/FAR different-identity pairs.
  --roc writes the curve as a PNG: FAR on a log axis from 1e-4 to 1, TAR linear, AUC in the legend.
JSON (--json): {"pairs", "accuracy", "accuracy_std", "threshold", "auc",
  "tar_at_far": {"0.1", "0.01", "0.001"} (null for n/a), "metric", "positives", "negatives",
  "folds": [{"begin", "end", "threshold", "accuracy"}]}; with a model also "no_face": [images
  that took the fallback].)";

std::string far_key(double far) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", far);
  return buf;
}

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

nlohmann::json report_json(const VerificationReport& r) {
  nlohmann::json tar = nlohmann::json::object();
  for (const TarAtFar& t : r.tar_at_far)
    tar[far_key(t.far_target)] = t.tar ? nlohmann::json(*t.tar) : nullptr;
  nlohmann::json folds = nlohmann::json::array();
  for (const VerificationFold& f : r.folds)
    folds.push_back(
        {{"begin", f.begin}, {"end", f.end}, {"threshold", f.threshold}, {"accuracy", f.accuracy}});
  return {{"pairs", r.pairs},
          {"accuracy", r.accuracy},
          {"accuracy_std", r.accuracy_std},
          {"threshold", r.threshold},
          {"auc", r.auc},
          {"tar_at_far", tar},
          {"metric", verification_metric_name(r.metric)},
          {"positives", r.positives},
          {"negatives", r.negatives},
          {"folds", folds}};
}

void print_report(const VerificationReport& r, const std::string& pairs_file, const std::string& roc_file) {
  const bool cosine = r.metric == VerificationMetric::cosine;
  std::cout << pairs_file << ": " << r.pairs << " pairs (" << r.positives << " same, " << r.negatives
            << " different)\n"
            << "metric: "
            << (cosine ? "cosine similarity of L2-normalised embeddings (same if > threshold)"
                       : "squared distance of L2-normalised embeddings, in [0, 4] (same if < threshold)")
            << "\n\n";
  std::cout << "accuracy  " << fixed(100 * r.accuracy, 2) << "% +- " << fixed(100 * r.accuracy_std, 2)
            << "% (" << r.folds.size() << " folds, mean threshold " << fixed(r.threshold, cosine ? 3 : 2)
            << ")\n"
            << "AUC       " << fixed(r.auc, 4) << "\n\n";
  Table tar({"FAR", "TAR", "THRESHOLD", "AT FAR"});
  std::vector<std::string> notes;
  for (const TarAtFar& t : r.tar_at_far) {
    if (t.tar) {
      tar.add({far_key(t.far_target), fixed(*t.tar, 4), far_key(t.threshold), far_key(t.far)});
    } else {
      tar.add({far_key(t.far_target), "n/a"});
      notes.push_back("n/a: FAR " + far_key(t.far_target) + " needs at least " +
                      far_key(std::ceil(1 / t.far_target - 1e-9)) + " different pairs, there are " +
                      std::to_string(r.negatives));
    }
  }
  tar.print(std::cout);
  for (const std::string& n : notes) std::cout << n << "\n";
  std::cout << "\n";
  Table folds({"FOLD", "PAIRS", "THRESHOLD", "ACCURACY"});
  for (std::size_t i = 0; i < r.folds.size(); ++i) {
    const VerificationFold& f = r.folds[i];
    folds.add({std::to_string(i + 1), std::to_string(f.begin) + "-" + std::to_string(f.end - 1),
               fixed(f.threshold, cosine ? 3 : 2), fixed(100 * f.accuracy, 2) + "%"});
  }
  folds.print(std::cout);
  if (!roc_file.empty()) std::cout << "\nROC curve: " << roc_file << "\n";
}

}  // namespace

void add_verify_command(CLI::App& app, const PluginOptions& options) {
  auto* cmd =
      app.add_subcommand("verify",
                         "Face-verification metrics of embeddings over labelled pairs: k-fold accuracy\n"
                         "(LFW protocol), ROC, AUC and TAR at FAR 1e-1, 1e-2, 1e-3.");
  auto embeddings = std::make_shared<std::string>();
  auto pairs = std::make_shared<std::string>();
  auto metric = std::make_shared<std::string>("squared_l2");
  auto folds = std::make_shared<int>(10);
  auto roc = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto no_flip = std::make_shared<bool>(false);
  cmd->add_option("embeddings", *embeddings, "Embeddings [N, d] or an embedding model (.safetensors)")
      ->required()
      ->check(CLI::ExistingFile);
  auto* pairs_arg = cmd->add_option("pairs", *pairs, "Pairs file (see below)")->check(CLI::ExistingFile);
  cmd->add_option("--pairs", *pairs, "The pairs file, given as an option")
      ->check(CLI::ExistingFile)
      ->excludes(pairs_arg);
  cmd->add_option("--metric", *metric,
                  "squared_l2 (default; also 'distance'): ||e1 - e2||^2, or cosine: e1 . e2")
      ->check(CLI::IsMember({"squared_l2", "distance", "cosine"}));
  cmd->add_option("--folds", *folds, "Folds for the accuracy (default 10)")->check(CLI::Range(2, 1 << 30));
  cmd->add_option("--roc", *roc, "Write the ROC curve to this PNG")->type_name("PATH.png");
  cmd->add_flag("--json", *json, "Print the numbers as JSON (see below)");
  cmd->add_flag("--no-flip", *no_flip,
                "With a model: embed each image alone, not as the sum of the embeddings of the image "
                "and its mirror image (insightface's protocol, the default)");
  cmd->footer(kFooter);
  cmd->callback([&options, embeddings, pairs, metric, folds, roc, json, no_flip] {
    if (pairs->empty()) throw Error("verify needs a pairs file (PAIRS or --pairs)");
    VerificationOptions settings;
    settings.metric = parse_verification_metric(*metric);
    settings.folds = *folds;
    const bool model = SafetensorsFile::open(*embeddings).metadata().contains(kGraphKey);
    Tensor e;
    std::vector<VerificationPair> list;
    std::vector<std::string> no_face;  // images the model's face-alignment fallback took
    if (model) {
      Registry registry;
      load_plugins(registry, options, /*quiet=*/false);
      const ImagePairs image_pairs = read_image_pairs(*pairs);
      ProgressBar bar("embed");
      EmbedOptions embed_options;
      embed_options.threads = num_threads();
      embed_options.flip_sum = !*no_flip;
      Embeddings embedded =
          embed_images(registry, Model::load(*embeddings), *embeddings, image_pairs.images, embed_options,
                       [&](std::size_t done, std::size_t total) {
                         bar.update(double(done), double(total),
                                    std::to_string(done) + "/" + std::to_string(total) + " images");
                       });
      bar.finish();
      e = std::move(embedded.values);
      for (std::size_t i : embedded.fell_back) no_face.push_back(image_pairs.images[i].string());
      list = image_pairs.pairs;
    } else {
      e = read_embeddings(*embeddings);
      list = read_verification_pairs(*pairs, e.shape()[0]);
    }
    if (list.size() < std::size_t(*folds))
      throw Error(*pairs + ": " + std::to_string(list.size()) + " pairs, fewer than the " +
                  std::to_string(*folds) + " folds (see --folds)");
    const std::vector<double> scores = verification_scores(e, list, settings.metric, *embeddings, *pairs);
    std::vector<std::uint8_t> same;
    for (const VerificationPair& p : list) same.push_back(p.same ? 1 : 0);
    const VerificationReport report = verify(scores, same, settings);
    if (!roc->empty()) {
      const std::filesystem::path parent = std::filesystem::path(*roc).parent_path();
      std::error_code ec;
      if (!parent.empty()) std::filesystem::create_directories(parent, ec);
      if (ec) throw Error(*roc + ": cannot create the directory " + parent.string() + ": " + ec.message());
      plot_roc(*roc, report);
    }
    if (*json) {
      nlohmann::json j = report_json(report);
      if (model) j["no_face"] = no_face;
      std::cout << j.dump(2) << "\n";
    } else {
      print_report(report, *pairs, *roc);
      if (!no_face.empty()) {
        std::cout << "\n"
                  << no_face.size() << " of the images had no face found and were used through the "
                  << "model's fallback (taken as face crops):\n";
        for (const std::string& f : no_face) std::cout << "  " << f << "\n";
      }
    }
  });
}

}  // namespace pcv::cli
