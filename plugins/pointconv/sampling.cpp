#include "sampling.hpp"

#include "cloud_checks.hpp"
#include "spatial_grid.hpp"

#include <pcv/geometry/farthest_point_sampling.hpp>
#include <pcv/simd_clones.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace pcv::pointconv {
namespace {

// Below this many distance evaluations one thread is faster.
constexpr std::int64_t kParallelWork = 1 << 15;
// From this many points per cloud kNN searches a grid instead of every point.
constexpr std::int64_t kGridMinPoints = 4096;

// out[i] = squared distance from c to point i of a cloud given as coordinate columns x, y, z.
template <class T>
PCV_SIMD_CLONES void squared_distances(const T* columns, std::int64_t n, const T* c, T* out) {
  const T *x = columns, *y = columns + n, *z = columns + 2 * n;
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) {
    const T dx = x[i] - c[0], dy = y[i] - c[1], dz = z[i] - c[2];
    out[i] = dx * dx + dy * dy + dz * dz;
  }
}

}  // namespace

// ------------------------------------------------------------------ farthest_point_sample

sdk::OpSpec FarthestPointSample::spec() {
  return sdk::OpSpec(
             "farthest_point_sample",
             "Farthest point sampling of each cloud of xyz [B, N, 3]: point 0 first, then repeatedly the "
             "point whose squared distance to the chosen ones is largest, the lowest index on ties (the "
             "official PointConv code's rule). Indices never repeat: in a cloud with fewer distinct points "
             "than npoint, duplicates of chosen points are taken (lowest index first)")
      .input("xyz", "[B, N, 3] point coordinates")
      .output("indices", "[B, npoint] int64, in the order chosen", "int64")
      .required_attr<std::int64_t>("npoint", "points to choose per cloud, 1 ≤ npoint ≤ N")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

FarthestPointSample::FarthestPointSample(const sdk::Attributes& attrs)
    : samples_(attrs.get<std::int64_t>("npoint")) {
  if (samples_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.farthest_point_sample: attribute 'npoint' = ", samples_,
              ", must be positive");
}

void FarthestPointSample::infer_shapes(sdk::ShapeContext& ctx) const {
  const char* op = "pointconv.farthest_point_sample";
  const std::int64_t n = points_of(ctx.input_shape(0), op, "xyz");
  if (n >= 0 && samples_ > n)
    sdk::fail(PCV_ERR_SHAPE, op, ": cannot choose npoint = ", samples_, " distinct points from clouds of ", n,
              " points", n == 0 ? " (the clouds are empty)" : "");
  ctx.set_output(0, kInt64, sdk::Shape{ctx.input_shape(0)[0], samples_});
}

void FarthestPointSample::forward(sdk::ForwardContext& ctx) const {
  const char* op = "pointconv.farthest_point_sample";
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto xyz = ctx.input<T>(0);
    const std::int64_t clouds = xyz.shape()[0], n = points_of(xyz.shape(), op, "xyz");
    if (samples_ > n)
      sdk::fail(PCV_ERR_SHAPE, op, ": cannot choose npoint = ", samples_, " distinct points from clouds of ",
                n, " points", n == 0 ? " (the clouds are empty)" : "");
    require_finite(xyz.data(), clouds, n, op, "xyz");
    auto indices = ctx.output<std::int64_t>(0, sdk::Shape{clouds, samples_});
#pragma omp parallel for num_threads(ctx.num_threads()) if (clouds > 1 && \
                                                            clouds * n * samples_ > kParallelWork)
    for (std::int64_t b = 0; b < clouds; ++b) {
      const std::vector<std::int64_t> chosen =
          farthest_point_sampling(xyz.data() + b * n * 3, n, samples_, 0);
      std::copy(chosen.begin(), chosen.end(), indices.data() + b * samples_);
    }
  });
}

// ------------------------------------------------------------------ knn

