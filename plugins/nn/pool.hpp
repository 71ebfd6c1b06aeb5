// Pooling ops of the nn plugin: max_pool1d/2d/3d, avg_pool1d/2d/3d (windowed, PyTorch semantics
// including ceil_mode), global_max_pool and global_avg_pool (over all spatial dims).
#pragma once

#include <pcv/sdk.hpp>

#include <array>
#include <cstdint>

namespace pcv::nn {

// The window of a pool over R spatial dims, stored for three: a 1-D or 2-D pool is run as a 3-D
// pool whose leading spatial dims have size 1 and a neutral window, so one loop nest serves every
// rank.
struct PoolWindow {
  using Dims = std::array<std::int64_t, 3>;
  Dims kernel{1, 1, 1}, stride{1, 1, 1}, padding{0, 0, 0}, dilation{1, 1, 1};
  bool ceil_mode = false;
};

// nn.max_poolRd: the maximum of each window (padding counts as -inf); backward sends each
// window's gradient to its first maximum.
template <int R>
class MaxPool {
 public:
  static sdk::OpSpec spec();
  explicit MaxPool(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  PoolWindow window_;
};

// nn.avg_poolRd: the mean of each window, dividing by the window size clipped to input plus
// padding (count_include_pad) or by the number of input elements it covers.
template <int R>
class AvgPool {
 public:
  static sdk::OpSpec spec();
  explicit AvgPool(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  PoolWindow window_;
  bool count_include_pad_;
};

// A reduction of every spatial dim of x [N, C, *S] to y [N, C] (keepdim: [N, C, 1, ...]).
// Kind supplies name, doc, reduce(x, first, last, plane_size, y) (y[p] for the planes p in
// [first, last)) and scatter_grad(plane, plane_size, y, dy, dx).
template <class Kind>
class GlobalPool {
 public:
  static sdk::OpSpec spec();
  explicit GlobalPool(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  bool keepdim_;
};

struct GlobalMaxKind;
struct GlobalAvgKind;

using MaxPool1d = MaxPool<1>;
using MaxPool2d = MaxPool<2>;
using MaxPool3d = MaxPool<3>;
using AvgPool1d = AvgPool<1>;
using AvgPool2d = AvgPool<2>;
using AvgPool3d = AvgPool<3>;
using GlobalMaxPool = GlobalPool<GlobalMaxKind>;
using GlobalAvgPool = GlobalPool<GlobalAvgKind>;

}  // namespace pcv::nn
