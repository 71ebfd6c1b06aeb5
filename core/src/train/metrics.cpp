#include <pcv/error.hpp>
#include <pcv/metrics.hpp>

#include <cmath>
#include <numeric>

namespace pcv {

void ConfusionMatrix::add(std::int64_t truth, std::int64_t predicted) {
  const auto n = static_cast<std::int64_t>(n_);
  if (truth < 0 || truth >= n || predicted < 0 || predicted >= n)
    throw Error("confusion matrix of " + std::to_string(n_) + " classes: class " + std::to_string(truth) +
                " / " + std::to_string(predicted) + " is out of range");
  ++counts_[static_cast<std::size_t>(truth) * n_ + static_cast<std::size_t>(predicted)];
}

std::int64_t ConfusionMatrix::total() const {
  return std::accumulate(counts_.begin(), counts_.end(), std::int64_t{0});
}

double ConfusionMatrix::accuracy() const {
  std::int64_t correct = 0;
  for (std::size_t i = 0; i < n_; ++i) correct += count(i, i);
  const std::int64_t all = total();
  return all > 0 ? double(correct) / double(all) : 0.0;
}

std::vector<double> ConfusionMatrix::per_class_accuracy() const {
  std::vector<double> out(n_, std::nan(""));
  for (std::size_t i = 0; i < n_; ++i) {
    std::int64_t row = 0;
    for (std::size_t j = 0; j < n_; ++j) row += count(i, j);
    if (row > 0) out[i] = double(count(i, i)) / double(row);
  }
  return out;
}

namespace {

double mean_of_defined(const std::vector<double>& values) {
  double sum = 0;
  int seen = 0;
  for (double a : values)
    if (!std::isnan(a)) {
      sum += a;
      ++seen;
    }
  return seen > 0 ? sum / seen : 0.0;
}

}  // namespace

double ConfusionMatrix::mean_class_accuracy() const { return mean_of_defined(per_class_accuracy()); }

std::vector<double> ConfusionMatrix::iou() const {
  std::vector<double> out(n_, std::nan(""));
  for (std::size_t c = 0; c < n_; ++c) {
    std::int64_t union_count = -count(c, c);  // counted in both the row and the column
    for (std::size_t j = 0; j < n_; ++j) union_count += count(c, j) + count(j, c);
    if (union_count > 0) out[c] = double(count(c, c)) / double(union_count);
  }
  return out;
}

double ConfusionMatrix::mean_iou() const { return mean_of_defined(iou()); }

}  // namespace pcv
