#include "pool.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace pcv::nn {
namespace {

using Dims = PoolWindow::Dims;
using sdk::Shape;

// Below this much work (output elements times window size) one thread is faster.
constexpr std::int64_t kParallelWork = 32768;

std::string pool_name(const char* kind, int rank) {
  return std::string(kind) + "_pool" + std::to_string(rank) + "d";
}

const char* layout_name(int rank) {
  static constexpr const char* names[] = {"", "[N, C, L]", "[N, C, H, W]", "[N, C, D, H, W]"};
  return names[rank];
}

// The R trailing entries of a 3-entry Dims, as written in an attribute: "[3, 2]".
std::string dims_string(const Dims& d, int rank) {
  std::string s = "[";
  for (int i = 3 - rank; i < 3; ++i) s += std::to_string(d[i]) + (i + 1 < 3 ? ", " : "]");
  return s;
}

// A spatial attribute (one entry per spatial dim, or one for all) placed in the trailing R
// entries of `out`; the leading ones keep their neutral value. Empty keeps `out` unchanged
// when `empty_ok` (stride: then equal to kernel_size).
void read_spatial_attr(const sdk::Attributes& a, const char* name, int rank, const std::string& op,
                       std::int64_t min_value, bool empty_ok, Dims& out) {
  const auto values = a.get<std::vector<std::int64_t>>(name);
  if (values.empty() && empty_ok) return;
  if (values.size() != 1 && values.size() != static_cast<std::size_t>(rank))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": attribute '", name, "' has ", values.size(),
              " entries, expected 1 or ", rank);
  for (int d = 0; d < rank; ++d) {
    const std::int64_t v = values[values.size() == 1 ? 0 : static_cast<std::size_t>(d)];
    if (v < min_value)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": attribute '", name, "' has entry ", v, ", expected ",
                min_value == 0 ? "non-negative values" : "positive values");
    out[static_cast<std::size_t>(3 - rank + d)] = v;
  }
}

PoolWindow read_window(const sdk::Attributes& a, int rank, const std::string& op, bool has_dilation) {
  PoolWindow w;
  read_spatial_attr(a, "kernel_size", rank, op, 1, false, w.kernel);
  w.stride = w.kernel;
  read_spatial_attr(a, "stride", rank, op, 1, true, w.stride);
  read_spatial_attr(a, "padding", rank, op, 0, false, w.padding);
  if (has_dilation) read_spatial_attr(a, "dilation", rank, op, 1, false, w.dilation);
  w.ceil_mode = a.get<bool>("ceil_mode");
  // PyTorch's rule (padding <= kernel_size / 2).
  for (std::size_t d = 0; d < 3; ++d)
    if (w.padding[d] > w.kernel[d] / 2)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": padding ", dims_string(w.padding, rank),
                " is more than half of kernel_size ", dims_string(w.kernel, rank),
                " (PyTorch requires padding <= kernel_size / 2)");
  return w;
}

// Output size along one dim, PyTorch's formula: ceil mode may add a partial last window (even
// when the kernel overhangs a short input), but drops one that would start in the right padding.
// 0 or less when not even one window fits.
std::int64_t pooled_size(std::int64_t in, const PoolWindow& w, std::size_t d) {
  const std::int64_t s = w.stride[d];
  const std::int64_t span =
      in + 2 * w.padding[d] - w.dilation[d] * (w.kernel[d] - 1) - 1 + (w.ceil_mode ? s - 1 : 0);
  if (span < 0) return 0;  // floor(span / s) + 1 <= 0
  std::int64_t out = span / s + 1;
  if (w.ceil_mode && (out - 1) * s >= in + w.padding[d]) --out;
  return out;
}

// x [N, C, *S] seen as N * C planes of three spatial dims (leading ones of size 1 below rank 3).
struct PoolGeometry {
  std::int64_t planes;
  Dims in{1, 1, 1}, out{1, 1, 1};
  std::int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  std::int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

// Checks x's rank and that a window fits; the output shape is [N, C, *out].
PoolGeometry pool_geometry(std::span<const std::int64_t> x, const PoolWindow& w, int rank,
                           const std::string& op) {
  if (x.size() != static_cast<std::size_t>(rank + 2))
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'x' has ", x.size(), " dims, expected ", rank + 2, " (",
              layout_name(rank), ")");
  PoolGeometry g;
  g.planes = x[0] * x[1];
  for (int d = 0; d < rank; ++d) {
    const std::size_t k = static_cast<std::size_t>(3 - rank + d);
    g.in[k] = x[static_cast<std::size_t>(2 + d)];
    g.out[k] = pooled_size(g.in[k], w, k);
    if (g.out[k] < 1)
      sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'x' ", shape_string(x), " is too small for kernel_size ",
                dims_string(w.kernel, rank), " with dilation ", dims_string(w.dilation, rank),
                " and padding ", dims_string(w.padding, rank), ": no window fits in spatial dim ", d);
  }
  return g;
}

