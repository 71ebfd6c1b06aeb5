#include "batch_norm.hpp"

#include <pcv/simd_clones.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace pcv::nn {
namespace {

enum Input : std::size_t { kX = 0, kWeight = 1, kBias = 2, kRunningMean = 3, kRunningVar = 4 };
constexpr const char* kInputNames[] = {"x", "weight", "bias", "running_mean", "running_var"};

// Below this many elements of x one thread is faster than starting a team.
constexpr std::int64_t kParallelElements = 32768;

// x seen as [N, C, S]: N the product of the dims before the channel dim, S of those after it.
// Channel c of sample n is the contiguous row x + (n * C + c) * S. Channels last ([*, C]), and
// [N, C] itself, have S = 1: x is then a [N, C] matrix whose channels are its columns.
struct Layout {
  std::int64_t batch, channels, spatial;
  std::int64_t per_channel() const { return batch * spatial; }  // values that share statistics
  std::int64_t numel() const { return batch * channels * spatial; }
  bool channels_innermost() const { return spatial == 1; }
};

Layout layout_of(std::span<const std::int64_t> shape, std::size_t channel_dim) {
  Layout l{1, shape[channel_dim], 1};
  for (std::size_t i = 0; i < channel_dim; ++i) l.batch *= shape[i];
  for (std::size_t i = channel_dim + 1; i < shape.size(); ++i) l.spatial *= shape[i];
  return l;
}

// The channel dim that attribute `dim` names in x: 1 ([N, C, *], PyTorch) or the last one
// ([*, C], channels last); a negative dim counts from the end.
std::size_t channel_dim_of(std::int64_t dim, std::span<const std::int64_t> x) {
  const auto rank = static_cast<std::int64_t>(x.size());
  const std::int64_t d = dim < 0 ? dim + rank : dim;
  if (d != 1 && d != rank - 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.batch_norm: attribute 'dim' = ", dim,
              " does not name a channel dim of input 'x' of shape ", shape_string(x),
              "; expected 1 (channels first, [N, C, *]) or the last dim, -1 or ", rank - 1,
              " (channels last, [*, C])");
  return static_cast<std::size_t>(d);
}

// ------------------------------------------------------------------ per-channel constants

// y = (x - mean) * scale + shift for one channel.
struct ChannelAffine {
  double mean, scale, shift;
};

// What forward needs besides x and y. Pointers of absent inputs are nullptr.
template <class T>
struct ForwardArgs {
  const T *weight, *bias;
  const T *used_mean, *used_var;  // the running statistics eval mode normalises with
  T *running_mean, *running_var;  // updated in training mode, else nullptr
  bool batch_stats;               // normalise with the batch statistics
  double count, momentum, eps;    // count: values per channel

  // Updates channel c's running statistics in training mode and returns its affine map, from
  // the batch mean and biased variance (unused in eval mode).
  ChannelAffine channel(std::int64_t c, double mean, double variance) const {
    if (!batch_stats) {
      mean = used_mean[c];
      variance = used_var[c];
    }
    if (running_mean) {
      const double unbiased = variance * count / (count - 1);
      running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mean);
      running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
    }
    const double scale = (weight ? double(weight[c]) : 1.0) / std::sqrt(variance + eps);
    return {mean, scale, bias ? double(bias[c]) : 0.0};
  }
};

// What backward needs besides x and dy. Pointers of absent inputs or unwanted gradients are
// nullptr.
template <class T>
struct BackwardArgs {
  const T *weight, *used_mean, *used_var;
  T *dx, *dweight, *dbias;
  bool batch_stats;
  double count, eps;
};

// ------------------------------------------------------------------ channels first: [N, C, S]

// Sums are kept in kLanes interleaved double accumulators: a fixed-width inner loop that
// `omp simd` vectorises (the -O2 cost model alone would not), in an order that depends on the
// layout only, never on the thread count. Each channel is reduced by one thread.
constexpr int kLanes = 16;

