// The geometry of a convolution call, and the reference convolution path: vol2col + GEMM
// (forward, backward weights) and GEMM + col2vol (backward data), for float and double.
// float64 convolutions always run here; float32 runs here when oneDNN has no form for a call, or
// when asked (tests). Transposed convolutions run here as the adjoint convolution (adjoint()).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <utility>

namespace pcv::kernels {

// Sizes of one convolution call, normalised to three spatial dims: conv1d and conv2d put
// size-1 dims (kernel 1, stride 1, no padding) in front of theirs, so one code path serves all.
struct ConvGeometry {
  int rank = 3;  // spatial dims of the op: 1, 2 or 3
  std::int64_t batch = 0, in_channels = 0, out_channels = 0, groups = 1;
  std::array<std::int64_t, 3> in{1, 1, 1}, kernel{1, 1, 1}, out{1, 1, 1};
  std::array<std::int64_t, 3> stride{1, 1, 1}, padding{0, 0, 0}, dilation{1, 1, 1};
  bool has_bias = false;

  auto operator<=>(const ConvGeometry&) const = default;

  std::int64_t in_volume() const { return in[0] * in[1] * in[2]; }
  std::int64_t out_volume() const { return out[0] * out[1] * out[2]; }
  std::int64_t kernel_volume() const { return kernel[0] * kernel[1] * kernel[2]; }
  std::int64_t group_in_channels() const { return in_channels / groups; }
  std::int64_t group_out_channels() const { return out_channels / groups; }
};

// A transposed convolution x [N, C_in, in…] → y [N, C_out, out…] with weight [C_in, C_out/g, k…]
// is the data gradient of the convolution y → x with the same weight, stride, padding and
// dilation. Given the transposed call's geometry (in, out and channels as the op sees them),
// returns that convolution's: sizes and channels swapped. The conv formula need not give back
// `out` exactly (output_padding adds positions no input reaches); the reference path does not
// rely on it.
inline ConvGeometry adjoint(ConvGeometry g) {
  std::swap(g.in, g.out);
  std::swap(g.in_channels, g.out_channels);
  g.has_bias = false;
  return g;
}

namespace conv_reference {

// y [N, C_out, out…] = conv(x [N, C_in, in…], w [C_out, C_in/g, k…]) + bias (nullable).
template <class T>
void forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y, int threads);

// dx [N, C_in, in…] from dy [N, C_out, out…] and w (overwritten).
template <class T>
void backward_data(const ConvGeometry& g, const T* dy, const T* w, T* dx, int threads);

// dw [C_out, C_in/g, k…] and dbias [C_out] from x and dy (overwritten); either may be null.
template <class T>
void backward_weights(const ConvGeometry& g, const T* x, const T* dy, T* dw, T* dbias, int threads);

// dbias [channels] = sums of dy [batch, channels, volume] over the batch and positions.
template <class T>
void bias_gradient(std::int64_t batch, std::int64_t channels, std::int64_t volume, const T* dy, T* dbias,
                   int threads);

}  // namespace conv_reference
}  // namespace pcv::kernels