Shape pooled_shape(std::span<const std::int64_t> x, const PoolGeometry& g, int rank) {
  Shape y{x[0], x[1]};
  for (int d = 0; d < rank; ++d) y.push_back(g.out[static_cast<std::size_t>(3 - rank + d)]);
  return y;
}

// The taps j in [first, last) of a window along one dim whose input index start + j * dilation
// lies inside the input.
struct Taps {
  std::int64_t start, first, last;
};

Taps window_taps(std::int64_t o, const PoolWindow& w, const PoolGeometry& g, std::size_t d) {
  const std::int64_t start = o * w.stride[d] - w.padding[d], dil = w.dilation[d];
  const std::int64_t first = start < 0 ? (-start + dil - 1) / dil : 0;
  const std::int64_t last = std::min(w.kernel[d], (g.in[d] - start + dil - 1) / dil);
  return {start, first, std::max(first, last)};
}

// The clipped extent [begin, end) of an average-pool window along one dim, and its length when
// clipped to input plus padding only (PyTorch's divisor with count_include_pad).
struct AvgExtent {
  std::int64_t begin, end, padded_length;
};

AvgExtent avg_extent(std::int64_t o, const PoolWindow& w, const PoolGeometry& g, std::size_t d) {
  const std::int64_t start = o * w.stride[d] - w.padding[d];
  const std::int64_t padded_end = std::min(start + w.kernel[d], g.in[d] + w.padding[d]);
  return {std::max<std::int64_t>(start, 0), std::min(padded_end, g.in[d]), padded_end - start};
}

// Per-dim tables of the windows of every output position (Taps or AvgExtent), computed once per
// call and shared by all planes: the divisions stay out of the inner loops.
template <class Extent>
using ExtentTables = std::array<std::vector<Extent>, 3>;

template <class Extent, class Make>
ExtentTables<Extent> extent_tables(const PoolGeometry& g, Make&& make) {
  ExtentTables<Extent> tables;
  for (std::size_t d = 0; d < 3; ++d)
    for (std::int64_t o = 0; o < g.out[d]; ++o) tables[d].push_back(make(o, d));
  return tables;
}

ExtentTables<Taps> tap_tables(const PoolWindow& w, const PoolGeometry& g) {
  return extent_tables<Taps>(g, [&](std::int64_t o, std::size_t d) { return window_taps(o, w, g, d); });
}

ExtentTables<AvgExtent> avg_tables(const PoolWindow& w, const PoolGeometry& g) {
  return extent_tables<AvgExtent>(g, [&](std::int64_t o, std::size_t d) { return avg_extent(o, w, g, d); });
}

// Index in the plane of the first maximum of the window at output position o (NaN counts as the
// maximum, as in PyTorch); -1 when the window holds no input element (possible with dilation).
template <class T>
std::int64_t window_argmax(const T* plane, const PoolWindow& w, const PoolGeometry& g,
                           const ExtentTables<Taps>& taps, const Dims& o) {
  const Taps &td = taps[0][o[0]], &th = taps[1][o[1]], &tw = taps[2][o[2]];
  std::int64_t best = -1;
  T best_value = -std::numeric_limits<T>::infinity();
  for (std::int64_t jd = td.first; jd < td.last; ++jd) {
    const std::int64_t id = td.start + jd * w.dilation[0];
    for (std::int64_t jh = th.first; jh < th.last; ++jh) {
      const std::int64_t row = (id * g.in[1] + th.start + jh * w.dilation[1]) * g.in[2];
      for (std::int64_t jw = tw.first; jw < tw.last; ++jw) {
        const std::int64_t i = row + tw.start + jw * w.dilation[2];
        const T v = plane[i];
        if (best < 0 || v > best_value || std::isnan(v)) {
          best = i;
          best_value = v;
        }
      }
    }
  }
  return best;
}