// Adds term(i) for i in [0, n) to `lanes` (the n / kLanes * kLanes first ones) and `tail`.
template <class Term>
[[gnu::always_inline]] inline void accumulate(std::int64_t n, double (&lanes)[kLanes], double& tail,
                                              Term&& term) {
  std::int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes)
#pragma omp simd
    for (int k = 0; k < kLanes; ++k) lanes[k] += term(i + k);
  for (; i < n; ++i) tail += term(i);
}

inline double total(const double (&lanes)[kLanes], double tail) {
  for (int k = 0; k < kLanes; ++k) tail += lanes[k];
  return tail;
}

// Sum of x, or of (x - mean)^2 when `squares`, over channel c.
template <class T>
PCV_SIMD_CLONES double channel_sum(const T* x, const Layout& l, std::int64_t c, bool squares, double mean) {
  double lanes[kLanes] = {}, tail = 0;
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const T* row = x + (n * l.channels + c) * l.spatial;
    if (squares) {
      accumulate(l.spatial, lanes, tail, [&](std::int64_t i) {
        const double d = row[i] - mean;
        return d * d;
      });
    } else {
      accumulate(l.spatial, lanes, tail, [&](std::int64_t i) { return double(row[i]); });
    }
  }
  return total(lanes, tail);
}

// Batch mean and biased variance of channel c, in two passes with double accumulators.
template <class T>
void batch_moments(const T* x, const Layout& l, std::int64_t c, double& mean, double& variance) {
  const double count = static_cast<double>(l.per_channel());
  mean = channel_sum(x, l, c, false, 0.0) / count;
  variance = channel_sum(x, l, c, true, mean) / count;
}

// y = (x - mean) * scale + shift over channel c. Element-wise work is done in T, as PyTorch
// does (float vectors are twice as wide, and this pass is what eval mode costs); the
// per-channel constants come from double. x - mean is exact when x is near the mean, so an
// off-centre channel loses no more than the rounding of x itself.
template <class T>
PCV_SIMD_CLONES void channel_normalise(const T* x, T* y, const Layout& l, std::int64_t c, T mean, T scale,
                                       T shift) {
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    const T* in = x + row;
    T* out = y + row;
#pragma omp simd
    for (std::int64_t i = 0; i < l.spatial; ++i) out[i] = (in[i] - mean) * scale + shift;
  }
}

// sum(dy) and sum(dy * (x - mean)) over channel c, in one pass; with running statistics
// (`scaled_dx`) the same pass also writes dx = gain * dy, which needs no sums.
template <bool scaled_dx, class T>
PCV_SIMD_CLONES void channel_grad_sums(const T* dy, const T* x, T* dx, const Layout& l, std::int64_t c,
                                       double mean, double gain, double& sum_dy, double& sum_dy_centred) {
  double lanes_dy[kLanes] = {}, lanes_dyx[kLanes] = {}, tail_dy = 0, tail_dyx = 0;
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    const T *g = dy + row, *in = x + row;
    T* out = dx + row;
    std::int64_t i = 0;
    for (; i + kLanes <= l.spatial; i += kLanes)
#pragma omp simd
      for (int k = 0; k < kLanes; ++k) {
        const double d = g[i + k];
        lanes_dy[k] += d;
        lanes_dyx[k] += d * (in[i + k] - mean);
        if constexpr (scaled_dx) out[i + k] = T(gain * d);
      }
    for (; i < l.spatial; ++i) {
      tail_dy += g[i];
      tail_dyx += g[i] * (in[i] - mean);
      if constexpr (scaled_dx) out[i] = T(gain * g[i]);
    }
  }
  sum_dy = total(lanes_dy, tail_dy);
  sum_dy_centred = total(lanes_dyx, tail_dyx);
}

// dx = gain * dy over channel c (running statistics: they do not depend on x).
template <class T>
PCV_SIMD_CLONES void channel_scaled_grad(const T* dy, T* dx, const Layout& l, std::int64_t c, T gain) {
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    const T* g = dy + row;
    T* out = dx + row;
#pragma omp simd
    for (std::int64_t i = 0; i < l.spatial; ++i) out[i] = gain * g[i];
  }
}

