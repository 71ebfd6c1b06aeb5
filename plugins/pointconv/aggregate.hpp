// The efficient PointConv product (Wu et al., Sec. 3.3): per centre, the neighbours' features,
// scaled by their density, weighted by the WeightNet output and summed over the neighbourhood.
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::pointconv {

// x [B, S, K, C], weights [B, S, K, M], scale [B, S, K, 1] (optional) →
// y [B, S, C·M], y[b, s, c·M + m] = Σ_k x[b, s, k, c] · scale[b, s, k] · weights[b, s, k, m].
class Aggregate {
 public:
  static sdk::OpSpec spec();
  explicit Aggregate(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace pcv::pointconv
