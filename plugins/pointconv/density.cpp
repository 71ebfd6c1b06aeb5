#include "density.hpp"

#include <pcv/simd_clones.hpp>

#include "cloud_checks.hpp"
#include "spatial_grid.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <vector>

namespace pcv::pointconv {
namespace {

// Below this many kernel evaluations one thread is faster.
constexpr std::int64_t kParallelWork = 1 << 15;

// Kernel terms exp(-a) with a above this add nothing visible to a sum that is at least 1 (each
// point's own term): e^-30 ≈ 1e-13 in float, e^-50 ≈ 2e-22 in double, even summed over 1e6 points.
template <class T>
constexpr T kNegligibleExponent = sizeof(T) == 4 ? T(30) : T(50);

// exp(-a) for 0 ≤ a ≤ kNegligibleExponent<float>, in a form `omp simd` vectorises (libm's expf is
// not): 2^t with t = -a·log2(e) split into n + f, |f| ≤ 1/2, 2^f = e^(f·ln 2) by its degree-7 Taylor
// polynomial (relative error below 3e-8), 2^n through the exponent bits.
inline float exp_negative(float a) {
  const float t = -a * 1.44269504f;
  const float n = std::floor(t + 0.5f);
  const float y = (t - n) * 0.693147181f;
  const float p =
      1 + y * (1 + y * (0.5f + y * (1.f / 6 +
                                    y * (1.f / 24 + y * (1.f / 120 + y * (1.f / 720 + y * (1.f / 5040)))))));
  return p * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
}
inline double exp_negative(double a) { return std::exp(-a); }

// Official PyTorch code: mean_j exp(-|x_i - x_j|² / (2h²)) / (2.5 h) over every point j of a cloud
// given as coordinate columns x, y, z. Terms are evaluated in T, as the reference does, and summed
// in double.
template <class T>
PCV_SIMD_CLONES double all_pairs_density(const T* x, const T* y, const T* z, std::int64_t n, std::int64_t i,
                                         double bandwidth) {
  const T scale = T(1.0 / (2.0 * bandwidth * bandwidth));
  const T px = x[i], py = y[i], pz = z[i];
  double sum = 0;
#pragma omp simd reduction(+ : sum)
  for (std::int64_t j = 0; j < n; ++j) {
    const T dx = x[j] - px, dy = y[j] - py, dz = z[j] - pz;
    const T a = (dx * dx + dy * dy + dz * dz) * scale;
    sum += a < kNegligibleExponent<T> ? double(exp_negative(a)) : 0.0;
  }
  return sum / double(n) / (2.5 * bandwidth);
}

// TF original (kernel_density_estimation_ball): a 3-D Gaussian with variance σ per axis, averaged
// over the ball's points (`found`, which holds point i itself at least).
template <class T>
double ball_density(const T* points, std::int64_t i, const std::vector<std::int64_t>& found, double sigma) {
  const double norm = std::pow(2 * std::numbers::pi * sigma, 1.5);
  const T* p = points + 3 * i;
  double sum = 0;
  for (std::int64_t j : found) {
    const T dx = points[3 * j] - p[0], dy = points[3 * j + 1] - p[1], dz = points[3 * j + 2] - p[2];
    sum += std::exp(-double(dx * dx + dy * dy + dz * dz) / (2 * sigma));
  }
  return sum / norm / double(found.size());
}

}  // namespace

// ------------------------------------------------------------------ density

sdk::OpSpec Density::spec() {
  return sdk::OpSpec(
             "density",
             "Inverse point density 1 / KDE of each point of each cloud. mode 'all_pairs' (the official "
             "PyTorch code): density = mean over all N points of exp(-d²/(2h²)) / (2.5 h), h = bandwidth; "
             "O(N²) time, O(N) memory. mode 'ball' (the TF original): density = mean over the first "
             "max_neighbours points (index order) strictly within radius of exp(-d²/(2σ)) / "
             "((2π)^{3/2} σ^{3/2}), σ = bandwidth, a variance; O(N·max_neighbours) time with a spatial "
             "grid, memory linear in N. Coordinates are data: no backward.")
      .input("xyz", "[B, N, 3] point coordinates")
      .output("inverse", "[B, N] inverse density")
      .attr("mode", "'all_pairs' or 'ball'", std::string("all_pairs"))
      .attr("bandwidth", "h ('all_pairs', a standard deviation) or σ ('ball', a variance), > 0", 0.1)
      .attr("radius", "ball radius ('ball' only), > 0", 0.1)
      .attr("max_neighbours", "points per ball at most ('ball' only), ≥ 1", std::int64_t{128})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Density::Density(const sdk::Attributes& attrs)
    : bandwidth_(attrs.get<double>("bandwidth")),
      radius_(attrs.get<double>("radius")),
      max_neighbours_(attrs.get<std::int64_t>("max_neighbours")) {
  const std::string mode = attrs.get<std::string>("mode");
  if (mode != "all_pairs" && mode != "ball")
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.density: attribute 'mode' = '", mode,
              "', expected 'all_pairs' or 'ball'");
  ball_ = mode == "ball";
  if (!(bandwidth_ > 0 && std::isfinite(bandwidth_)))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.density: attribute 'bandwidth' = ", bandwidth_,
              ", must be positive and finite");
  if (!(radius_ > 0 && std::isfinite(radius_)))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.density: attribute 'radius' = ", radius_,
              ", must be positive and finite");
  if (max_neighbours_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.density: attribute 'max_neighbours' = ", max_neighbours_,
              ", must be positive");
}