// dx = gain * (dy - mean_dy - (x - mean) * k) over channel c (batch statistics), with
// k = invstd * mean(dy * xhat); element-wise in T like channel_normalise.
template <class T>
PCV_SIMD_CLONES void channel_batch_grad(const T* dy, const T* x, T* dx, const Layout& l, std::int64_t c,
                                        T gain, T mean_dy, T mean, T k) {
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    const T *g = dy + row, *in = x + row;
    T* out = dx + row;
#pragma omp simd
    for (std::int64_t i = 0; i < l.spatial; ++i) out[i] = gain * (g[i] - mean_dy - (in[i] - mean) * k);
  }
}

// One thread per channel: its statistics, then its normalisation while it is still in cache.
template <class T>
void forward_channels_first(const T* x, T* y, const Layout& l, const ForwardArgs<T>& a, int threads) {
#pragma omp parallel for num_threads(threads) if (l.numel() > kParallelElements && l.channels > 1)
  for (std::int64_t c = 0; c < l.channels; ++c) {
    double mean = 0, variance = 0;
    if (a.batch_stats) batch_moments(x, l, c, mean, variance);
    const ChannelAffine f = a.channel(c, mean, variance);
    channel_normalise(x, y, l, c, T(f.mean), T(f.scale), T(f.shift));
  }
}

template <class T>
void backward_channels_first(const T* x, const T* dy, const Layout& l, const BackwardArgs<T>& a,
                             int threads) {
#pragma omp parallel for num_threads(threads) if (l.numel() > kParallelElements && l.channels > 1)
  for (std::int64_t c = 0; c < l.channels; ++c) {
    double mean = 0, variance = 0;
    if (!a.batch_stats) {
      mean = a.used_mean[c];
      variance = a.used_var[c];
    } else if (a.count > 0) {
      batch_moments(x, l, c, mean, variance);
    }
    const double invstd = 1.0 / std::sqrt(variance + a.eps);
    const double gain = (a.weight ? double(a.weight[c]) : 1.0) * invstd;
    if (!a.batch_stats && !a.dweight && !a.dbias) {  // dx alone needs no sums
      if (a.dx) channel_scaled_grad(dy, a.dx, l, c, T(gain));
      continue;
    }
    double sum_dy, sum_dy_centred;
    if (a.dx && !a.batch_stats)
      channel_grad_sums<true>(dy, x, a.dx, l, c, mean, gain, sum_dy, sum_dy_centred);
    else
      channel_grad_sums<false>(dy, x, a.dx, l, c, mean, gain, sum_dy, sum_dy_centred);
    const double sum_dy_xhat = sum_dy_centred * invstd;
    if (a.dweight) a.dweight[c] = T(sum_dy_xhat);
    if (a.dbias) a.dbias[c] = T(sum_dy);
    if (a.dx && a.batch_stats) {
      const double mean_dy = sum_dy / a.count, mean_dy_xhat = sum_dy_xhat / a.count;
      channel_batch_grad(dy, x, a.dx, l, c, T(gain), T(mean_dy), T(mean), T(invstd * mean_dy_xhat));
    }
  }
}

// ------------------------------------------------------------------ channels innermost: [R, C]

// Here a channel is a strided column, so the loops run along rows instead, vectorised across
// channels. x is cut into fixed blocks of kRowChunk rows by kChannelBlock channels; each block
// adds into its row chunk's own partial sums, and the chunks' partial sums are then added in
// chunk order. The blocks depend on the shape only, so every sum is the same on any number of
// threads.
constexpr std::int64_t kRowChunk = 64;
constexpr std::int64_t kChannelBlock = 256;  // keeps a block's accumulators in L1

struct Block {
  std::int64_t chunk, row0, row1, c0, c1;  // rows [row0, row1), channels [c0, c1)
};

