// upsample.interpolate: resizing of the 1 to 3 spatial dims of x [N, C, *S] with PyTorch 1.13's
// F.interpolate semantics (nn.Upsample): nearest, nearest-exact, linear, bilinear, trilinear and
// bicubic, sized by `size` or `scale_factor`, with align_corners and recompute_scale_factor.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <vector>

namespace pcv::upsample {

enum class InterpolationMode { kNearest, kNearestExact, kLinear, kBilinear, kTrilinear, kBicubic };

// upsample.interpolate. Every mode is separable: along each spatial dim an output index reads 1
// (nearest), 2 (linear) or 4 (bicubic) input indices with fixed weights, so forward and backward
// run from per-dim tables of indices and weights built once per call. Backward is the adjoint of
// forward (a weighted scatter-add of dy).
class Interpolate {
 public:
  static sdk::OpSpec spec();
  explicit Interpolate(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  InterpolationMode mode_;
  std::vector<std::int64_t> size_;    // empty: scale_factor_ is given
  std::vector<double> scale_factor_;  // empty: size_ is given
  bool align_corners_;
  bool recompute_scale_factor_;
};

}  // namespace pcv::upsample
