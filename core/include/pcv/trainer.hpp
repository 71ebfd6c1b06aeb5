// Training a point-cloud classifier from a config file: data, augmentation, loss, optimiser,
// schedule; checkpoints in the model-file format; a CSV log and PNG plots of the run.
#pragma once

#include <pcv/dataset.hpp>
#include <pcv/metrics.hpp>
#include <pcv/optimizer.hpp>
#include <pcv/registry.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace pcv {

struct TrainConfig {
  // "classification": one label per cloud, the model gives [B, classes].
  // "segmentation": a label per point (data folders of labelled clouds, see
  // PointCloudDataset::from_labelled_clouds; the model must name its labels), the model gives
  // [B, N, classes]; accuracy counts points and the best model is chosen by validation mIoU.
  std::string task = "classification";
  std::filesystem::path model;       // initial model file: graph, initial weights, labels optional
  std::filesystem::path train_data;  // a folder of class folders, or a file list
  std::filesystem::path val_data;    // optional; otherwise val_every
  int val_every = 0;                 // hold out every k-th sample of each class of train_data (0: none)
  // Items drawn from each cloud per epoch (segmentation with preprocessing.block_size: each is
  // another random block).
  std::int64_t blocks_per_cloud = 1;
  Preprocessing preprocessing;
  Augmentation augmentation;
  std::string loss_op = "nn.cross_entropy";
  AttrMap loss_attrs;
  // A stored tensor the loss takes between the model's output and the target: the class
  // centres of a margin loss (losses.margin_softmax), trained with the model. The loss's second
  // output (class probabilities) then gives the accuracy. Empty: loss(output, target).
  std::string loss_weight;
  OptimizerConfig optimizer;
  ScheduleConfig schedule;
  std::int64_t epochs = 10;
  std::int64_t batch_size = 32;
  std::int64_t max_steps_per_epoch = 0;  // 0: the whole training set every epoch
  std::uint64_t seed = 0;
  int threads = 0;  // 0: pcv::num_threads()
  std::filesystem::path output_dir = "runs/train";

  // JSON; relative paths are relative to the config file's folder. Unknown keys are errors.
  static TrainConfig from_file(const std::filesystem::path& path);
  static TrainConfig from_json(std::string_view json, const std::filesystem::path& base_dir,
                               const std::string& where);
  std::string to_json() const;
};

struct EpochStats {
  std::int64_t epoch = 0;  // 1-based
  double lr = 0, train_loss = 0, train_accuracy = 0;
  double val_loss = 0, val_accuracy = 0;  // NaN without validation data
  double val_miou = 0;                    // segmentation only; NaN otherwise
  double seconds = 0, samples_per_second = 0;
  std::int64_t skipped = 0;  // samples that failed to load
};

struct TrainProgress {
  std::int64_t epoch = 0, epochs = 0, step = 0, steps = 0;  // 1-based step within the epoch
  double loss = 0, accuracy = 0;                            // running means over the epoch so far
  double samples_per_second = 0, eta_seconds = 0;           // ETA of the whole run
};

class Trainer {
 public:
  Trainer(const Registry& registry, TrainConfig config);

  std::function<void(const TrainProgress&)> on_progress;
  std::function<void(const EpochStats&)> on_epoch;
  std::function<void(const std::string&)> on_warning;  // a file that failed to load, say

  // Trains; with resume, continues from output_dir/checkpoint.safetensors. Writes into
  // output_dir: model.safetensors (the best weights by validation accuracy, for segmentation
  // validation mIoU, or the last),
  // checkpoint.safetensors (after every epoch), log.csv, curves.png and confusion.png.
  void run(bool resume = false);

  const std::vector<EpochStats>& history() const { return history_; }
  const ConfusionMatrix& last_confusion() const { return confusion_; }

 private:
  const Registry& registry_;
  TrainConfig config_;
  std::vector<EpochStats> history_;
  ConfusionMatrix confusion_;
};

}  // namespace pcv