// Calls f(block) for every block, on several threads when x is large enough.
template <class F>
void for_each_block(const Layout& l, int threads, F&& f) {
  const std::int64_t rows = l.batch, channels = l.channels;
  const std::int64_t chunks = (rows + kRowChunk - 1) / kRowChunk;
  const std::int64_t blocks = (channels + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for num_threads(threads) if (l.numel() > kParallelElements && chunks * blocks > 1)
  for (std::int64_t task = 0; task < chunks * blocks; ++task) {
    const std::int64_t chunk = task / blocks, block = task % blocks;
    f(Block{chunk, chunk * kRowChunk, std::min(rows, (chunk + 1) * kRowChunk), block * kChannelBlock,
            std::min(channels, (block + 1) * kChannelBlock)});
  }
}

// `sums` per-channel sums over all rows, laid out [sum][channel]: add(block, partial) adds the
// block's rows into partial (its row chunk's zeroed [sum][channel] accumulators).
template <class Add>
std::vector<double> sum_rows(const Layout& l, std::int64_t sums, int threads, Add&& add) {
  const std::int64_t width = sums * l.channels;
  const std::int64_t chunks = (l.batch + kRowChunk - 1) / kRowChunk;
  std::vector<double> partial(static_cast<std::size_t>(chunks * width), 0.0);
  for_each_block(l, threads, [&](const Block& b) { add(b, partial.data() + b.chunk * width); });
  std::vector<double> total(static_cast<std::size_t>(width), 0.0);
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk)
    for (std::int64_t j = 0; j < width; ++j) total[j] += partial[chunk * width + j];
  return total;
}

// sum[c] += x, or (x - centre[c])^2 when centre is given, over a block.
template <class T>
PCV_SIMD_CLONES void add_block(const T* x, std::int64_t channels, Block b, const double* centre,
                               double* sum) {
  for (std::int64_t r = b.row0; r < b.row1; ++r) {
    const T* row = x + r * channels;
    if (centre) {
#pragma omp simd
      for (std::int64_t c = b.c0; c < b.c1; ++c) {
        const double d = row[c] - centre[c];
        sum[c] += d * d;
      }
    } else {
#pragma omp simd
      for (std::int64_t c = b.c0; c < b.c1; ++c) sum[c] += row[c];
    }
  }
}

// Batch means and biased variances of all channels, in two passes like batch_moments.
template <class T>
void row_moments(const T* x, const Layout& l, int threads, std::vector<double>& mean,
                 std::vector<double>& variance) {
  const double count = static_cast<double>(l.batch);
  mean = sum_rows(l, 1, threads,
                  [&](const Block& b, double* sum) { add_block(x, l.channels, b, nullptr, sum); });
  for (double& m : mean) m /= count;
  variance = sum_rows(l, 1, threads,
                      [&](const Block& b, double* sum) { add_block(x, l.channels, b, mean.data(), sum); });
  for (double& v : variance) v /= count;
}

// y = (x - mean[c]) * scale[c] + shift[c] over a block, in T like channel_normalise.
template <class T>
PCV_SIMD_CLONES void normalise_block(const T* x, T* y, std::int64_t channels, Block b, const T* mean,
                                     const T* scale, const T* shift) {
  for (std::int64_t r = b.row0; r < b.row1; ++r) {
    const T* in = x + r * channels;
    T* out = y + r * channels;
#pragma omp simd
    for (std::int64_t c = b.c0; c < b.c1; ++c) out[c] = (in[c] - mean[c]) * scale[c] + shift[c];
  }
}

// sum_dy[c] += dy and sum_dy_centred[c] += dy * (x - mean[c]) over a block; with running
// statistics (`scaled_dx`) also dx = gain[c] * dy, like channel_grad_sums.
template <bool scaled_dx, class T>
PCV_SIMD_CLONES void add_grad_block(const T* dy, const T* x, T* dx, std::int64_t channels, Block b,
                                    const double* mean, const double* gain, double* sum_dy,
                                    double* sum_dy_centred) {
  for (std::int64_t r = b.row0; r < b.row1; ++r) {
    const T *g = dy + r * channels, *in = x + r * channels;
    T* out = dx + r * channels;
#pragma omp simd
    for (std::int64_t c = b.c0; c < b.c1; ++c) {
      const double d = g[c];
      sum_dy[c] += d;
      sum_dy_centred[c] += d * (in[c] - mean[c]);
      if constexpr (scaled_dx) out[c] = T(gain[c] * d);
    }
  }
}