// Calls f(input index in the plane) for every input element of the average window at o, and
// returns the divisor of that window.
template <class F>
std::int64_t for_each_in_avg_window(const PoolGeometry& g, const ExtentTables<AvgExtent>& extents,
                                    const Dims& o, bool count_include_pad, F&& f) {
  const AvgExtent &ed = extents[0][o[0]], &eh = extents[1][o[1]], &ew = extents[2][o[2]];
  for (std::int64_t id = ed.begin; id < ed.end; ++id)
    for (std::int64_t ih = eh.begin; ih < eh.end; ++ih) {
      const std::int64_t row = (id * g.in[1] + ih) * g.in[2];
      for (std::int64_t iw = ew.begin; iw < ew.end; ++iw) f(row + iw);
    }
  if (count_include_pad) return ed.padded_length * eh.padded_length * ew.padded_length;
  return (ed.end - ed.begin) * (eh.end - eh.begin) * (ew.end - ew.begin);
}

// Calls f(output index in the plane, output position) for every output position of a plane.
template <class F>
void for_each_output(const PoolGeometry& g, F&& f) {
  std::int64_t index = 0;
  Dims o;
  for (o[0] = 0; o[0] < g.out[0]; ++o[0])
    for (o[1] = 0; o[1] < g.out[1]; ++o[1])
      for (o[2] = 0; o[2] < g.out[2]; ++o[2]) f(index++, o);
}

// Runs body(plane) for every plane, in parallel when the work is worth it; each plane is
// written by one thread, so results do not depend on the thread count.
template <class Body>
void for_each_plane(const PoolGeometry& g, std::int64_t work_per_plane, int threads, Body&& body) {
  const std::int64_t planes = g.planes;
#pragma omp parallel for num_threads(threads) if (planes > 1 && planes * work_per_plane > kParallelWork)
  for (std::int64_t p = 0; p < planes; ++p) body(p);
}

std::int64_t window_volume(const PoolWindow& w) { return w.kernel[0] * w.kernel[1] * w.kernel[2]; }

}  // namespace

// ------------------------------------------------------------------ max pool

template <int R>
sdk::OpSpec MaxPool<R>::spec() {
  return sdk::OpSpec(pool_name("max", R),
                     "Max pooling over " + std::to_string(R) + " spatial dims (F.max_pool" +
                         std::to_string(R) +
                         "d): padding counts as -inf; in ceil mode a last window starting in the right "
                         "padding is dropped. Backward sends each window's gradient to its first maximum.")
      .input("x", layout_name(R))
      .output("y", "[N, C, *pooled spatial dims]")
      .required_attr<std::vector<std::int64_t>>("kernel_size",
                                                "window size, one entry per spatial dim or one for all")
      .attr("stride", "window step; empty: kernel_size", std::vector<std::int64_t>{})
      .attr("padding", "implicit -inf padding on both sides, at most kernel_size / 2",
            std::vector<std::int64_t>{0})
      .attr("dilation", "spacing between window taps", std::vector<std::int64_t>{1})
      .attr("ceil_mode", "round the output size up instead of down", false)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <int R>
MaxPool<R>::MaxPool(const sdk::Attributes& a) : window_(read_window(a, R, pool_name("max", R), true)) {}

template <int R>
void MaxPool<R>::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto x = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0),
                 pooled_shape(x, pool_geometry(x, window_, R, pool_name("max", R)), R));
}

template <int R>
void MaxPool<R>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    const PoolGeometry g = pool_geometry(x.shape(), window_, R, pool_name("max", R));
    auto y = ctx.output<T>(0, pooled_shape(x.shape(), g, R));
    const T* px = x.data();
    T* py = y.data();
    const PoolWindow& w = window_;
    const ExtentTables<Taps> taps = tap_tables(w, g);
    for_each_plane(g, g.out_plane() * window_volume(w), ctx.num_threads(), [&](std::int64_t p) {
      const T* plane = px + p * g.in_plane();
      T* out = py + p * g.out_plane();
      for_each_output(g, [&](std::int64_t i, const Dims& o) {
        const std::int64_t best = window_argmax(plane, w, g, taps, o);
        out[i] = best >= 0 ? plane[best] : -std::numeric_limits<T>::infinity();
      });
    });
  });
}

// The argmax of each window is found again from x (the ABI keeps no state between calls).
template <int R>
void MaxPool<R>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const PoolGeometry g = pool_geometry(x.shape(), window_, R, pool_name("max", R));
    const T *px = x.data(), *pdy = dy.data();
    T* pdx = dx.data();
    const PoolWindow& w = window_;
    const ExtentTables<Taps> taps = tap_tables(w, g);
    for_each_plane(g, g.out_plane() * window_volume(w), ctx.num_threads(), [&](std::int64_t p) {
      const T* plane = px + p * g.in_plane();
      const T* grad = pdy + p * g.out_plane();
      T* out = pdx + p * g.in_plane();
      std::fill(out, out + g.in_plane(), T(0));
      for_each_output(g, [&](std::int64_t i, const Dims& o) {
        const std::int64_t best = window_argmax(plane, w, g, taps, o);
        if (best >= 0) out[best] += grad[i];
      });
    });
  });
}

