#include "sampling.hpp"

#include <pcv/geometry/farthest_point_sampling.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <span>
#include <string>
#include <vector>

namespace pcv::pointconv {
namespace {

// Below this many distance evaluations one thread is faster.
constexpr std::int64_t kParallelWork = 1 << 15;

// A [B, n, 3] cloud tensor's n, or an error naming the input.
std::int64_t points_of(std::span<const std::int64_t> shape, const char* op, const char* name) {
  if (shape.size() != 3 || shape[2] != 3)
    sdk::fail(PCV_ERR_SHAPE, op, ": input '", name, "' is ", sdk::shape_string(shape),
              ", expected [B, N, 3]");
  return shape[1];
}

// Refuses NaN or infinite coordinates, naming the cloud and the point: distances to them would
// silently decide every comparison.
template <class T>
void require_finite(const T* xyz, std::int64_t clouds, std::int64_t n, const char* op, const char* name) {
  for (std::int64_t b = 0; b < clouds; ++b)
    for (std::int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c)
        if (!std::isfinite(xyz[(b * n + i) * 3 + c]))
          sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": input '", name,
                    "' has a non-finite coordinate at cloud ", b, ", point ", i);
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
  if (centres[0] != xyz[0])
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'centres' ", sdk::shape_string(centres), " has ", centres[0],
              " clouds but input 'xyz' ", sdk::shape_string(xyz), " has ", xyz[0]);
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
    // Brute force over all points, with a partial sort per centre. (A spatial grid for large N is
    // planned; this is the reference path it will be checked against.)
#pragma omp parallel num_threads(ctx.num_threads()) if (clouds * s * n > kParallelWork)
    {
      std::vector<std::pair<T, std::int64_t>> candidates(static_cast<std::size_t>(n));
#pragma omp for schedule(static)
      for (std::int64_t q = 0; q < clouds * s; ++q) {
        const std::int64_t b = q / s;
        const T* c = centres.data() + q * 3;
        const T* points = xyz.data() + b * n * 3;
        for (std::int64_t i = 0; i < n; ++i) {
          const T dx = points[3 * i] - c[0], dy = points[3 * i + 1] - c[1], dz = points[3 * i + 2] - c[2];
          candidates[static_cast<std::size_t>(i)] = {dx * dx + dy * dy + dz * dz, i};
        }
        // Pairs compare by distance, then index: the reference's stable argsort.
        std::partial_sort(candidates.begin(), candidates.begin() + k, candidates.end());
        std::int64_t* out = indices.data() + q * k;
        for (std::int64_t j = 0; j < k; ++j) out[j] = candidates[static_cast<std::size_t>(j)].second;
      }
    }
  });
}

}  // namespace pcv::pointconv
