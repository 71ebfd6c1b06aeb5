// Inverse point density of the pointconv plugin (Gaussian kernel density estimate) and the
// per-neighbourhood density scale PointConv feeds its DensityNet. Both are functions of the
// coordinates alone, which are data: neither has a backward.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <string>

namespace pcv::pointconv {

// xyz [B, N, 3] → inverse [B, N] = 1 / density, by one of two estimates (attribute `mode`):
//   "all_pairs" (official PyTorch code): mean over all N points of exp(-d²/(2h²)) / (2.5 h),
//               h = bandwidth; O(N²) time, O(N) memory;
//   "ball" (TF original): mean over the first max_neighbours points within radius of
//          exp(-d²/(2σ)) / ((2π)^{3/2} σ^{3/2}), σ = bandwidth (a variance); O(N·K) with a grid.
class Density {
 public:
  static sdk::OpSpec spec();
  explicit Density(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  bool ball_;
  double bandwidth_, radius_;
  std::int64_t max_neighbours_;
};

// inverse [B, N] and indices [B, S, K] (absent: all points, S = 1) → scale [B, S, K, 1]:
// inverse[indices] divided by its maximum over the neighbourhood.
class DensityScale {
 public:
  static sdk::OpSpec spec();
  explicit DensityScale(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
};

}  // namespace pcv::pointconv