sdk::OpSpec Knn::spec() {
  return sdk::OpSpec(
             "knn",
             "Exact k nearest neighbours: for each centre of centres [B, S, 3], the indices of the k points "
             "of xyz [B, N, 3] with the smallest squared distance, sorted by (distance, index), so a "
             "centre that is one of the points comes first (the official PointConv code's knn_point)")
      .input("xyz", "[B, N, 3] point coordinates")
      .input("centres", "[B, S, 3] query coordinates (often a subset of xyz)")
      .output("indices", "[B, S, k] int64", "int64")
      .required_attr<std::int64_t>("k", "neighbours per centre, 1 ≤ k ≤ N")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Knn::Knn(const sdk::Attributes& attrs) : k_(attrs.get<std::int64_t>("k")) {
  if (k_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.knn: attribute 'k' = ", k_, ", must be positive");
}

namespace {
sdk::Shape knn_shape(std::span<const std::int64_t> xyz, std::span<const std::int64_t> centres,
                     std::int64_t k) {
  const char* op = "pointconv.knn";
  const std::int64_t n = points_of(xyz, op, "xyz");
  points_of(centres, op, "centres");
  require_same_clouds(centres, "centres", xyz, "xyz", op);
  if (k > n)
    sdk::fail(PCV_ERR_SHAPE, op, ": k = ", k, " neighbours asked of clouds of ", n, " points",
              n == 0 ? " (the clouds are empty)" : "");
  return {xyz[0], centres[1], k};
}
}  // namespace

void Knn::infer_shapes(sdk::ShapeContext& ctx) const {
  if (!same_dtype(ctx.input_dtype(1), ctx.input_dtype(0)))
    sdk::fail(PCV_ERR_SHAPE, "pointconv.knn: input 'centres' is ", dtype_name(ctx.input_dtype(1)),
              " but input 'xyz' is ", dtype_name(ctx.input_dtype(0)));
  ctx.set_output(0, kInt64, knn_shape(ctx.input_shape(0), ctx.input_shape(1), k_));
}

void Knn::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto xyz = ctx.input<T>(0);
    auto centres = ctx.input<T>(1);
    const sdk::Shape shape = knn_shape(xyz.shape(), centres.shape(), k_);
    const std::int64_t clouds = shape[0], s = shape[1], n = xyz.shape()[1], k = k_;
    require_finite(xyz.data(), clouds, n, "pointconv.knn", "xyz");
    require_finite(centres.data(), clouds, s, "pointconv.knn", "centres");
    auto indices = ctx.output<std::int64_t>(0, shape);
    if (n >= kGridMinPoints) {
      // Large clouds: a grid with about k/3 points per cell, searched in growing shells.
      for (std::int64_t b = 0; b < clouds; ++b) {
        const T* points = xyz.data() + b * n * 3;
        const SpatialGrid<T> grid(points, n, cell_for_density(points, n, std::max<double>(2, double(k) / 3)));
#pragma omp parallel num_threads(ctx.num_threads()) if (s * k > kParallelWork / 8)
        {
          std::vector<std::pair<T, std::int64_t>> best;
#pragma omp for schedule(dynamic, 64)
          for (std::int64_t q = 0; q < s; ++q) {
            k_nearest(grid, points, centres.data() + (b * s + q) * 3, k, best);
            std::int64_t* out = indices.data() + (b * s + q) * k;
            for (std::int64_t j = 0; j < k; ++j) out[j] = best[static_cast<std::size_t>(j)].second;
          }
        }
      }
      return;
    }
    // Small clouds: brute force. Vectorised squared distances to every point (coordinate
    // columns), then one scan keeping the k smallest in a max-heap. Points come in index order, so
    // a later point at the same distance as the heap's largest never displaces it: ties go to the
    // lower index, as the reference's stable argsort.
    const std::vector<T> columns = coordinate_columns(xyz.data(), clouds, n);
#pragma omp parallel num_threads(ctx.num_threads()) if (clouds * s * n > kParallelWork)
    {
      std::vector<T> distance(static_cast<std::size_t>(n));
      std::vector<std::pair<T, std::int64_t>> heap;
      heap.reserve(static_cast<std::size_t>(k));
#pragma omp for schedule(static)
      for (std::int64_t q = 0; q < clouds * s; ++q) {
        const T* cloud = columns.data() + (q / s) * 3 * n;
        squared_distances(cloud, n, centres.data() + q * 3, distance.data());
        heap.clear();
        for (std::int64_t i = 0; i < k; ++i) heap.emplace_back(distance[static_cast<std::size_t>(i)], i);
        std::make_heap(heap.begin(), heap.end());
        for (std::int64_t i = k; i < n; ++i) {
          const T d = distance[static_cast<std::size_t>(i)];
          if (!(d < heap.front().first)) continue;
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = {d, i};
          std::push_heap(heap.begin(), heap.end());
        }
        std::sort_heap(heap.begin(), heap.end());  // by (distance, index)
        std::int64_t* out = indices.data() + q * k;
        for (std::int64_t j = 0; j < k; ++j) out[j] = heap[static_cast<std::size_t>(j)].second;
      }
    }
  });
}

}  // namespace pcv::pointconv

// ------------------------------------------------------------------ ball_query

