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

// Calls f(value index) for every element of channel c, in a fixed order.
template <class F>
void for_each_in_channel(const Layout& l, std::int64_t c, F&& f) {
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    for (std::int64_t s = 0; s < l.spatial; ++s) f(row + s);
  }
}

// Sum of term(i) over every element i of channel c. Four interleaved double accumulators give
// shorter dependency chains than one; the order is fixed, so results do not depend on threads.
template <class Term>
double sum_over_channel(const Layout& l, std::int64_t c, Term&& term) {
  double total = 0;
  for (std::int64_t n = 0; n < l.batch; ++n) {
    const std::int64_t row = (n * l.channels + c) * l.spatial;
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
    std::int64_t s = 0;
    for (; s + 4 <= l.spatial; s += 4) {
      a0 += term(row + s);
      a1 += term(row + s + 1);
      a2 += term(row + s + 2);
      a3 += term(row + s + 3);
    }
    for (; s < l.spatial; ++s) a0 += term(row + s);
    total += (a0 + a1) + (a2 + a3);
  }
  return total;
}

// Batch mean and biased variance of channel c, in two passes with double accumulators.
template <class T>
void batch_moments(const T* x, const Layout& l, std::int64_t c, double& mean, double& variance) {
  const double count = static_cast<double>(l.per_channel());
  mean = sum_over_channel(l, c, [&](std::int64_t i) { return double(x[i]); }) / count;
  variance = sum_over_channel(l, c,
                              [&](std::int64_t i) {
                                const double d = x[i] - mean;
                                return d * d;
                              }) /
             count;
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
      for_each_in_channel(l, c, [&](std::int64_t i) { py[i] = T((px[i] - mean) * scale + shift); });
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
      const double sum_dy = sum_over_channel(l, c, [&](std::int64_t i) { return double(pdy[i]); });
      const double sum_dy_xhat =
          sum_over_channel(l, c, [&](std::int64_t i) { return pdy[i] * ((px[i] - mean) * invstd); });
      if (dweight) dweight[c] = T(sum_dy_xhat);
      if (dbias) dbias[c] = T(sum_dy);
      if (!dx) continue;
      const double gain = (weight ? double(weight[c]) : 1.0) * invstd;
      if (batch_stats) {
        const double mean_dy = sum_dy / count, mean_dy_xhat = sum_dy_xhat / count;
        for_each_in_channel(l, c, [&](std::int64_t i) {
          const double xhat = (px[i] - mean) * invstd;
          dx[i] = T(gain * (pdy[i] - mean_dy - xhat * mean_dy_xhat));
        });
      } else {
        for_each_in_channel(l, c, [&](std::int64_t i) { dx[i] = T(gain * pdy[i]); });
      }
    }
  });
}

}  // namespace pcv::nn
