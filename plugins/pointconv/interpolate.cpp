#include "interpolate.hpp"

#include "cloud_checks.hpp"
#include "kernels/op_checks.hpp"

#include <algorithm>
#include <utility>
#include <vector>

namespace pcv::pointconv {
namespace {

enum Input : std::size_t { kXyz = 0, kSparseXyz = 1, kFeatures = 2 };

// Below this many distance evaluations one thread is faster.
constexpr std::int64_t kParallelWork = 1 << 15;
// PointNet++'s three_nn clamps squared distances to this before inverting them.
constexpr double kMinSquaredDistance = 1e-10;

struct Sizes {
  std::int64_t clouds, n, s, c;
  sdk::Shape y() const { return {clouds, n, c}; }
};

template <class Ctx>
Sizes sizes_of(const Ctx& ctx, std::int64_t k) {
  const char* op = "pointconv.knn_interpolate";
  const auto xyz = shape_at(ctx, kXyz);
  const auto sparse = shape_at(ctx, kSparseXyz);
  const auto f = shape_at(ctx, kFeatures);
  Sizes z{xyz[0], points_of(xyz, op, "xyz"), points_of(sparse, op, "sparse_xyz"), 0};
  require_same_clouds(sparse, "sparse_xyz", xyz, "xyz", op);
  if (f.size() != 3 || f[0] != sparse[0] || f[1] != sparse[1])
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'features' is ", sdk::shape_string(f), ", expected [", sparse[0],
              ", ", sparse[1], ", C] (one row per point of sparse_xyz ", sdk::shape_string(sparse), ")");
  if (k > z.s)
    sdk::fail(PCV_ERR_SHAPE, op, ": k = ", k, " neighbours asked of sparse clouds of ", z.s, " points",
              z.s == 0 ? " (the clouds are empty)" : "");
  z.c = f[2];
  return z;
}

// The k nearest sparse points of p, by (squared distance, index), and their normalised
// inverse-squared-distance weights.
template <class T>
void neighbours(const T* sparse, std::int64_t s, const T* p, std::int64_t k,
                std::vector<std::pair<T, std::int64_t>>& candidates, std::int64_t* idx, T* weight) {
  for (std::int64_t i = 0; i < s; ++i) {
    const T dx = sparse[3 * i] - p[0], dy = sparse[3 * i + 1] - p[1], dz = sparse[3 * i + 2] - p[2];
    candidates[std::size_t(i)] = {dx * dx + dy * dy + dz * dz, i};
  }
  std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.begin() + s);
  T total = 0;
  for (std::int64_t j = 0; j < k; ++j) {
    idx[j] = candidates[std::size_t(j)].second;
    weight[j] = T(1) / std::max(candidates[std::size_t(j)].first, T(kMinSquaredDistance));
    total += weight[j];
  }
  for (std::int64_t j = 0; j < k; ++j) weight[j] /= total;
}

}  // namespace

KnnInterpolate::KnnInterpolate(const sdk::Attributes& attrs) : k_(attrs.get<std::int64_t>("k")) {
  if (k_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.knn_interpolate: attribute 'k' = ", k_,
              ", must be positive");
}

sdk::OpSpec KnnInterpolate::spec() {
  return sdk::OpSpec("knn_interpolate",
                     "Feature propagation (PointNet++'s three_nn + three_interpolate, as PointDeconv uses): "
                     "each point of xyz takes its k nearest points of sparse_xyz (by squared distance, "
                     "then index) and averages their features with weights 1/max(d², 1e-10) normalised to "
                     "sum 1 (squared distances, as the PointNet++ op returns them). Backward differentiates "
                     "the features; coordinates are data.")
      .input("xyz", "[B, N, 3] dense coordinates")
      .no_grad()
      .input("sparse_xyz", "[B, S, 3] sparse coordinates, S ≥ k")
      .no_grad()
      .input("features", "[B, S, C] features of the sparse points")
      .output("y", "[B, N, C]")
      .attr("k", "neighbours per dense point", std::int64_t{3})
      .caps(PCV_CAP_CPU | PCV_CAP_BACKWARD | PCV_CAP_THREADSAFE_COMPUTE);
}

