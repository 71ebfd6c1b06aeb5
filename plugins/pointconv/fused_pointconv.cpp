#include "fused_pointconv.hpp"

#include <pcv/simd_clones.hpp>

#include "aggregate.hpp"
#include "cloud_checks.hpp"
#include "kernels/blas.hpp"

#include <algorithm>
#include <cmath>
#include <string>

namespace pcv::pointconv {
namespace {

enum Input : std::size_t { kXyz = 0, kCentres = 1, kIndices = 2, kFeatures = 3, kInverse = 4, kParams = 5 };
constexpr const char* kOp = "pointconv.pointconv";

// Rows (centre × neighbour pairs) per tile: small enough that a tile's activations stay in the
// core's L2 cache, large enough for efficient GEMMs.
constexpr std::int64_t kTileRows = 1024;

struct Sizes {
  std::int64_t clouds, n, centres, k, d;
  std::int64_t c, m;  // feature width after the MLP, WeightNet output width
};

// A 1×1 layer after batch-norm folding: y = act(x · wᵀ + b).
template <class T>
struct Layer {
  const T* w;
  const T* b;
  std::int64_t in, out;
  bool sigmoid;
};

// y = x · wᵀ for inputs too thin (WeightNet's 3, DensityNet's 1) for a GEMM to pay off.
template <class T>
PCV_SIMD_CLONES void thin_product(const Layer<T>& l, const T* x, std::int64_t rows, T* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    T* out = y + r * l.out;
#pragma omp simd
    for (std::int64_t o = 0; o < l.out; ++o) out[o] = x[r * l.in] * l.w[o * l.in];
    for (std::int64_t i = 1; i < l.in; ++i) {
      const T v = x[r * l.in + i];
#pragma omp simd
      for (std::int64_t o = 0; o < l.out; ++o) out[o] += v * l.w[o * l.in + i];
    }
  }
}

// y = max(y + b, 0) per row: the product's epilogue, while its output is still in cache.
template <class T>
PCV_SIMD_CLONES void bias_relu(const T* b, std::int64_t rows, std::int64_t out, T* y) {
  for (std::int64_t r = 0; r < rows; ++r) {
    T* row = y + r * out;
#pragma omp simd
    for (std::int64_t o = 0; o < out; ++o) row[o] = std::max(row[o] + b[o], T(0));
  }
}

// rows × layer.in → rows × layer.out: product, bias, activation.
template <class T>
void apply(const Layer<T>& l, const T* x, std::int64_t rows, T* y) {
  if (l.in <= 4)
    thin_product(l, x, rows, y);
  else
    kernels::blas::gemm<T>(false, true, rows, l.out, l.in, T(1), x, l.in, l.w, l.in, T(0), y, l.out);
  if (!l.sigmoid) return bias_relu(l.b, rows, l.out, y);
  for (std::int64_t i = 0; i < rows * l.out; ++i) y[i] = T(1) / (T(1) + std::exp(-(y[i] + l.b[i % l.out])));
}

// Runs the layers on x, alternating between two scratch buffers; returns the last output.
template <class T>
const T* run_layers(const std::vector<Layer<T>>& layers, const T* x, std::int64_t rows, T* a, T* b) {
  for (const Layer<T>& l : layers) {
    T* y = x == a ? b : a;
    apply(l, x, rows, y);
    x = y;
  }
  return x;
}

std::int64_t widest(const std::vector<std::int64_t>& widths, std::int64_t first) {
  std::int64_t w = first;
  for (std::int64_t v : widths) w = std::max(w, v);
  return w;
}

}  // namespace

