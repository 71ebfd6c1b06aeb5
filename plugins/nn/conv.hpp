// Convolutions of the nn plugin: conv1d, conv2d and conv3d (F.conv{1,2,3}d), forward and backward.
//
// float32 runs on oneDNN, with the primitives cached per input shape; float64 (which oneDNN lacks
// on the CPU) runs on the reference path of conv_reference.hpp (vol2col + GEMM). Setting the
// environment variable PCV_NN_CONV_REFERENCE=1 when a kernel is created sends its float32 calls
// down the reference path too, which is how the tests cross-check the two.
#pragma once

#include <pcv/sdk.hpp>

#include <array>
#include <cstdint>
#include <memory>

#include "kernels/onednn_conv.hpp"

namespace pcv::nn {

// One convolution op over D spatial dims, registered as nn.conv1d, nn.conv2d and nn.conv3d.
template <int D>
class Conv {
 public:
  static sdk::OpSpec spec();
  explicit Conv(const sdk::Attributes& attrs);
  ~Conv();
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  // The geometry of a call, or an error naming the input that does not fit.
  kernels::ConvGeometry geometry(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
                                 const std::int64_t* bias_size) const;
  // geometry() of a call's inputs x, weight and bias?, in any of the op's contexts.
  template <class Context>
  kernels::ConvGeometry call_geometry(const Context& ctx) const;
  // float32 runs on oneDNN unless the kernel was created with PCV_NN_CONV_REFERENCE set.
  bool use_onednn() const { return !reference_only_; }

  std::array<std::int64_t, D> stride_, padding_, dilation_;
  std::int64_t groups_;
  bool reference_only_;
  std::unique_ptr<kernels::OnednnConv<kernels::ConvKind::convolution>> onednn_;
};

using Conv1d = Conv<1>;
using Conv2d = Conv<2>;
using Conv3d = Conv<3>;

}  // namespace pcv::nn