// dx = gain[c] * (dy - mean_dy[c] - (x - mean[c]) * k[c]) over a block; with mean_dy null
// (running statistics) dx = gain[c] * dy. Element-wise in T like channel_batch_grad.
template <class T>
PCV_SIMD_CLONES void grad_block(const T* dy, const T* x, T* dx, std::int64_t channels, Block b, const T* gain,
                                const T* mean_dy, const T* mean, const T* k) {
  for (std::int64_t r = b.row0; r < b.row1; ++r) {
    const T *g = dy + r * channels, *in = x + r * channels;
    T* out = dx + r * channels;
    if (!mean_dy) {
#pragma omp simd
      for (std::int64_t c = b.c0; c < b.c1; ++c) out[c] = gain[c] * g[c];
    } else {
#pragma omp simd
      for (std::int64_t c = b.c0; c < b.c1; ++c)
        out[c] = gain[c] * (g[c] - mean_dy[c] - (in[c] - mean[c]) * k[c]);
    }
  }
}

// All channels' statistics first (each pass reads all of x), then y row by row.
template <class T>
void forward_rows(const T* x, T* y, const Layout& l, const ForwardArgs<T>& a, int threads) {
  const auto channels = static_cast<std::size_t>(l.channels);
  std::vector<double> mean(channels, 0.0), variance(channels, 0.0);
  if (a.batch_stats) row_moments(x, l, threads, mean, variance);
  std::vector<T> centre(channels), scale(channels), shift(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const ChannelAffine f = a.channel(static_cast<std::int64_t>(c), mean[c], variance[c]);
    centre[c] = T(f.mean);
    scale[c] = T(f.scale);
    shift[c] = T(f.shift);
  }
  for_each_block(l, threads, [&](const Block& b) {
    normalise_block(x, y, l.channels, b, centre.data(), scale.data(), shift.data());
  });
}

// Like backward_channels_first, one pass over all of x per step: the statistics, the sums of dy
// and dy * (x - mean), then dx from per-channel constants.
template <class T>
void backward_rows(const T* x, const T* dy, const Layout& l, const BackwardArgs<T>& a, int threads) {
  const auto channels = static_cast<std::size_t>(l.channels);
  std::vector<double> mean(channels, 0.0), variance(channels, 0.0);
  if (!a.batch_stats) {
    std::copy(a.used_mean, a.used_mean + channels, mean.begin());
    std::copy(a.used_var, a.used_var + channels, variance.begin());
  } else if (a.count > 0) {
    row_moments(x, l, threads, mean, variance);
  }
  std::vector<double> invstd(channels), gain(channels);
  std::vector<T> gain_t(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    invstd[c] = 1.0 / std::sqrt(variance[c] + a.eps);
    gain[c] = (a.weight ? double(a.weight[c]) : 1.0) * invstd[c];
    gain_t[c] = T(gain[c]);
  }
  const auto run_grad_blocks = [&](const T* mean_dy, const T* centre, const T* k) {
    for_each_block(l, threads, [&](const Block& b) {
      grad_block(dy, x, a.dx, l.channels, b, gain_t.data(), mean_dy, centre, k);
    });
  };
  if (!a.batch_stats && !a.dweight && !a.dbias) {  // dx alone needs no sums
    if (a.dx) run_grad_blocks(nullptr, nullptr, nullptr);
    return;
  }
  const bool fused_dx = a.dx && !a.batch_stats;
  const std::vector<double> sums = sum_rows(l, 2, threads, [&](const Block& b, double* partial) {
    double *sum_dy = partial, *sum_dy_centred = partial + l.channels;
    if (fused_dx)
      add_grad_block<true>(dy, x, a.dx, l.channels, b, mean.data(), gain.data(), sum_dy, sum_dy_centred);
    else
      add_grad_block<false>(dy, x, a.dx, l.channels, b, mean.data(), gain.data(), sum_dy, sum_dy_centred);
  });
  std::vector<T> mean_dy(channels), centre(channels), k(channels);
  for (std::size_t c = 0; c < channels; ++c) {
    const double sum_dy = sums[c], sum_dy_xhat = sums[channels + c] * invstd[c];
    if (a.dweight) a.dweight[c] = T(sum_dy_xhat);
    if (a.dbias) a.dbias[c] = T(sum_dy);
    mean_dy[c] = T(sum_dy / a.count);
    centre[c] = T(mean[c]);
    k[c] = T(invstd[c] * (sum_dy_xhat / a.count));
  }
  if (a.dx && a.batch_stats) run_grad_blocks(mean_dy.data(), centre.data(), k.data());
}

