// Feature propagation of the pointconv plugin (PointNet++'s three_nn + three_interpolate, the
// first step of PointDeconv): features of a sparse level spread to a dense one.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>

namespace pcv::pointconv {

// xyz [B, N, 3] (dense), sparse_xyz [B, S, 3], features [B, S, C] → y [B, N, C]: each dense point
// takes the mean of its k nearest sparse points' features weighted by inverse squared distance.
class KnnInterpolate {
 public:
  static sdk::OpSpec spec();
  explicit KnnInterpolate(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t k_;
};

}  // namespace pcv::pointconv