// ------------------------------------------------------------------ average pool

template <int R>
sdk::OpSpec AvgPool<R>::spec() {
  return sdk::OpSpec(pool_name("avg", R),
                     "Average pooling over " + std::to_string(R) + " spatial dims (F.avg_pool" +
                         std::to_string(R) +
                         "d): zero padding; in ceil mode a last window starting in the right padding is "
                         "dropped.")
      .input("x", layout_name(R))
      .output("y", "[N, C, *pooled spatial dims]")
      .required_attr<std::vector<std::int64_t>>("kernel_size",
                                                "window size, one entry per spatial dim or one for all")
      .attr("stride", "window step; empty: kernel_size", std::vector<std::int64_t>{})
      .attr("padding", "implicit zero padding on both sides, at most kernel_size / 2",
            std::vector<std::int64_t>{0})
      .attr("ceil_mode", "round the output size up instead of down", false)
      .attr("count_include_pad",
            "divide by the window size clipped to input plus padding (else by the input elements covered)",
            true)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <int R>
AvgPool<R>::AvgPool(const sdk::Attributes& a)
    : window_(read_window(a, R, pool_name("avg", R), false)),
      count_include_pad_(a.get<bool>("count_include_pad")) {}

template <int R>
void AvgPool<R>::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto x = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0),
                 pooled_shape(x, pool_geometry(x, window_, R, pool_name("avg", R)), R));
}

template <int R>
void AvgPool<R>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    const PoolGeometry g = pool_geometry(x.shape(), window_, R, pool_name("avg", R));
    auto y = ctx.output<T>(0, pooled_shape(x.shape(), g, R));
    const T* px = x.data();
    T* py = y.data();
    const PoolWindow& w = window_;
    const ExtentTables<AvgExtent> extents = avg_tables(w, g);
    const bool include_pad = count_include_pad_;
    for_each_plane(g, g.out_plane() * window_volume(w), ctx.num_threads(), [&](std::int64_t p) {
      const T* plane = px + p * g.in_plane();
      T* out = py + p * g.out_plane();
      for_each_output(g, [&](std::int64_t i, const Dims& o) {
        double sum = 0;
        const std::int64_t divisor =
            for_each_in_avg_window(g, extents, o, include_pad, [&](std::int64_t j) { sum += plane[j]; });
        out[i] = T(sum / static_cast<double>(divisor));
      });
    });
  });
}

template <int R>
void AvgPool<R>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const PoolGeometry g = pool_geometry(x.shape(), window_, R, pool_name("avg", R));
    const T* pdy = dy.data();
    T* pdx = dx.data();
    const PoolWindow& w = window_;
    const ExtentTables<AvgExtent> extents = avg_tables(w, g);
    const bool include_pad = count_include_pad_;
    for_each_plane(g, g.out_plane() * window_volume(w), ctx.num_threads(), [&](std::int64_t p) {
      const T* grad = pdy + p * g.out_plane();
      T* out = pdx + p * g.in_plane();
      std::fill(out, out + g.in_plane(), T(0));
      for_each_output(g, [&](std::int64_t i, const Dims& o) {
        // The divisor is known only after the walk; count first, then spread.
        const std::int64_t divisor = for_each_in_avg_window(g, extents, o, include_pad, [](std::int64_t) {});
        const T share = T(double(grad[i]) / static_cast<double>(divisor));
        for_each_in_avg_window(g, extents, o, include_pad, [&](std::int64_t j) { out[j] += share; });
      });
    });
  });
}

template class MaxPool<1>;
template class MaxPool<2>;
template class MaxPool<3>;
template class AvgPool<1>;
template class AvgPool<2>;
template class AvgPool<3>;

// ------------------------------------------------------------------ global pools