void KnnInterpolate::infer_shapes(sdk::ShapeContext& ctx) const {
  for (std::size_t i : {kSparseXyz, kFeatures})
    if (!same_dtype(ctx.input_dtype(i), ctx.input_dtype(kXyz)))
      sdk::fail(PCV_ERR_SHAPE, "pointconv.knn_interpolate: input '", ctx.names().input(i).str(), "' is ",
                dtype_name(ctx.input_dtype(i)), " but input 'xyz' is ", dtype_name(ctx.input_dtype(kXyz)));
  ctx.set_output(0, ctx.input_dtype(kFeatures), sizes_of(ctx, k_).y());
}

void KnnInterpolate::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kXyz).dtype, ctx.names().input(kXyz), [&](auto zero) {
    using T = decltype(zero);
    const Sizes z = sizes_of(ctx, k_);
    const T* xyz = ctx.input<T>(kXyz).data();
    const T* sparse = ctx.input<T>(kSparseXyz).data();
    const T* f = ctx.input<T>(kFeatures).data();
    require_finite(xyz, z.clouds, z.n, "pointconv.knn_interpolate", "xyz");
    require_finite(sparse, z.clouds, z.s, "pointconv.knn_interpolate", "sparse_xyz");
    T* y = ctx.output<T>(0, z.y()).data();
    const std::int64_t k = k_;
#pragma omp parallel num_threads(ctx.num_threads()) if (z.clouds * z.n * z.s > kParallelWork)
    {
      std::vector<std::pair<T, std::int64_t>> candidates(static_cast<std::size_t>(z.s));
      std::vector<std::int64_t> idx(static_cast<std::size_t>(k));
      std::vector<T> weight(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
      for (std::int64_t r = 0; r < z.clouds * z.n; ++r) {
        const std::int64_t b = r / z.n;
        neighbours(sparse + b * z.s * 3, z.s, xyz + r * 3, k, candidates, idx.data(), weight.data());
        T* out = y + r * z.c;
        std::fill(out, out + z.c, T(0));
        for (std::int64_t j = 0; j < k; ++j) {
          const T* row = f + (b * z.s + idx[std::size_t(j)]) * z.c;
          const T wj = weight[std::size_t(j)];
#pragma omp simd
          for (std::int64_t c = 0; c < z.c; ++c) out[c] += wj * row[c];
        }
      }
    }
  });
}

void KnnInterpolate::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(kFeatures)) return;
  sdk::dispatch_float(ctx.raw_input(kXyz).dtype, ctx.names().input(kXyz), [&](auto zero) {
    using T = decltype(zero);
    const Sizes z = sizes_of(ctx, k_);
    auto dy_view = ctx.grad_output<T>(0);
    kernels::require_gradient_shape(dy_view.shape(), z.y(), "pointconv.knn_interpolate");
    const T* dy = dy_view.data();
    const T* xyz = ctx.input<T>(kXyz).data();
    const T* sparse = ctx.input<T>(kSparseXyz).data();
    T* df = ctx.grad_input<T>(kFeatures).data();
    std::fill(df, df + z.clouds * z.s * z.c, T(0));
    const std::int64_t k = k_;
    // One thread per cloud: each cloud's gradient rows are summed in dense-point order, whatever
    // the thread count.
#pragma omp parallel num_threads(ctx.num_threads()) if (z.clouds > 1 && z.clouds * z.n * z.s > kParallelWork)
    {
      std::vector<std::pair<T, std::int64_t>> candidates(static_cast<std::size_t>(z.s));
      std::vector<std::int64_t> idx(static_cast<std::size_t>(k));
      std::vector<T> weight(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
      for (std::int64_t b = 0; b < z.clouds; ++b)
        for (std::int64_t i = 0; i < z.n; ++i) {
          const std::int64_t r = b * z.n + i;
          neighbours(sparse + b * z.s * 3, z.s, xyz + r * 3, k, candidates, idx.data(), weight.data());
          const T* g = dy + r * z.c;
          for (std::int64_t j = 0; j < k; ++j) {
            T* row = df + (b * z.s + idx[std::size_t(j)]) * z.c;
            const T wj = weight[std::size_t(j)];
#pragma omp simd
            for (std::int64_t c = 0; c < z.c; ++c) row[c] += wj * g[c];
          }
        }
    }
  });
}

}  // namespace pcv::pointconv