void Density::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto xyz = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0), sdk::Shape{xyz[0], points_of(xyz, "pointconv.density", "xyz")});
}

void Density::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto xyz = ctx.input<T>(0);
    const std::int64_t clouds = xyz.shape()[0], n = points_of(xyz.shape(), "pointconv.density", "xyz");
    require_finite(xyz.data(), clouds, n, "pointconv.density", "xyz");
    T* inverse = ctx.output<T>(0, sdk::Shape{clouds, n}).data();
    const std::int64_t per_point = ball_ ? std::min(n, max_neighbours_) : n;
    if (!ball_) {
      const std::vector<T> columns = coordinate_columns(xyz.data(), clouds, n);
#pragma omp parallel for num_threads(ctx.num_threads()) \
    schedule(static) if (clouds * n * per_point > kParallelWork)
      for (std::int64_t p = 0; p < clouds * n; ++p) {
        const T* x = columns.data() + (p / n) * 3 * n;
        inverse[p] = T(1.0 / all_pairs_density(x, x + n, x + 2 * n, n, p % n, bandwidth_));
      }
      return;
    }
    for (std::int64_t b = 0; b < clouds; ++b) {
      const T* points = xyz.data() + b * n * 3;
      T* out = inverse + b * n;
      const SpatialGrid<T> grid(points, n, radius_);
      const T r2 = T(radius_) * T(radius_);
#pragma omp parallel num_threads(ctx.num_threads()) if (n * per_point > kParallelWork)
      {
        std::vector<std::int64_t> found;
#pragma omp for schedule(dynamic, 256)
        for (std::int64_t i = 0; i < n; ++i) {
          first_within(grid, points, points + 3 * i, r2, max_neighbours_, found);
          out[i] = T(1.0 / ball_density(points, i, found, bandwidth_));
        }
      }
    }
  });
}

// ------------------------------------------------------------------ density_scale

namespace {
struct ScaleShape {
  std::int64_t clouds, n, centres, neighbours;
  sdk::Shape scale() const { return {clouds, centres, neighbours, 1}; }
};

ScaleShape scale_shape(std::span<const std::int64_t> inverse, const std::span<const std::int64_t>* idx) {
  const char* op = "pointconv.density_scale";
  if (inverse.size() != 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'inverse' is ", sdk::shape_string(inverse), ", expected [B, N]");
  if (!idx) return {inverse[0], inverse[1], 1, inverse[1]};
  if (idx->size() != 3 || (*idx)[0] != inverse[0])
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'indices' is ", sdk::shape_string(*idx), ", expected [", inverse[0],
              ", S, K] (the clouds of inverse ", sdk::shape_string(inverse), ")");
  return {inverse[0], inverse[1], (*idx)[1], (*idx)[2]};
}
}  // namespace

sdk::OpSpec DensityScale::spec() {
  return sdk::OpSpec("density_scale",
                     "The official PointConv code's density scale: each neighbour's inverse density "
                     "divided by the largest in its neighbourhood, so values lie in (0, 1]. Without indices "
                     "the neighbourhood is the whole cloud (group_all). No backward: it depends on "
                     "coordinates only.")
      .input("inverse", "[B, N] inverse density (pointconv.density)")
      .optional_input("indices", "[B, S, K] int64 in [0, N); absent: all N points, S = 1", "int64")
      .output("scale", "[B, S, K, 1]")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void DensityScale::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto idx = ctx.has_input(1) ? ctx.input_shape(1) : std::span<const std::int64_t>{};
  ctx.set_output(0, ctx.input_dtype(0),
                 scale_shape(ctx.input_shape(0), ctx.has_input(1) ? &idx : nullptr).scale());
}

void DensityScale::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto inverse = ctx.input<T>(0);
    const bool has_idx = ctx.has_input(1);
    const auto idx_shape = has_idx ? sdk::shape_of(ctx.raw_input(1)) : std::span<const std::int64_t>{};
    const ScaleShape g = scale_shape(inverse.shape(), has_idx ? &idx_shape : nullptr);
    const std::int64_t* idx = has_idx ? ctx.input<std::int64_t>(1).data() : nullptr;
    if (idx)
      require_indices(idx, g.clouds, g.centres * g.neighbours, g.n, "pointconv.density_scale", "indices");
    T* scale = ctx.output<T>(0, g.scale()).data();
    const std::int64_t k = g.neighbours;
    for (std::int64_t r = 0; r < g.clouds * g.centres; ++r) {
      const T* inv = inverse.data() + (r / g.centres) * g.n;
      T* out = scale + r * k;
      T largest = 0;
      for (std::int64_t j = 0; j < k; ++j) {
        out[j] = inv[idx ? idx[r * k + j] : j];
        largest = std::max(largest, out[j]);
      }
      for (std::int64_t j = 0; j < k; ++j) out[j] /= largest;
    }
  });
}

}  // namespace pcv::pointconv