sdk::OpSpec FusedPointConv::spec() {
  return sdk::OpSpec(
             "pointconv",
             "Inference-only fusion of one PointConv neighbourhood computation, equal to pointconv.group, "
             "the feature MLP, WeightNet, density_scale + DensityNet and pointconv.aggregate with batch "
             "norms folded (each layer: x · weightᵀ + bias, then ReLU; the last DensityNet layer ReLU or "
             "sigmoid), and optionally the layer's final linear + ReLU. Works through tiles of centres, so "
             "[B, S, K, C] is never stored (nor [B, S, C·M] with the final linear). libpcv's "
             "fuse_pointconv pass builds it from the layer-by-layer graph; train with that graph.")
      .input("xyz", "[B, N, 3] point coordinates")
      .input("centres", "[B, S, 3]")
      .optional_input("indices", "[B, S, K] int64 in [0, N); absent: every point (group_all)", "int64")
      .optional_input("features", "[B, N, D]")
      .optional_input("inverse", "[B, N] inverse density (pointconv.density); absent: no DensityNet")
      .variadic_input("params",
                      "weight [out, in] and bias [out] of each layer: the feature MLP's, WeightNet's, "
                      "DensityNet's (when inverse is given), then the final linear's (when linear > 0)")
      .output("y", "[B, S, C·M] as pointconv.aggregate, or [B, S, linear]")
      .required_attr<std::vector<std::int64_t>>("mlp", "feature MLP output widths (may be empty)")
      .required_attr<std::vector<std::int64_t>>("weightnet", "WeightNet output widths; the last is M")
      .attr("densitynet", "DensityNet output widths, the last 1", std::vector<std::int64_t>{})
      .attr("density_activation",
            "the last DensityNet layer's activation: 'relu' (official PyTorch) or 'sigmoid'",
            std::string("relu"))
      .attr("linear", "width of the final linear + ReLU on the C·M products; 0: none", std::int64_t{0})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

FusedPointConv::FusedPointConv(const sdk::Attributes& attrs)
    : mlp_(attrs.get<std::vector<std::int64_t>>("mlp")),
      weightnet_(attrs.get<std::vector<std::int64_t>>("weightnet")),
      densitynet_(attrs.get<std::vector<std::int64_t>>("densitynet")),
      linear_(attrs.get<std::int64_t>("linear")) {
  if (linear_ < 0)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'linear' = ", linear_, ", must be ≥ 0");
  const std::string act = attrs.get<std::string>("density_activation");
  if (act != "relu" && act != "sigmoid")
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'density_activation' = '", act,
              "', expected 'relu' or 'sigmoid'");
  density_sigmoid_ = act == "sigmoid";
  if (weightnet_.empty()) sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'weightnet' is empty");
  if (!densitynet_.empty() && densitynet_.back() != 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": the last DensityNet width is ", densitynet_.back(),
              ", must be 1");
  for (const auto* widths : {&mlp_, &weightnet_, &densitynet_})
    for (std::int64_t w : *widths)
      if (w < 1) sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": layer widths must be positive, got ", w);
}

namespace {

template <class Ctx>
Sizes sizes_of(const Ctx& ctx, const std::vector<std::int64_t>& mlp,
               const std::vector<std::int64_t>& weightnet, const std::vector<std::int64_t>& densitynet,
               std::int64_t linear) {
  const auto xyz = shape_at(ctx, kXyz), centres = shape_at(ctx, kCentres);
  Sizes z{xyz[0], points_of(xyz, kOp, "xyz"), points_of(centres, kOp, "centres"), 0, 0, 0, weightnet.back()};
  require_same_clouds(centres, "centres", xyz, "xyz", kOp);
  z.k = z.n;
  if (ctx.has_input(kIndices)) {
    const auto idx = shape_at(ctx, kIndices);
    if (idx.size() != 3 || idx[0] != z.clouds || idx[1] != z.centres)
      sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'indices' is ", sdk::shape_string(idx), ", expected [", z.clouds,
                ", ", z.centres, ", K]");
    z.k = idx[2];
  }
  if (ctx.has_input(kFeatures)) {
    const auto f = shape_at(ctx, kFeatures);
    if (f.size() != 3 || f[0] != z.clouds || f[1] != z.n)
      sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'features' is ", sdk::shape_string(f), ", expected [", z.clouds,
                ", ", z.n, ", D]");
    z.d = f[2];
  }
  if (ctx.has_input(kInverse)) {
    const auto inv = shape_at(ctx, kInverse);
    if (inv.size() != 2 || inv[0] != z.clouds || inv[1] != z.n)
      sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'inverse' is ", sdk::shape_string(inv), ", expected [", z.clouds,
                ", ", z.n, "]");
    if (densitynet.empty())
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp,
                ": input 'inverse' is given but attribute 'densitynet' is empty");
  }
  z.c = mlp.empty() ? 3 + z.d : mlp.back();
  // Every layer's weight [out, in] and bias [out], in order.
  std::size_t p = kParams;
  const auto check_layers = [&](const std::vector<std::int64_t>& widths, std::int64_t in, const char* what) {
    for (std::size_t l = 0; l < widths.size(); ++l, p += 2) {
      if (p + 1 >= ctx.num_inputs())
        sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": input 'params' ends before the weight and bias of ", what,
                  " layer ", l);
      const auto w = shape_at(ctx, p), b = shape_at(ctx, p + 1);
      if (w.size() != 2 || w[0] != widths[l] || w[1] != in || b.size() != 1 || b[0] != widths[l])
        sdk::fail(PCV_ERR_SHAPE, kOp, ": ", what, " layer ", l, " has weight ", sdk::shape_string(w),
                  " and bias ", sdk::shape_string(b), ", expected [", widths[l], ", ", in, "] and [",
                  widths[l], "]");
      in = widths[l];
    }
  };
  check_layers(mlp, 3 + z.d, "feature MLP");
  check_layers(weightnet, 3, "WeightNet");
  if (ctx.has_input(kInverse)) check_layers(densitynet, 1, "DensityNet");
  if (linear > 0) check_layers({linear}, z.c * z.m, "final linear");
  if (p != ctx.num_inputs())
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": input 'params' has ", ctx.num_inputs() - kParams,
              " tensors, the attributes describe ", p - kParams);
  return z;
}

}  // namespace

