// Classification losses of the nn plugin with class-index targets: cross_entropy and nll_loss.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>

namespace pcv::nn {

enum class Reduction { kMean, kSum, kNone };

// The attributes both losses share (label_smoothing stays 0 for nll_loss).
struct LossOptions {
  Reduction reduction = Reduction::kMean;
  double label_smoothing = 0.0;
  std::int64_t ignore_index = -100;
};

// F.cross_entropy(logits, target, weight): log_softmax over the class dim, then the weighted
// negative log-likelihood of the target class, optionally mixed with label smoothing.
class CrossEntropy {
 public:
  static sdk::OpSpec spec();
  explicit CrossEntropy(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  LossOptions options_;
};

// F.nll_loss(log_probs, target, weight): minus the weighted log-probability of the target class.
class NllLoss {
 public:
  static sdk::OpSpec spec();
  explicit NllLoss(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  LossOptions options_;
};

}  // namespace pcv::nn
