// nn.batch_norm: batch normalisation over N and the spatial dims, per channel (BatchNorm1d/2d/3d).
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::nn {

// Inputs: x [N, C, *], weight? [C], bias? [C], running_mean? [C] and running_var? [C] (state).
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
};

}  // namespace pcv::nn
