// Classification and segmentation metrics: the confusion matrix and the accuracies and IoUs read
// from it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pcv {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(std::size_t classes = 0) : n_(classes), counts_(classes * classes, 0) {}

  void add(std::int64_t truth, std::int64_t predicted);
  std::size_t classes() const { return n_; }
  // Samples of class `truth` predicted as `predicted`.
  std::int64_t count(std::size_t truth, std::size_t predicted) const {
    return counts_[truth * n_ + predicted];
  }
  std::int64_t total() const;
  double accuracy() const;  // overall: correct / total (0 when empty)
  // Per class: correct / samples of that class; NaN for a class without samples.
  std::vector<double> per_class_accuracy() const;
  double mean_class_accuracy() const;  // over classes that have samples
  // Per class: intersection over union, TP / (TP + FP + FN); NaN for a class neither present nor
  // predicted.
  std::vector<double> iou() const;
  double mean_iou() const;  // over classes whose IoU is defined (0 when none is)

 private:
  std::size_t n_;
  std::vector<std::int64_t> counts_;
};

}  // namespace pcv
