#include "batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace pcv::nn {
namespace {

enum Input : std::size_t { kX = 0, kWeight = 1, kBias = 2, kRunningMean = 3, kRunningVar = 4 };
constexpr const char* kInputNames[] = {"x", "weight", "bias", "running_mean", "running_var"};

// Below this many elements of x one thread is faster than starting a team.
constexpr std::int64_t kParallelElements = 32768;

// x seen as [N, C, S] with S the product of the spatial dims: channel c of sample n is the
// contiguous row x + (n * C + c) * S.
struct Layout {
  std::int64_t batch, channels, spatial;
  std::int64_t per_channel() const { return batch * spatial; }  // values that share statistics
};

Layout layout_of(std::span<const std::int64_t> shape) {
  Layout l{shape[0], shape[1], 1};
  for (std::size_t i = 2; i < shape.size(); ++i) l.spatial *= shape[i];
  return l;
}

// The per-channel loops below are built for three x86-64 levels and the best one for the CPU is
// picked when the plugin loads (GCC function multiversioning, an ifunc): the project compiles
// for baseline x86-64 (SSE2), where the float-to-double sums run at a quarter of their AVX2
// speed. Each clone is deterministic; which one runs depends on the CPU only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PCV_NN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PCV_NN_SIMD_CLONES
#endif

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
PCV_NN_SIMD_CLONES double channel_sum(const T* x, const Layout& l, std::int64_t c, bool squares,
                                      double mean) {
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
PCV_NN_SIMD_CLONES void channel_normalise(const T* x, T* y, const Layout& l, std::int64_t c, T mean, T scale,
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
PCV_NN_SIMD_CLONES void channel_grad_sums(const T* dy, const T* x, T* dx, const Layout& l, std::int64_t c,
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
PCV_NN_SIMD_CLONES void channel_scaled_grad(const T* dy, T* dx, const Layout& l, std::int64_t c, T gain) {
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
PCV_NN_SIMD_CLONES void channel_batch_grad(const T* dy, const T* x, T* dx, const Layout& l, std::int64_t c,
                                           T gain, T mean_dy, T mean, T k) {
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    const T *g = dy + row, *in = x + row;
    T* out = dx + row;
#pragma omp simd
    for (std::int64_t i = 0; i < l.spatial; ++i) out[i] = gain * (g[i] - mean_dy - (in[i] - mean) * k);
  }
}

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
                     "Batch normalisation per channel over N and the spatial dims (BatchNorm1d/2d/3d). "
                     "Training mode, or no running statistics: batch mean and biased variance; training "
                     "mode also updates the running statistics in place with the unbiased variance. Eval "
                     "mode: the running statistics.")
      .input("x", "[N, C, *], rank 2 to 5")
      .optional_input("weight", "[C], the scale (gamma)")
      .optional_input("bias", "[C], the shift (beta)")
      .state_input("running_mean", "[C], updated in place in training mode")
      .state_input("running_var", "[C], updated in place in training mode")
      .output("y", "shape and dtype of x")
      .attr("eps", "added to the variance for numerical stability", 1e-5)
      .attr("momentum", "weight of the batch statistics in the running statistics update", 0.1)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

BatchNorm::BatchNorm(const sdk::Attributes& a)
    : eps_(a.get<double>("eps")), momentum_(a.get<double>("momentum")) {
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
    sdk::fail(PCV_ERR_SHAPE, "nn.batch_norm: input 'x' has ", x.size(), " dims, expected 2 to 5 ([N, C, *])");
  for (std::size_t i = kWeight; i <= kRunningVar; ++i) {
    if (!ctx.has_input(i)) continue;
    const auto shape = ctx.input_shape(i);
    if (shape.size() != 1 || shape[0] != x[1])
      sdk::fail(PCV_ERR_SHAPE, "nn.batch_norm: input '", kInputNames[i], "' has shape ", shape_string(shape),
                ", expected [", x[1], "] (one value per channel of x ", shape_string(x), ")");
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
    const Layout l = layout_of(x.shape());
    if (l.per_channel() == 0) return;  // nothing to normalise, nothing to learn from
    const T* weight = optional_data<sdk::ForwardContext, T>(ctx, kWeight);
    const T* bias = optional_data<sdk::ForwardContext, T>(ctx, kBias);
    const bool has_running = ctx.has_input(kRunningMean);
    const bool batch_stats = ctx.training() || !has_running;
    const bool update_running = ctx.training() && has_running;
    if (batch_stats) check_enough_values(l, x.shape());
    // Writable only when they are updated; eval mode just reads them.
    T* running_mean = update_running ? ctx.state<T>(kRunningMean).data() : nullptr;
    T* running_var = update_running ? ctx.state<T>(kRunningVar).data() : nullptr;
    const T* used_mean = has_running ? ctx.input<T>(kRunningMean).data() : nullptr;
    const T* used_var = has_running ? ctx.input<T>(kRunningVar).data() : nullptr;

    const double count = static_cast<double>(l.per_channel());
    const double momentum = momentum_, eps = eps_;
    const T* px = x.data();
    T* py = y.data();
#pragma omp parallel for num_threads(ctx.num_threads()) if (x.numel() > kParallelElements && l.channels > 1)
    for (std::int64_t c = 0; c < l.channels; ++c) {
      double mean, variance;
      if (batch_stats) {
        batch_moments(px, l, c, mean, variance);
      } else {
        mean = used_mean[c];
        variance = used_var[c];
      }
      if (update_running) {
        const double unbiased = variance * count / (count - 1);
        running_mean[c] = T((1 - momentum) * running_mean[c] + momentum * mean);
        running_var[c] = T((1 - momentum) * running_var[c] + momentum * unbiased);
      }
      const double scale = (weight ? double(weight[c]) : 1.0) / std::sqrt(variance + eps);
      const double shift = bias ? double(bias[c]) : 0.0;
      channel_normalise(px, py, l, c, T(mean), T(scale), T(shift));
    }
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
    const Layout l = layout_of(x.shape());
    T* dx = ctx.wants_grad(kX) ? ctx.grad_input<T>(kX).data() : nullptr;
    T* dweight = ctx.wants_grad(kWeight) ? ctx.grad_input<T>(kWeight).data() : nullptr;
    T* dbias = ctx.wants_grad(kBias) ? ctx.grad_input<T>(kBias).data() : nullptr;
    const T* weight = optional_data<sdk::BackwardContext, T>(ctx, kWeight);
    const bool has_running = ctx.has_input(kRunningMean);
    const bool batch_stats = ctx.training() || !has_running;
    if (batch_stats && l.per_channel() > 0) check_enough_values(l, x.shape());
    const T* used_mean = has_running ? ctx.input<T>(kRunningMean).data() : nullptr;
    const T* used_var = has_running ? ctx.input<T>(kRunningVar).data() : nullptr;

    const double count = static_cast<double>(l.per_channel());
    const double eps = eps_;
    const T *px = x.data(), *pdy = dy.data();
#pragma omp parallel for num_threads(ctx.num_threads()) if (x.numel() > kParallelElements && l.channels > 1)
    for (std::int64_t c = 0; c < l.channels; ++c) {
      double mean = 0, variance = 0;
      if (!batch_stats) {
        mean = used_mean[c];
        variance = used_var[c];
      } else if (count > 0) {
        batch_moments(px, l, c, mean, variance);
      }
      const double invstd = 1.0 / std::sqrt(variance + eps);
      const double gain = (weight ? double(weight[c]) : 1.0) * invstd;
      if (!batch_stats && !dweight && !dbias) {  // dx alone needs no sums
        if (dx) channel_scaled_grad(pdy, dx, l, c, T(gain));
        continue;
      }
      double sum_dy, sum_dy_centred;
      const bool fused_dx = dx && !batch_stats;
      if (fused_dx)
        channel_grad_sums<true>(pdy, px, dx, l, c, mean, gain, sum_dy, sum_dy_centred);
      else
        channel_grad_sums<false>(pdy, px, dx, l, c, mean, gain, sum_dy, sum_dy_centred);
      const double sum_dy_xhat = sum_dy_centred * invstd;
      if (dweight) dweight[c] = T(sum_dy_xhat);
      if (dbias) dbias[c] = T(sum_dy);
      if (dx && batch_stats) {
        const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
        channel_batch_grad(pdy, px, dx, l, c, T(gain), T(mean_dy), T(mean), T(invstd * mean_dy_xhat));
      }
    }
  });
}

}  // namespace pcv::nn
