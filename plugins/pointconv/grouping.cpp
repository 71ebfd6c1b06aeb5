#include "grouping.hpp"

#include "cloud_checks.hpp"
#include "kernels/op_checks.hpp"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <span>

namespace pcv::pointconv {
namespace {

// Below this many copied values one thread is faster.
constexpr std::int64_t kParallelValues = 1 << 16;
// Scatter-add in backward splits channels into blocks of this many, one thread per (cloud, block):
// every gradient entry is summed by one thread in a fixed order, so results never depend on the
// thread count.
constexpr std::int64_t kChannelBlock = 16;

// dx[b, idx, :] += dy[b, j, :] for every entry j of idx, over cloud b and channels [c0, c1).
template <class T>
void scatter_add(const T* dy, const std::int64_t* idx, T* dx, std::int64_t b, std::int64_t per_cloud,
                 std::int64_t n, std::int64_t dy_stride, std::int64_t dy_offset, std::int64_t channels,
                 std::int64_t c0, std::int64_t c1) {
  for (std::int64_t j = 0; j < per_cloud; ++j) {
    const std::int64_t i = idx ? idx[b * per_cloud + j] : j % n;  // no indices: every point, per centre
    const T* g = dy + (b * per_cloud + j) * dy_stride + dy_offset;
    T* out = dx + (b * n + i) * channels;
    for (std::int64_t c = c0; c < c1; ++c) out[c] += g[c];
  }
}

// Zeroes dx [clouds, n, channels], then scatters dy's rows into it (see scatter_add), in parallel.
template <class T>
void scatter_rows(const T* dy, const std::int64_t* idx, T* dx, std::int64_t clouds, std::int64_t per_cloud,
                  std::int64_t n, std::int64_t dy_stride, std::int64_t dy_offset, std::int64_t channels,
                  int threads) {
  std::fill(dx, dx + clouds * n * channels, T(0));
  const std::int64_t blocks = (channels + kChannelBlock - 1) / kChannelBlock;
#pragma omp parallel for num_threads(threads) if (clouds * per_cloud * channels > kParallelValues)
  for (std::int64_t task = 0; task < clouds * blocks; ++task) {
    const std::int64_t b = task / blocks, c0 = (task % blocks) * kChannelBlock;
    scatter_add(dy, idx, dx, b, per_cloud, n, dy_stride, dy_offset, channels, c0,
                std::min(channels, c0 + kChannelBlock));
  }
}

// ------------------------------------------------------------------ gather_points shapes

struct GatherShape {
  std::int64_t clouds, n, channels, per_cloud;
  sdk::Shape y;
};

GatherShape gather_shape(std::span<const std::int64_t> x, std::span<const std::int64_t> idx) {
  const char* op = "pointconv.gather_points";
  if (x.size() != 3)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' is ", sdk::shape_string(x), ", expected [B, N, C]");
  if (idx.size() < 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'indices' is ", sdk::shape_string(idx), ", expected [B, S, ...]");
  require_same_clouds(idx, "indices", x, "x", op);
  GatherShape g{x[0], x[1], x[2], 1, sdk::Shape(idx.begin(), idx.end())};
  for (std::size_t d = 1; d < idx.size(); ++d) g.per_cloud *= idx[d];
  g.y.push_back(x[2]);
  return g;
}

}  // namespace

// ------------------------------------------------------------------ gather_points

sdk::OpSpec GatherPoints::spec() {
  return sdk::OpSpec("gather_points",
                     "Rows of each cloud picked by index (the official code's index_points): "
                     "y[b, j..., :] = x[b, indices[b, j...], :]. Backward adds each row's gradient back "
                     "to the row it came from.")
      .input("x", "[B, N, C] per-point values")
      .input("indices", "[B, S, ...] int64 in [0, N)", "int64")
      .no_grad()
      .output("y", "[B, S, ..., C]")
      .caps(PCV_CAP_CPU | PCV_CAP_BACKWARD | PCV_CAP_THREADSAFE_COMPUTE);
}

void GatherPoints::infer_shapes(sdk::ShapeContext& ctx) const {
  ctx.set_output(0, ctx.input_dtype(0), gather_shape(ctx.input_shape(0), ctx.input_shape(1)).y);
}

void GatherPoints::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto idx = ctx.input<std::int64_t>(1);
    const GatherShape g = gather_shape(x.shape(), idx.shape());
    require_indices(idx.data(), g.clouds, g.per_cloud, g.n, "pointconv.gather_points", "indices");
    auto y = ctx.output<T>(0, g.y);
    const T* px = x.data();
    const std::int64_t* pi = idx.data();
    T* py = y.data();
#pragma omp parallel for num_threads(ctx.num_threads()) if (g.clouds * g.per_cloud * g.channels > \
                                                            kParallelValues)
    for (std::int64_t r = 0; r < g.clouds * g.per_cloud; ++r) {
      const std::int64_t b = r / g.per_cloud;
      std::copy_n(px + (b * g.n + pi[r]) * g.channels, g.channels, py + r * g.channels);
    }
  });
}