struct GlobalMaxKind {
  static constexpr const char* name = "global_max_pool";
  static constexpr const char* doc =
      "Maximum over all spatial dims of x [N, C, *S] (x.amax over the spatial dims); NaN propagates. "
      "Backward splits each gradient evenly among the maxima of its plane, as PyTorch's amax does.";
  template <class T>
  static T reduce(const T* plane, std::int64_t n) {
    T best = -std::numeric_limits<T>::infinity();
    for (std::int64_t i = 0; i < n; ++i) {
      if (std::isnan(plane[i])) return plane[i];
      best = std::max(best, plane[i]);
    }
    return best;
  }
  template <class T>
  static void scatter_grad(const T* plane, std::int64_t n, T y, T dy, T* dx) {
    std::int64_t ties = 0;
    for (std::int64_t i = 0; i < n; ++i) ties += plane[i] == y;
    const T share = ties > 0 ? dy / T(ties) : T(0);
    for (std::int64_t i = 0; i < n; ++i) dx[i] = plane[i] == y ? share : T(0);
  }
};

struct GlobalAvgKind {
  static constexpr const char* name = "global_avg_pool";
  static constexpr const char* doc =
      "Mean over all spatial dims of x [N, C, *S] (x.mean over the spatial dims).";
  template <class T>
  static T reduce(const T* plane, std::int64_t n) {
    double sum = 0;
    for (std::int64_t i = 0; i < n; ++i) sum += plane[i];
    return T(sum / static_cast<double>(n));
  }
  template <class T>
  static void scatter_grad(const T* /*plane*/, std::int64_t n, T /*y*/, T dy, T* dx) {
    std::fill(dx, dx + n, T(double(dy) / static_cast<double>(n)));
  }
};

namespace {

// x [N, C, *S] as N * C planes of S elements; y [N, C] or, with keepdim, [N, C, 1, ...].
struct GlobalLayout {
  std::int64_t planes, plane_size;
  Shape y_shape;
};

GlobalLayout global_layout(std::span<const std::int64_t> x, bool keepdim, const char* op) {
  if (x.size() < 3)
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'x' has ", x.size(),
              " dims, expected at least 3 ([N, C, *S] with one or more spatial dims)");
  GlobalLayout l{x[0] * x[1], 1, Shape{x[0], x[1]}};
  for (std::size_t d = 2; d < x.size(); ++d) {
    l.plane_size *= x[d];
    if (keepdim) l.y_shape.push_back(1);
  }
  return l;
}

}  // namespace

template <class Kind>
sdk::OpSpec GlobalPool<Kind>::spec() {
  return sdk::OpSpec(Kind::name, Kind::doc)
      .input("x", "[N, C, *S], one or more spatial dims")
      .output("y", "[N, C], or [N, C, 1, ...] with keepdim")
      .attr("keepdim", "keep the reduced spatial dims with size 1", false)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <class Kind>
GlobalPool<Kind>::GlobalPool(const sdk::Attributes& a) : keepdim_(a.get<bool>("keepdim")) {}

template <class Kind>
void GlobalPool<Kind>::infer_shapes(sdk::ShapeContext& ctx) const {
  const auto x = ctx.input_shape(0);
  const GlobalLayout l = global_layout(x, keepdim_, Kind::name);
  if constexpr (std::is_same_v<Kind, GlobalMaxKind>)
    if (l.plane_size == 0 && l.planes > 0)
      sdk::fail(PCV_ERR_SHAPE, "nn.", Kind::name, ": input 'x' ", shape_string(x),
                " has no spatial elements to take the maximum of");
  ctx.set_output(0, ctx.input_dtype(0), l.y_shape);
}

template <class Kind>
void GlobalPool<Kind>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    const GlobalLayout l = global_layout(x.shape(), keepdim_, Kind::name);
    auto y = ctx.output<T>(0, l.y_shape);
    const T* px = x.data();
    T* py = y.data();
    const std::int64_t planes = l.planes, size = l.plane_size;
#pragma omp parallel for num_threads(ctx.num_threads()) if (planes > 1 && planes * size > kParallelWork)
    for (std::int64_t p = 0; p < planes; ++p) py[p] = Kind::reduce(px + p * size, size);
  });
}

template <class Kind>
void GlobalPool<Kind>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const GlobalLayout l = global_layout(x.shape(), keepdim_, Kind::name);
    const T *px = x.data(), *py = y.data(), *pdy = dy.data();
    T* pdx = dx.data();
    const std::int64_t planes = l.planes, size = l.plane_size;
#pragma omp parallel for num_threads(ctx.num_threads()) if (planes > 1 && planes * size > kParallelWork)
    for (std::int64_t p = 0; p < planes; ++p)
      Kind::scatter_grad(px + p * size, size, py[p], pdy[p], pdx + p * size);
  });
}

template class GlobalPool<GlobalMaxKind>;
template class GlobalPool<GlobalAvgKind>;

}  // namespace pcv::nn