namespace pcv::pointconv {

sdk::OpSpec BallQuery::spec() {
  return sdk::OpSpec(
             "ball_query",
             "Radius neighbours (PointNet++'s query_ball_point, as the TF PointConv uses): for each centre "
             "of centres [B, S, 3], the first k points of xyz [B, N, 3] in index order whose distance is "
             "strictly below radius. A ball with fewer than k points repeats its first (lowest) index in "
             "the remaining slots; an empty ball (a centre far from every point) is filled with the "
             "centre's nearest point (lowest index on ties) and counts 0")
      .input("xyz", "[B, N, 3] point coordinates")
      .input("centres", "[B, S, 3] query coordinates")
      .output("indices", "[B, S, k] int64, ascending within each ball, then padding", "int64")
      .output("counts", "[B, S] int64: points really in each ball (at most k)", "int64")
      .required_attr<double>("radius", "ball radius, > 0")
      .required_attr<std::int64_t>("k", "neighbours per centre, ≥ 1")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

BallQuery::BallQuery(const sdk::Attributes& attrs)
    : radius_(attrs.get<double>("radius")), k_(attrs.get<std::int64_t>("k")) {
  if (!(radius_ > 0 && std::isfinite(radius_)))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.ball_query: attribute 'radius' = ", radius_,
              ", must be positive and finite");
  if (k_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "pointconv.ball_query: attribute 'k' = ", k_, ", must be positive");
}

namespace {
void check_ball_shapes(std::span<const std::int64_t> xyz, std::span<const std::int64_t> centres) {
  const char* op = "pointconv.ball_query";
  const std::int64_t n = points_of(xyz, op, "xyz");
  points_of(centres, op, "centres");
  require_same_clouds(centres, "centres", xyz, "xyz", op);
  if (n == 0 && centres[1] > 0)
    sdk::fail(PCV_ERR_SHAPE, op, ": the clouds of input 'xyz' ", sdk::shape_string(xyz),
              " are empty: no neighbours to find");
}

// The lowest index among the points nearest to c (brute force: only for empty balls).
template <class T>
std::int64_t nearest_point(const T* points, std::int64_t n, const T* c) {
  std::int64_t best = 0;
  T best_d2 = std::numeric_limits<T>::infinity();
  for (std::int64_t i = 0; i < n; ++i) {
    const T dx = points[3 * i] - c[0], dy = points[3 * i + 1] - c[1], dz = points[3 * i + 2] - c[2];
    const T d2 = dx * dx + dy * dy + dz * dz;
    if (d2 < best_d2) best_d2 = d2, best = i;
  }
  return best;
}
}  // namespace

void BallQuery::infer_shapes(sdk::ShapeContext& ctx) const {
  if (!same_dtype(ctx.input_dtype(1), ctx.input_dtype(0)))
    sdk::fail(PCV_ERR_SHAPE, "pointconv.ball_query: input 'centres' is ", dtype_name(ctx.input_dtype(1)),
              " but input 'xyz' is ", dtype_name(ctx.input_dtype(0)));
  check_ball_shapes(ctx.input_shape(0), ctx.input_shape(1));
  const auto centres = ctx.input_shape(1);
  ctx.set_output(0, kInt64, sdk::Shape{centres[0], centres[1], k_});
  ctx.set_output(1, kInt64, sdk::Shape{centres[0], centres[1]});
}

void BallQuery::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto xyz = ctx.input<T>(0);
    auto centres = ctx.input<T>(1);
    check_ball_shapes(xyz.shape(), centres.shape());
    const std::int64_t clouds = xyz.shape()[0], n = xyz.shape()[1], s = centres.shape()[1], k = k_;
    require_finite(xyz.data(), clouds, n, "pointconv.ball_query", "xyz");
    require_finite(centres.data(), clouds, s, "pointconv.ball_query", "centres");
    auto indices = ctx.output<std::int64_t>(0, sdk::Shape{clouds, s, k});
    auto counts = ctx.output<std::int64_t>(1, sdk::Shape{clouds, s});
    const T r2 = T(radius_) * T(radius_);
    for (std::int64_t b = 0; b < clouds; ++b) {
      const T* points = xyz.data() + b * n * 3;
      const SpatialGrid<T> grid(points, n, radius_);
#pragma omp parallel num_threads(ctx.num_threads()) if (s * k > kParallelWork / 8)
      {
        std::vector<std::int64_t> found;
#pragma omp for schedule(dynamic, 64)
        for (std::int64_t q = 0; q < s; ++q) {
          const T* c = centres.data() + (b * s + q) * 3;
          first_within(grid, points, c, r2, k, found);
          const std::size_t kept = found.size();
          std::int64_t* out = indices.data() + (b * s + q) * k;
          std::copy_n(found.begin(), kept, out);
          const std::int64_t pad = kept > 0 ? found[0] : nearest_point(points, n, c);
          std::fill(out + kept, out + k, pad);
          counts.data()[b * s + q] = std::int64_t(kept);
        }
      }
    }
  });
}

}  // namespace pcv::pointconv