void GatherPoints::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    const GatherShape g = gather_shape(shape_at(ctx, 0), shape_at(ctx, 1));
    auto dy = ctx.grad_output<T>(0);
    kernels::require_gradient_shape(dy.shape(), g.y, "pointconv.gather_points");
    scatter_rows(dy.data(), ctx.input<std::int64_t>(1).data(), ctx.grad_input<T>(0).data(), g.clouds,
                 g.per_cloud, g.n, g.channels, 0, g.channels, ctx.num_threads());
  });
}

// ------------------------------------------------------------------ group

namespace {

enum GroupInput : std::size_t { kXyz = 0, kCentres = 1, kIndices = 2, kFeatures = 3 };

struct GroupShape {
  std::int64_t clouds, n, centres, neighbours, features;
  sdk::Shape rel() const { return {clouds, centres, neighbours, 3}; }
  sdk::Shape grouped() const { return {clouds, centres, neighbours, 3 + features}; }
};

template <class Ctx>
GroupShape group_shape(const Ctx& ctx, bool has_indices, bool has_features) {
  const char* op = "pointconv.group";
  const auto xyz = shape_at(ctx, kXyz);
  const auto centres = shape_at(ctx, kCentres);
  GroupShape g{xyz[0], points_of(xyz, op, "xyz"), points_of(centres, op, "centres"), 0, 0};
  require_same_clouds(centres, "centres", xyz, "xyz", op);
  g.neighbours = g.n;
  if (has_indices) {
    const auto idx = shape_at(ctx, kIndices);
    if (idx.size() != 3 || idx[0] != xyz[0] || idx[1] != centres[1])
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'indices' is ", sdk::shape_string(idx), ", expected [", xyz[0],
                ", ", centres[1], ", K] (clouds of xyz, centres of centres)");
    g.neighbours = idx[2];
  }
  if (has_features) {
    const auto f = shape_at(ctx, kFeatures);
    if (f.size() != 3 || f[0] != xyz[0] || f[1] != xyz[1])
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'features' is ", sdk::shape_string(f), ", expected [", xyz[0],
                ", ", xyz[1], ", D] (one row per point of xyz ", sdk::shape_string(xyz), ")");
    g.features = f[2];
  }
  return g;
}

}  // namespace

sdk::OpSpec Group::spec() {
  return sdk::OpSpec("group",
                     "Each centre's neighbourhood as the official PointConv code builds it: rel = "
                     "xyz[indices] - centre (not divided by a radius), grouped = [rel, features[indices]] "
                     "(coordinates first). Without indices every point is in every neighbourhood "
                     "(group_all). Coordinates are data: backward differentiates the features only.")
      .input("xyz", "[B, N, 3] point coordinates")
      .no_grad()
      .input("centres", "[B, S, 3] neighbourhood centres")
      .no_grad()
      .optional_input("indices", "[B, S, K] int64 in [0, N) (knn or ball_query); absent: K = N, all points",
                      "int64")
      .no_grad()
      .optional_input("features", "[B, N, D] per-point features")
      .output("rel", "[B, S, K, 3] relative coordinates")
      .no_grad_output()
      .output("grouped", "[B, S, K, 3 + D] relative coordinates, then the neighbours' features")
      .caps(PCV_CAP_CPU | PCV_CAP_BACKWARD | PCV_CAP_THREADSAFE_COMPUTE);
}

void Group::infer_shapes(sdk::ShapeContext& ctx) const {
  if (ctx.has_input(kFeatures) && !same_dtype(ctx.input_dtype(kFeatures), ctx.input_dtype(kXyz)))
    sdk::fail(PCV_ERR_SHAPE, "pointconv.group: input 'features' is ", dtype_name(ctx.input_dtype(kFeatures)),
              " but input 'xyz' is ", dtype_name(ctx.input_dtype(kXyz)));
  if (!same_dtype(ctx.input_dtype(kCentres), ctx.input_dtype(kXyz)))
    sdk::fail(PCV_ERR_SHAPE, "pointconv.group: input 'centres' is ", dtype_name(ctx.input_dtype(kCentres)),
              " but input 'xyz' is ", dtype_name(ctx.input_dtype(kXyz)));
  const GroupShape g = group_shape(ctx, ctx.has_input(kIndices), ctx.has_input(kFeatures));
  ctx.set_output(0, ctx.input_dtype(kXyz), g.rel());
  ctx.set_output(1, ctx.input_dtype(kXyz), g.grouped());
}

