#include "pixel_shuffle.hpp"

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "kernels/op_checks.hpp"

namespace pcv::upsample {
namespace {

template <int S, bool Unshuffle>
std::string op_name() {
  return std::string("upsample.") + (S == 2 ? "pixel" : "voxel") + (Unshuffle ? "_unshuffle" : "_shuffle");
}

std::int64_t power(std::int64_t base, int exponent) {
  std::int64_t p = 1;
  for (int i = 0; i < exponent; ++i) p *= base;
  return p;
}

// Moves data between the channel-major layout [B, C·r^S, *small] and the shuffled layout
// [B, C, *small·r]. `small` are the S spatial sizes of the channel-major side; B·C = `planes`.
// Work is split over output rows of the shuffled side: each row of W·r elements interleaves r
// rows of W elements, one per sub-channel j.
template <int S, class T>
void shuffle_copy(const T* from, T* to, std::int64_t planes, const std::array<std::int64_t, S>& small,
                  std::int64_t r, bool to_shuffled, int threads) {
  const std::int64_t width = small[S - 1];
  std::int64_t small_volume = 1;
  for (int d = 0; d < S; ++d) small_volume *= small[d];
  const std::int64_t sub_channels = power(r, S);
  // Rows of the shuffled side per plane: every spatial dim but the last, each times r.
  std::int64_t rows_per_plane = 1;
  for (int d = 0; d < S - 1; ++d) rows_per_plane *= small[d] * r;
  const std::int64_t rows = planes * rows_per_plane;
  const std::int64_t row_length = width * r;
#pragma omp parallel for num_threads(threads) if (rows * row_length > 65536)
  for (std::int64_t row = 0; row < rows; ++row) {
    const std::int64_t plane = row / rows_per_plane;
    std::int64_t rest = row % rows_per_plane;
    // Decompose the row into (small position, sub-index) per leading dim, last leading dim first.
    std::int64_t small_offset = 0, sub = 0, small_stride = width, sub_stride = r;
    for (int d = S - 2; d >= 0; --d) {
      const std::int64_t big = rest % (small[d] * r);
      rest /= small[d] * r;
      small_offset += (big / r) * small_stride;
      sub += (big % r) * sub_stride;
      small_stride *= small[d];
      sub_stride *= r;
    }
    const std::int64_t channel_base = plane * sub_channels + sub;  // + j
    if (to_shuffled) {
      T* out = to + row * row_length;
      for (std::int64_t j = 0; j < r; ++j) {
        const T* in = from + (channel_base + j) * small_volume + small_offset;
        for (std::int64_t w = 0; w < width; ++w) out[w * r + j] = in[w];
      }
    } else {
      const T* in = from + row * row_length;
      for (std::int64_t j = 0; j < r; ++j) {
        T* out = to + (channel_base + j) * small_volume + small_offset;
        for (std::int64_t w = 0; w < width; ++w) out[w] = in[w * r + j];
      }
    }
  }
}

}  // namespace

template <int S, bool Unshuffle>
sdk::OpSpec SubpixelShuffle<S, Unshuffle>::spec() {
  const std::string dims = S == 2 ? "H, W" : "D, H, W";
  const std::string big = S == 2 ? "H·r, W·r" : "D·r, H·r, W·r";
  const std::string sub = S == 2 ? "r²" : "r³";
  const std::string name = op_name<S, Unshuffle>().substr(9);
  const std::string index = S == 2 ? "y[…, c, h·r+i, w·r+j] = x[…, c·r² + i·r + j, h, w]"
                                   : "y[…, c, d·r+a, h·r+i, w·r+j] = x[…, c·r³ + (a·r + i)·r + j, d, h, w]";
  const std::string torch =
      S == 2
          ? std::string(" (F.") + (Unshuffle ? "pixel_unshuffle" : "pixel_shuffle") + ")"
          : std::string(" (the 3-D analogue of F.") + (Unshuffle ? "pixel_unshuffle" : "pixel_shuffle") + ")";
  const std::string doc = Unshuffle
                              ? "Moves r×r… spatial blocks into channels: [*, C, " + big + "] → [*, C·" +
                                    sub + ", " + dims + "], the inverse of the shuffle" + torch
                              : "Moves channels into r×r… spatial blocks: [*, C·" + sub + ", " + dims +
                                    "] → [*, C, " + big + "], " + index + torch;
  const char* factor = Unshuffle ? "downscale_factor" : "upscale_factor";
  return sdk::OpSpec(name, doc)
      .input("x", Unshuffle ? "[*, C, " + big + "]" : "[*, C·" + sub + ", " + dims + "]")
      .output("y", Unshuffle ? "[*, C·" + sub + ", " + dims + "]" : "[*, C, " + big + "]")
      .template required_attr<std::int64_t>(factor, "r, the block size per spatial dim")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <int S, bool Unshuffle>
SubpixelShuffle<S, Unshuffle>::SubpixelShuffle(const sdk::Attributes& attrs)
    : factor_(attrs.get<std::int64_t>(Unshuffle ? "downscale_factor" : "upscale_factor")) {
  if (factor_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op_name<S, Unshuffle>(), ": attribute '",
              Unshuffle ? "downscale_factor" : "upscale_factor", "' = ", factor_, ", must be positive");
}

template <int S, bool Unshuffle>
sdk::Shape SubpixelShuffle<S, Unshuffle>::output_shape(std::span<const std::int64_t> x) const {
  const std::string op = op_name<S, Unshuffle>();
  if (x.size() < S + 1)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' ", sdk::shape_string(x), " has ", x.size(),
              " dims, expected at least ", S + 1, S == 2 ? " ([*, C, H, W])" : " ([*, C, D, H, W])");
  sdk::Shape y(x.begin(), x.end());
  const std::size_t c = x.size() - S - 1;
  const std::int64_t blocks = power(factor_, S);
  if (!Unshuffle) {
    if (x[c] % blocks != 0)
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' ", sdk::shape_string(x), " has ", x[c],
                " channels, not divisible by upscale_factor^", S, " = ", blocks);
    y[c] = x[c] / blocks;
    for (std::size_t d = c + 1; d < x.size(); ++d) y[d] = x[d] * factor_;
  } else {
    for (std::size_t d = c + 1; d < x.size(); ++d) {
      if (x[d] % factor_ != 0)
        sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' ", sdk::shape_string(x), " has size ", x[d],
                  " in spatial dim ", d - c - 1, ", not divisible by downscale_factor = ", factor_);
      y[d] = x[d] / factor_;
    }
    y[c] = x[c] * blocks;
  }
  return y;
}

