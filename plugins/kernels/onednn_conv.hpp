// float32 convolutions and transposed convolutions on oneDNN, with primitives cached per call
// geometry and thread count. The layouts are PyTorch's: activations [N, C, spatial…], weights
// [C_out, C_in/g, k…] (convolution) or [C_in, C_out/g, k…] (transposed convolution).
#pragma once

#include <memory>

#include "conv_reference.hpp"

namespace pcv::kernels {

enum class ConvKind {
  convolution,  // F.conv{1,2,3}d: geometry in = input size, out = output size
  transposed,   // F.conv_transpose{1,2,3}d: the same, as the transposed op sees them
};

template <ConvKind Kind>
class OnednnConv {
 public:
  OnednnConv();
  ~OnednnConv();
  OnednnConv(const OnednnConv&) = delete;
  OnednnConv& operator=(const OnednnConv&) = delete;

  // Whether oneDNN can run g. It cannot when a transposed convolution's output_padding exceeds
  // its padding (oneDNN would need a negative padding at the end).
  static bool supports(const ConvGeometry& g);

  // y = op(x, w) + bias (nullable).
  void forward(const ConvGeometry& g, int threads, const float* x, const float* w, const float* bias,
               float* y);
  // dx from dy and w (overwritten).
  void backward_data(const ConvGeometry& g, int threads, const float* dy, const float* w, float* dx);
  // dw and, when g has a bias, dbias from x and dy (overwritten; dbias must then be non-null).
  void backward_weights(const ConvGeometry& g, int threads, const float* x, const float* dy, float* dw,
                        float* dbias);

 private:
  class Cache;
  std::unique_ptr<Cache> cache_;
};

extern template class OnednnConv<ConvKind::convolution>;
extern template class OnednnConv<ConvKind::transposed>;

}  // namespace pcv::kernels