void Group::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kXyz).dtype, ctx.names().input(kXyz), [&](auto zero) {
    using T = decltype(zero);
    const bool has_idx = ctx.has_input(kIndices), has_features = ctx.has_input(kFeatures);
    const GroupShape g = group_shape(ctx, has_idx, has_features);
    const std::int64_t k = g.neighbours, d = g.features, width = 3 + d;
    const T* xyz = ctx.input<T>(kXyz).data();
    const T* centres = ctx.input<T>(kCentres).data();
    const std::int64_t* idx = has_idx ? ctx.input<std::int64_t>(kIndices).data() : nullptr;
    const T* features = has_features ? ctx.input<T>(kFeatures).data() : nullptr;
    if (idx) require_indices(idx, g.clouds, g.centres * k, g.n, "pointconv.group", "indices");
    T* rel = ctx.output<T>(0, g.rel()).data();
    T* grouped = ctx.output<T>(1, g.grouped()).data();
#pragma omp parallel for num_threads(ctx.num_threads()) if (g.clouds * g.centres * k * width > \
                                                            kParallelValues)
    for (std::int64_t r = 0; r < g.clouds * g.centres; ++r) {
      const std::int64_t b = r / g.centres;
      const T* c = centres + r * 3;
      for (std::int64_t j = 0; j < k; ++j) {
        const std::int64_t i = idx ? idx[r * k + j] : j, row = r * k + j;
        const T* p = xyz + (b * g.n + i) * 3;
        T* out = grouped + row * width;
        for (int a = 0; a < 3; ++a) rel[row * 3 + a] = out[a] = p[a] - c[a];
        if (d > 0) std::copy_n(features + (b * g.n + i) * d, d, out + 3);
      }
    }
  });
}

void Group::backward(sdk::BackwardContext& ctx) const {
  // xyz, centres and indices are declared no_grad: the host never asks for their gradients.
  if (!ctx.has_input(kFeatures) || !ctx.wants_grad(kFeatures)) return;
  sdk::dispatch_float(ctx.raw_input(kFeatures).dtype, ctx.names().input(kFeatures), [&](auto zero) {
    using T = decltype(zero);
    const bool has_idx = ctx.has_input(kIndices);
    const GroupShape g = group_shape(ctx, has_idx, true);
    auto dy = ctx.grad_output<T>(1);
    kernels::require_gradient_shape(dy.shape(), g.grouped(), "pointconv.group");
    scatter_rows(dy.data(), has_idx ? ctx.input<std::int64_t>(kIndices).data() : nullptr,
                 ctx.grad_input<T>(kFeatures).data(), g.clouds, g.centres * g.neighbours, g.n, 3 + g.features,
                 3, g.features, ctx.num_threads());
  });
}

// ------------------------------------------------------------------ centroid

sdk::OpSpec Centroid::spec() {
  return sdk::OpSpec("centroid",
                     "The mean point of each cloud (summed in double): the centre the official PointConv "
                     "code's group_all layer uses (PointNet++ uses the origin instead).")
      .input("xyz", "[B, N, 3] point coordinates, N ≥ 1")
      .output("centre", "[B, 1, 3]")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void Centroid::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto xyz = ctx.input_shape(0);
  if (points_of(xyz, "pointconv.centroid", "xyz") == 0)
    sdk::fail(PCV_ERR_SHAPE, "pointconv.centroid: the clouds of input 'xyz' ", sdk::shape_string(xyz),
              " are empty: they have no centroid");
  ctx.set_output(0, ctx.input_dtype(0), sdk::Shape{xyz[0], 1, 3});
}

void Centroid::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto xyz = ctx.input<T>(0);
    const std::int64_t clouds = xyz.shape()[0], n = points_of(xyz.shape(), "pointconv.centroid", "xyz");
    if (n == 0)
      sdk::fail(PCV_ERR_SHAPE, "pointconv.centroid: the clouds of input 'xyz' ",
                sdk::shape_string(xyz.shape()), " are empty: they have no centroid");
    T* out = ctx.output<T>(0, sdk::Shape{clouds, 1, 3}).data();
    for (std::int64_t b = 0; b < clouds; ++b)
      for (int a = 0; a < 3; ++a) {
        double sum = 0;
        for (std::int64_t i = 0; i < n; ++i) sum += xyz.data()[(b * n + i) * 3 + a];
        out[b * 3 + a] = T(sum / double(n));
      }
  });
}

}  // namespace pcv::pointconv
