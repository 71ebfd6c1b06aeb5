// Transposed convolutions of the upsample plugin: conv_transpose1d, conv_transpose2d and
// conv_transpose3d (F.conv_transpose{1,2,3}d), forward and backward.
//
// float32 runs on oneDNN's deconvolution primitives, cached per input shape. float64, and the
// float32 calls oneDNN has no form for (output_padding larger than padding), run as the adjoint
// of a convolution on the shared reference path (kernels/conv_reference.hpp: GEMM + col2vol).
#pragma once

#include <pcv/sdk.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <span>

#include "kernels/onednn_conv.hpp"

namespace pcv::upsample {

template <int D>
class ConvTranspose {
 public:
  static sdk::OpSpec spec();
  explicit ConvTranspose(const sdk::Attributes& attrs);
  ~ConvTranspose();
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  // The geometry of a call (in = x's spatial size, out = y's), or an error naming the input or
  // attribute that does not fit.
  kernels::ConvGeometry geometry(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
                                 const std::int64_t* bias_size) const;
  // geometry() of a call's inputs x, weight and bias?, in any of the op's contexts.
  template <class Context>
  kernels::ConvGeometry call_geometry(const Context& ctx) const;

  std::array<std::int64_t, D> stride_, padding_, output_padding_, dilation_;
  std::int64_t groups_;
  std::vector<std::int64_t> output_size_;  // empty, or D sizes that override output_padding
  std::unique_ptr<kernels::OnednnConv<kernels::ConvKind::transposed>> onednn_;
};

using ConvTranspose1d = ConvTranspose<1>;
using ConvTranspose2d = ConvTranspose<2>;
using ConvTranspose3d = ConvTranspose<3>;

}  // namespace pcv::upsample
