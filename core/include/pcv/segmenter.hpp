// Inference with a segmentation model file: per-point labels for whole clouds of any size, and
// evaluation (per-class IoU) over labelled clouds.
#pragma once

#include <pcv/classifier.hpp>
#include <pcv/dataset.hpp>
#include <pcv/model.hpp>
#include <pcv/point_cloud.hpp>
#include <pcv/registry.hpp>
#include <pcv/runtime.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pcv {

class Segmenter {
 public:
  // The model must be a segmentation model (pcv.task metadata) with one graph input, labels, and a
  // first output of shape [B, N, labels]. Batch norms are folded into its weights in place.
  Segmenter(const Registry& registry, Model model, const std::string& where);

  const std::vector<std::string>& labels() const { return model_.labels; }
  const Preprocessing& preprocessing() const { return preprocessing_; }

  // A label for every point. The model saw blocks of preprocessing().block_size (0: whole clouds),
  // so the cloud is cut into such tiles in x-y, overlapping by half; each tile is sampled to
  // num_points as in training and run, every tile point takes the class probabilities of its
  // nearest sampled point, and a point's label is the argmax of its tiles' summed probabilities.
  // Deterministic. `batch_size` tiles go through the network at once; `progress` hears of each
  // batch (tiles done, tiles in all).
  std::vector<std::int32_t> segment(
      const PointCloud& cloud, int threads = 0, std::int64_t batch_size = 8,
      const std::function<void(std::size_t done, std::size_t total)>& progress = {});

 private:
  Model model_;
  Preprocessing preprocessing_;
  std::string where_;
  std::unique_ptr<GraphRuntime> runtime_;
};

// Segments every cloud of a per-point dataset (PointCloudDataset::from_labelled_clouds, with the
// model's labels) and counts every point in the confusion matrix; unreadable or unlabelled files
// are listed in failures and skipped.
Evaluation evaluate(Segmenter& segmenter, const PointCloudDataset& data, int threads,
                    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace pcv
