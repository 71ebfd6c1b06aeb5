// nn.batch_norm: batch normalisation per channel over every other dim (BatchNorm1d/2d/3d, or
// channels last).
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>

namespace pcv::nn {

// Inputs: x [N, C, *] (attribute dim = 1) or [*, C] (dim = -1, channels last), weight? [C],
// bias? [C], running_mean? [C] and running_var? [C] (state).
// Training mode, or no running statistics: normalise with the batch mean and biased variance;
// training mode also updates the running statistics in place. Eval mode with running statistics:
// normalise with those.
class BatchNorm {
 public:
  static sdk::OpSpec spec();
  explicit BatchNorm(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  double eps_;
  double momentum_;
  std::int64_t dim_;  // the channel dim: 1, or the last one given as -1 or rank - 1
};

}  // namespace pcv::nn
