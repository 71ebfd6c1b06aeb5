// Inference with a classification model file: preprocessing from the model, class
// probabilities, and evaluation over a labelled dataset.
#pragma once

#include <pcv/dataset.hpp>
#include <pcv/metrics.hpp>
#include <pcv/model.hpp>
#include <pcv/registry.hpp>
#include <pcv/runtime.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace pcv {

class Classifier {
 public:
  // The model must have one graph input, labels, and a first output of shape [B, labels]. The
  // classifier takes the model over: batch norms are folded into its weights in place.
  Classifier(const Registry& registry, Model model, const std::string& where);

  const std::vector<std::string>& labels() const { return model_.labels; }
  const Preprocessing& preprocessing() const { return preprocessing_; }

  // Softmax probabilities [B, labels] (float64) for preprocessed clouds stacked as [B, ...].
  Tensor probabilities(const Tensor& batch, int threads = 0);

 private:
  Model model_;
  Preprocessing preprocessing_;
  std::string where_;
  std::unique_ptr<GraphRuntime> runtime_;
};

struct Evaluation {
  ConfusionMatrix confusion;
  std::vector<std::string> failures;  // files that could not be read, with the reason
};

// Classifies every sample of `data` (whose labels must be the model's or a subset of them).
Evaluation evaluate(Classifier& classifier, const PointCloudDataset& data, std::int64_t batch_size,
                    int threads,
                    const std::function<void(std::size_t done, std::size_t total)>& progress = {});

}  // namespace pcv