// ------------------------------------------------------------------ checks

// PyTorch refuses batch statistics of a single value (the unbiased variance would divide by 0).
void check_enough_values(const Layout& l, std::span<const std::int64_t> x_shape) {
  if (l.per_channel() == 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT,
              "nn.batch_norm: expected more than 1 value per channel when using batch statistics "
              "(training mode, or no running statistics), got input 'x' of shape ",
              shape_string(x_shape));
}

// Pointer to the data of optional input i, or nullptr when it is absent.
template <class Ctx, class T>
const T* optional_data(const Ctx& ctx, std::size_t i) {
  return ctx.has_input(i) ? ctx.template input<T>(i).data() : nullptr;
}

}  // namespace

sdk::OpSpec BatchNorm::spec() {
  return sdk::OpSpec("batch_norm",
                     "Batch normalisation per channel over every other dim (BatchNorm1d/2d/3d; with dim -1 "
                     "channels last, like TensorFlow's axis=-1). Training mode, or no running statistics: "
                     "batch mean and biased variance; training mode also updates the running statistics in "
                     "place with the unbiased variance. Eval mode: the running statistics.")
      .input("x", "[N, C, *] (dim 1) or [*, C] (dim -1), rank 2 to 5")
      .optional_input("weight", "[C], the scale (gamma)")
      .optional_input("bias", "[C], the shift (beta)")
      .state_input("running_mean", "[C], updated in place in training mode")
      .state_input("running_var", "[C], updated in place in training mode")
      .output("y", "shape and dtype of x")
      .attr("eps", "added to the variance for numerical stability", 1e-5)
      .attr("momentum", "weight of the batch statistics in the running statistics update", 0.1)
      .attr("dim",
            "the channel dim of x: 1 (channels first, [N, C, *]) or the last dim (-1, channels last, "
            "[*, C]); negative counts from the end",
            std::int64_t{1})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

BatchNorm::BatchNorm(const sdk::Attributes& a)
    : eps_(a.get<double>("eps")), momentum_(a.get<double>("momentum")), dim_(a.get<std::int64_t>("dim")) {
  if (!(eps_ >= 0 && std::isfinite(eps_)))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.batch_norm: attribute 'eps' = ", eps_,
              " must be finite and >= 0");
  if (!(momentum_ >= 0 && momentum_ <= 1))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.batch_norm: attribute 'momentum' = ", momentum_,
              " is out of range [0, 1]");
}

void BatchNorm::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto x = ctx.input_shape(kX);
  if (x.size() < 2 || x.size() > 5)
    sdk::fail(PCV_ERR_SHAPE, "nn.batch_norm: input 'x' has ", x.size(), " dims, expected 2 to 5 (",
              dim_ == 1 ? "[N, C, *]" : "[*, C]", ")");
  const std::int64_t channels = x[channel_dim_of(dim_, x)];
  for (std::size_t i = kWeight; i <= kRunningVar; ++i) {
    if (!ctx.has_input(i)) continue;
    const auto shape = ctx.input_shape(i);
    if (shape.size() != 1 || shape[0] != channels)
      sdk::fail(PCV_ERR_SHAPE, "nn.batch_norm: input '", kInputNames[i], "' has shape ", shape_string(shape),
                ", expected [", channels, "] (one value per channel of x ", shape_string(x), ")");
    if (!same_dtype(ctx.input_dtype(i), ctx.input_dtype(kX)))
      sdk::fail(PCV_ERR_SHAPE, "nn.batch_norm: input '", kInputNames[i], "' is ",
                dtype_name(ctx.input_dtype(i)), " but x is ", dtype_name(ctx.input_dtype(kX)));
  }
  if (ctx.has_input(kRunningMean) != ctx.has_input(kRunningVar))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT,
              "nn.batch_norm: running_mean and running_var must be given together (got ",
              ctx.has_input(kRunningMean) ? "running_mean" : "running_var", " only)");
  ctx.set_output_like(0, kX);
}