template <int S, bool Unshuffle>
void SubpixelShuffle<S, Unshuffle>::infer_shapes(sdk::ShapeContext& ctx) const {
  ctx.set_output(0, ctx.input_dtype(0), output_shape(ctx.input_shape(0)));
}

namespace {
// shuffle_copy for whole tensors: `channel_major` is the shape of the [*, C·r^S, *small] side,
// whichever of from and to that is.
template <int S, class T>
void rearrange(const T* from, T* to, std::span<const std::int64_t> channel_major, std::int64_t r,
               bool to_shuffled, int threads) {
  const std::size_t c = channel_major.size() - S - 1;
  std::int64_t planes = channel_major[c] / power(r, S);
  for (std::size_t d = 0; d < c; ++d) planes *= channel_major[d];
  std::array<std::int64_t, S> small;
  for (int d = 0; d < S; ++d) small[d] = channel_major[c + 1 + d];
  shuffle_copy<S>(from, to, planes, small, r, to_shuffled, threads);
}
}  // namespace

template <int S, bool Unshuffle>
void SubpixelShuffle<S, Unshuffle>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    const sdk::Shape y_shape = output_shape(x.shape());
    auto y = ctx.output<T>(0, y_shape);
    if (y.numel() == 0) return;
    if (Unshuffle)
      rearrange<S>(x.data(), y.data(), y_shape, factor_, false, ctx.num_threads());
    else
      rearrange<S>(x.data(), y.data(), x.shape(), factor_, true, ctx.num_threads());
  });
}

template <int S, bool Unshuffle>
void SubpixelShuffle<S, Unshuffle>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x_shape = sdk::shape_of(ctx.raw_input(0));
    auto dy = ctx.grad_output<T>(0);
    const sdk::Shape y_shape = output_shape(x_shape);
    kernels::require_gradient_shape(dy.shape(), y_shape, op_name<S, Unshuffle>());
    auto dx = ctx.grad_input<T>(0);
    if (dx.numel() == 0) return;
    if (Unshuffle)  // dx (shuffled side) from dy (channel-major side)
      rearrange<S>(dy.data(), dx.data(), y_shape, factor_, true, ctx.num_threads());
    else
      rearrange<S>(dy.data(), dx.data(), x_shape, factor_, false, ctx.num_threads());
  });
}

template class SubpixelShuffle<2, false>;
template class SubpixelShuffle<2, true>;
template class SubpixelShuffle<3, false>;
template class SubpixelShuffle<3, true>;

}  // namespace pcv::upsample
