#include "aggregate.hpp"

#include "cloud_checks.hpp"
#include "kernels/op_checks.hpp"

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace pcv::pointconv {
namespace {

enum Input : std::size_t { kX = 0, kWeights = 1, kScale = 2 };

// Below this many multiply-adds one thread is faster.
constexpr std::int64_t kParallelWork = 1 << 16;

struct Sizes {
  std::int64_t centres, k, c, m;  // centres = B·S
  sdk::Shape y;
};

template <class Ctx>
Sizes sizes_of(const Ctx& ctx, bool has_scale) {
  const char* op = "pointconv.aggregate";
  const auto x = shape_at(ctx, kX);
  const auto w = shape_at(ctx, kWeights);
  if (x.size() != 4)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' is ", sdk::shape_string(x), ", expected [B, S, K, C]");
  if (w.size() != 4 || w[0] != x[0] || w[1] != x[1] || w[2] != x[2])
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weights' is ", sdk::shape_string(w), ", expected [", x[0], ", ",
              x[1], ", ", x[2], ", M] (the neighbourhoods of x ", sdk::shape_string(x), ")");
  if (has_scale) {
    const auto s = shape_at(ctx, kScale);
    if (s.size() != 4 || s[0] != x[0] || s[1] != x[1] || s[2] != x[2] || s[3] != 1)
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'scale' is ", sdk::shape_string(s), ", expected [", x[0], ", ",
                x[1], ", ", x[2], ", 1]");
  }
  return {x[0] * x[1], x[2], x[3], w[3], sdk::Shape{x[0], x[1], x[3] * w[3]}};
}

}  // namespace

sdk::OpSpec Aggregate::spec() {
  return sdk::OpSpec("aggregate",
                     "The efficient PointConv product (Wu et al. 2019, Sec. 3.3): per centre, "
                     "y[c·M + m] = Σ_k x[k, c] · scale[k] · weights[k, m], i.e. (x ⊙ scale)ᵀ · weights "
                     "flattened channel-major, as the official code's matmul and view. A linear layer "
                     "(C·M → C_out) after it completes the convolution.")
      .input("x", "[B, S, K, C] neighbour features (after the feature MLP)")
      .input("weights", "[B, S, K, M] WeightNet output")
      .optional_input("scale", "[B, S, K, 1] density scale (DensityNet output)")
      .output("y", "[B, S, C·M], index c·M + m")
      .caps(PCV_CAP_CPU | PCV_CAP_BACKWARD | PCV_CAP_THREADSAFE_COMPUTE);
}

void Aggregate::infer_shapes(sdk::ShapeContext& ctx) const {
  for (std::size_t i : {kWeights, kScale})
    if (ctx.has_input(i) && !same_dtype(ctx.input_dtype(i), ctx.input_dtype(kX)))
      sdk::fail(PCV_ERR_SHAPE, "pointconv.aggregate: input '", i == kWeights ? "weights" : "scale", "' is ",
                dtype_name(ctx.input_dtype(i)), " but input 'x' is ", dtype_name(ctx.input_dtype(kX)));
  ctx.set_output(0, ctx.input_dtype(kX), sizes_of(ctx, ctx.has_input(kScale)).y);
}

void Aggregate::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    const bool has_scale = ctx.has_input(kScale);
    const Sizes z = sizes_of(ctx, has_scale);
    const T* x = ctx.input<T>(kX).data();
    const T* w = ctx.input<T>(kWeights).data();
    const T* scale = has_scale ? ctx.input<T>(kScale).data() : nullptr;
    T* y = ctx.output<T>(0, z.y).data();
#pragma omp parallel num_threads(ctx.num_threads()) if (z.centres * z.k * z.c * z.m > kParallelWork)
    {
      std::vector<T> ws(static_cast<std::size_t>(z.k * z.m));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < z.centres; ++r)
        aggregate_centre(x + r * z.k * z.c, w + r * z.k * z.m, scale ? scale + r * z.k : nullptr, z.k, z.c,
                         z.m, ws.data(), y + r * z.c * z.m);
    }
  });
}

// With ws = scale ⊙ weights and dy [C, M] per centre:
//   dx[k, c] = Σ_m ws[k, m] dy[c, m];  t[k, m] = Σ_c x[k, c] dy[c, m];
//   dweights[k, m] = scale[k] t[k, m];  dscale[k] = Σ_m weights[k, m] t[k, m].
void Aggregate::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    const bool has_scale = ctx.has_input(kScale);
    const Sizes z = sizes_of(ctx, has_scale);
    auto dy_view = ctx.grad_output<T>(0);
    kernels::require_gradient_shape(dy_view.shape(), z.y, "pointconv.aggregate");
    const T* dy = dy_view.data();
    const T* x = ctx.input<T>(kX).data();
    const T* w = ctx.input<T>(kWeights).data();
    const T* scale = has_scale ? ctx.input<T>(kScale).data() : nullptr;
    T* dx = ctx.wants_grad(kX) ? ctx.grad_input<T>(kX).data() : nullptr;
    T* dw = ctx.wants_grad(kWeights) ? ctx.grad_input<T>(kWeights).data() : nullptr;
    T* ds = has_scale && ctx.wants_grad(kScale) ? ctx.grad_input<T>(kScale).data() : nullptr;
#pragma omp parallel num_threads(ctx.num_threads()) if (z.centres * z.k * z.c * z.m > kParallelWork)
    {
      std::vector<T> ws(static_cast<std::size_t>(z.k * z.m)), t(static_cast<std::size_t>(z.k * z.m));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < z.centres; ++r) {
        const T* wr = w + r * z.k * z.m;
        const T* sr = scale ? scale + r * z.k : nullptr;
        const T* xr = x + r * z.k * z.c;
        const T* g = dy + r * z.c * z.m;
        if (dx) {
          scale_weights(wr, sr, z.k, z.m, ws.data());
          for (std::int64_t j = 0; j < z.k; ++j)
            for (std::int64_t c = 0; c < z.c; ++c) {
              T sum = 0;
#pragma omp simd reduction(+ : sum)
              for (std::int64_t i = 0; i < z.m; ++i) sum += ws[std::size_t(j * z.m + i)] * g[c * z.m + i];
              dx[(r * z.k + j) * z.c + c] = sum;
            }
        }
        if (!dw && !ds) continue;
        std::fill(t.begin(), t.end(), T(0));
        for (std::int64_t j = 0; j < z.k; ++j) {
          T* tj = t.data() + j * z.m;
          for (std::int64_t c = 0; c < z.c; ++c) {
            const T xv = xr[j * z.c + c];
#pragma omp simd
            for (std::int64_t i = 0; i < z.m; ++i) tj[i] += xv * g[c * z.m + i];
          }
        }
        for (std::int64_t j = 0; j < z.k; ++j) {
          const T* tj = t.data() + j * z.m;
          if (dw)
            for (std::int64_t i = 0; i < z.m; ++i) dw[(r * z.k + j) * z.m + i] = (sr ? sr[j] : T(1)) * tj[i];
          if (ds) {
            T sum = 0;
            for (std::int64_t i = 0; i < z.m; ++i) sum += wr[j * z.m + i] * tj[i];
            ds[r * z.k + j] = sum;
          }
        }
      }
    }
  });
}

}  // namespace pcv::pointconv