void BatchNorm::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(kX);
    auto y = ctx.output<T>(0, x.shape());
    const Layout l = layout_of(x.shape(), channel_dim_of(dim_, x.shape()));
    if (l.per_channel() == 0) return;  // nothing to normalise, nothing to learn from
    const bool has_running = ctx.has_input(kRunningMean);
    const bool update_running = ctx.training() && has_running;
    ForwardArgs<T> args{};
    args.weight = optional_data<sdk::ForwardContext, T>(ctx, kWeight);
    args.bias = optional_data<sdk::ForwardContext, T>(ctx, kBias);
    args.batch_stats = ctx.training() || !has_running;
    if (args.batch_stats) check_enough_values(l, x.shape());
    // Writable only when they are updated; eval mode just reads them.
    args.running_mean = update_running ? ctx.state<T>(kRunningMean).data() : nullptr;
    args.running_var = update_running ? ctx.state<T>(kRunningVar).data() : nullptr;
    args.used_mean = has_running ? ctx.input<T>(kRunningMean).data() : nullptr;
    args.used_var = has_running ? ctx.input<T>(kRunningVar).data() : nullptr;
    args.count = static_cast<double>(l.per_channel());
    args.momentum = momentum_;
    args.eps = eps_;
    if (l.channels_innermost())
      forward_rows(x.data(), y.data(), l, args, ctx.num_threads());
    else
      forward_channels_first(x.data(), y.data(), l, args, ctx.num_threads());
  });
}

// With batch statistics the mean and variance depend on x, so
//   dx = weight * invstd * (dy - mean(dy) - xhat * mean(dy * xhat))
// with xhat = (x - mean) * invstd; with running statistics dx = weight * invstd * dy.
// In both cases dweight = sum(dy * xhat) and dbias = sum(dy) over the channel.
void BatchNorm::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    // The running statistics are buffers, not parameters: their gradient is zero.
    for (std::size_t i : {kRunningMean, kRunningVar})
      if (ctx.wants_grad(i)) {
        auto g = ctx.grad_input<T>(i);
        std::fill(g.data(), g.data() + g.numel(), T(0));
      }
    auto x = ctx.input<T>(kX);
    auto dy = ctx.grad_output<T>(0);
    const Layout l = layout_of(x.shape(), channel_dim_of(dim_, x.shape()));
    const bool has_running = ctx.has_input(kRunningMean);
    BackwardArgs<T> args{};
    args.dx = ctx.wants_grad(kX) ? ctx.grad_input<T>(kX).data() : nullptr;
    args.dweight = ctx.wants_grad(kWeight) ? ctx.grad_input<T>(kWeight).data() : nullptr;
    args.dbias = ctx.wants_grad(kBias) ? ctx.grad_input<T>(kBias).data() : nullptr;
    args.weight = optional_data<sdk::BackwardContext, T>(ctx, kWeight);
    args.batch_stats = ctx.training() || !has_running;
    if (args.batch_stats && l.per_channel() > 0) check_enough_values(l, x.shape());
    args.used_mean = has_running ? ctx.input<T>(kRunningMean).data() : nullptr;
    args.used_var = has_running ? ctx.input<T>(kRunningVar).data() : nullptr;
    args.count = static_cast<double>(l.per_channel());
    args.eps = eps_;
    if (l.channels_innermost())
      backward_rows(x.data(), dy.data(), l, args, ctx.num_threads());
    else
      backward_channels_first(x.data(), dy.data(), l, args, ctx.num_threads());
  });
}

}  // namespace pcv::nn