void FusedPointConv::infer_shapes(sdk::ShapeContext& ctx) const {
  const Sizes z = sizes_of(ctx, mlp_, weightnet_, densitynet_, linear_);
  ctx.set_output(0, ctx.input_dtype(kXyz),
                 sdk::Shape{z.clouds, z.centres, linear_ > 0 ? linear_ : z.c * z.m});
}

void FusedPointConv::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(kXyz).dtype, ctx.names().input(kXyz), [&](auto zero) {
    using T = decltype(zero);
    const Sizes z = sizes_of(ctx, mlp_, weightnet_, densitynet_, linear_);
    const T* xyz = ctx.input<T>(kXyz).data();
    const T* centres = ctx.input<T>(kCentres).data();
    const std::int64_t* idx = ctx.has_input(kIndices) ? ctx.input<std::int64_t>(kIndices).data() : nullptr;
    const T* features = ctx.has_input(kFeatures) ? ctx.input<T>(kFeatures).data() : nullptr;
    const T* inverse = ctx.has_input(kInverse) ? ctx.input<T>(kInverse).data() : nullptr;
    if (idx) require_indices(idx, z.clouds, z.centres * z.k, z.n, kOp, "indices");
    const std::int64_t width_out = linear_ > 0 ? linear_ : z.c * z.m;
    T* y = ctx.output<T>(0, sdk::Shape{z.clouds, z.centres, width_out}).data();

    std::size_t p = kParams;
    const auto layers = [&](const std::vector<std::int64_t>& widths, std::int64_t in, bool sigmoid_last) {
      std::vector<Layer<T>> out;
      for (std::size_t l = 0; l < widths.size(); ++l, p += 2) {
        out.push_back({ctx.input<T>(p).data(), ctx.input<T>(p + 1).data(), in, widths[l],
                       sigmoid_last && l + 1 == widths.size()});
        in = widths[l];
      }
      return out;
    };
    const std::vector<Layer<T>> mlp = layers(mlp_, 3 + z.d, false);
    const std::vector<Layer<T>> weightnet = layers(weightnet_, 3, false);
    const std::vector<Layer<T>> densitynet =
        inverse ? layers(densitynet_, 1, density_sigmoid_) : std::vector<Layer<T>>{};
    const std::vector<Layer<T>> linear =
        linear_ > 0 ? layers({linear_}, z.c * z.m, false) : std::vector<Layer<T>>{};

    const std::int64_t total = z.clouds * z.centres;
    const int threads = ctx.num_threads();
    // Centres per tile: about kTileRows rows, but at least a few tiles per thread.
    const std::int64_t per_tile = std::clamp<std::int64_t>(
        std::min(kTileRows / std::max<std::int64_t>(z.k, 1), (total + 4 * threads - 1) / (4 * threads)), 1,
        total);
    // With the final linear, centres go in chunks: the tiles of a chunk write its C·M products, one
    // GEMM over the chunk applies the linear (reading its weight once per chunk, not per tile).
    const std::int64_t per_chunk = linear.empty() ? total : std::min(total, per_tile * 8 * threads);
    const std::int64_t rows_max = per_tile * z.k;
    const std::int64_t feature_width = widest(mlp_, 3 + z.d), weight_width = widest(weightnet_, 3);
    const std::int64_t density_width = widest(densitynet_, 1);
    std::vector<T> products(linear.empty() ? 0 : std::size_t(per_chunk * z.c * z.m));
    for (std::int64_t chunk = 0; chunk < total; chunk += per_chunk) {
      const std::int64_t chunk_end = std::min(total, chunk + per_chunk);
      const std::int64_t tiles = (chunk_end - chunk + per_tile - 1) / per_tile;
      // Where centre r's C·M products go: the output itself, or the chunk's buffer.
      T* dest = linear.empty() ? y : products.data() - chunk * z.c * z.m;
      kernels::blas::use_threads(1);  // each tile's GEMMs run on the thread that owns the tile
#pragma omp parallel num_threads(threads) if (tiles > 1)
      {
        std::vector<T> fa(std::size_t(rows_max * feature_width)), fb(fa.size());
        std::vector<T> wa(std::size_t(rows_max * weight_width)), wb(wa.size());
        std::vector<T> da(std::size_t(rows_max * density_width)), db(da.size());
        std::vector<T> rel(std::size_t(rows_max * 3)), scratch(std::size_t(z.k * z.m));
#pragma omp for schedule(dynamic)
        for (std::int64_t t = 0; t < tiles; ++t) {
          const std::int64_t r0 = chunk + t * per_tile, r1 = std::min(chunk_end, r0 + per_tile);
          const std::int64_t rows = (r1 - r0) * z.k, width = 3 + z.d;
          for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t b = r / z.centres;
            const T* c = centres + r * 3;
            T* scale = da.data() + (r - r0) * z.k;
            T largest = 0;
            for (std::int64_t j = 0; j < z.k; ++j) {
              const std::int64_t i = idx ? idx[r * z.k + j] : j, row = (r - r0) * z.k + j;
              const T* q = xyz + (b * z.n + i) * 3;
              T* g = fa.data() + row * width;
              for (int a = 0; a < 3; ++a) rel[std::size_t(row * 3 + a)] = g[a] = q[a] - c[a];
              if (z.d > 0) std::copy_n(features + (b * z.n + i) * z.d, z.d, g + 3);
              if (inverse) {
                scale[j] = inverse[b * z.n + i];
                largest = std::max(largest, scale[j]);
              }
            }
            if (inverse)
              for (std::int64_t j = 0; j < z.k; ++j) scale[j] /= largest;
          }
          const T* x = run_layers(mlp, fa.data(), rows, fa.data(), fb.data());
          const T* w = run_layers(weightnet, rel.data(), rows, wa.data(), wb.data());
          const T* s = inverse ? run_layers(densitynet, da.data(), rows, da.data(), db.data()) : nullptr;
          for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t off = (r - r0) * z.k;
            aggregate_centre(x + off * z.c, w + off * z.m, s ? s + off : nullptr, z.k, z.c, z.m,
                             scratch.data(), dest + r * z.c * z.m);
          }
        }
      }
      if (linear.empty()) continue;
      const Layer<T>& l = linear.front();
      const std::int64_t rows = chunk_end - chunk;
      T* out = y + chunk * l.out;
      kernels::blas::gemm_parallel<T>(threads, false, true, rows, l.out, l.in, T(1), products.data(), l.in,
                                      l.w, l.in, T(0), out, l.out);
      bias_relu(l.b, rows, l.out, out);
    }
  });
}

}  // namespace pcv::pointconv
