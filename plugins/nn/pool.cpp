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

// Elements per task of the global pools' forward: many planes at a time when they are small.
constexpr std::int64_t kGlobalChunk = 65536;

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

// ------------------------------------------------------------------ max pool fast path
//
// A plane without NaN is pooled separably: for each output row (od, oh), column_max[iw] is the
// maximum of column iw over the window's input rows (contiguous, vectorised), and each output
// is then the maximum of its window's columns of column_max. Without NaN, max is associative
// and the first maximum in scan order (rows, then columns) can be recovered from the first row
// that reaches each column's maximum, so results are those of the per-window scan. Planes that
// hold a NaN (or a -0, see needs_exact_scan) take the per-window scan (window_argmax), which
// implements PyTorch's rules.

// The loops below are built for three x86-64 levels and the best one for the CPU is picked when
// the plugin loads (GCC function multiversioning, an ifunc): the project compiles for baseline
// x86-64, whose SSE2 code for the column scan (compare, blend by masks) is about a quarter
// slower than AVX2's. Each clone is deterministic; which one runs depends on the CPU only.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PCV_NN_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PCV_NN_SIMD_CLONES
#endif

// Whether x[0, n) holds a NaN or a -0: the values for which the fast paths' plain comparisons
// could give another result than PyTorch's scan (NaN ordering, or a maximum of 0 taken from a
// -0 rather than an earlier +0 in the window).
template <class T>
PCV_NN_SIMD_CLONES bool needs_exact_scan(const T* x, std::int64_t n) {
  int found = 0;
#pragma omp simd reduction(| : found)
  for (std::int64_t i = 0; i < n; ++i) found |= (x[i] != x[i]) | ((x[i] == T(0)) & std::signbit(x[i]));
  return found != 0;
}

// Buffers of the fast path for one plane, a few hundred bytes: cheap next to a plane's work.
template <class T>
struct MaxPoolScratch {
  std::vector<std::int64_t> rows;        // plane offsets of the window's input rows, in scan order
  std::vector<T> column_max;             // [in_w]
  std::vector<std::int32_t> column_row;  // [in_w], index into rows of the first row reaching column_max
  MaxPoolScratch(const PoolWindow& w, const PoolGeometry& g)
      : rows(static_cast<std::size_t>(w.kernel[0] * w.kernel[1])),
        column_max(static_cast<std::size_t>(g.in[2])),
        column_row(static_cast<std::size_t>(g.in[2])) {}
};

// Fills rows with the plane offsets of the input rows of the windows at (od, oh), in scan order;
// returns how many there are.
inline int window_rows(const PoolWindow& w, const PoolGeometry& g, const Taps& td, const Taps& th,
                       std::int64_t* rows) {
  int n = 0;
  for (std::int64_t jd = td.first; jd < td.last; ++jd)
    for (std::int64_t jh = th.first; jh < th.last; ++jh)
      rows[n++] = ((td.start + jd * w.dilation[0]) * g.in[1] + th.start + jh * w.dilation[1]) * g.in[2];
  return n;
}

// column_max = max over the n rows; with `track`, column_row = the first row reaching it.
template <bool track, class T>
[[gnu::always_inline]] inline void column_maxima(const T* plane, const std::int64_t* rows, int n,
                                                 std::int64_t width, T* __restrict column_max,
                                                 std::int32_t* __restrict column_row) {
  std::copy(plane + rows[0], plane + rows[0] + width, column_max);
  if constexpr (track) std::fill(column_row, column_row + width, 0);
  for (int r = 1; r < n; ++r) {
    const T* __restrict row = plane + rows[r];
#pragma omp simd
    for (std::int64_t iw = 0; iw < width; ++iw) {
      // A mask, not a select on `greater`: the compiler turns the latter into a branch in the
      // scalar remainder of the loop, which mispredicts on short rows.
      const std::int32_t take = -static_cast<std::int32_t>(row[iw] > column_max[iw]);
      if constexpr (track) column_row[iw] ^= (column_row[iw] ^ r) & take;
      column_max[iw] = row[iw] > column_max[iw] ? row[iw] : column_max[iw];
    }
  }
}

// Forward of one NaN-free plane.
template <class T>
PCV_NN_SIMD_CLONES void max_pool_plane(const T* plane, T* out, const PoolWindow& w, const PoolGeometry& g,
                                       const ExtentTables<Taps>& taps, MaxPoolScratch<T>& scratch) {
  const T lowest = -std::numeric_limits<T>::infinity();
  const std::int64_t dilation = w.dilation[2];
  T* column_max = scratch.column_max.data();
  for (std::int64_t od = 0; od < g.out[0]; ++od)
    for (std::int64_t oh = 0; oh < g.out[1]; ++oh, out += g.out[2]) {
      const int n = window_rows(w, g, taps[0][od], taps[1][oh], scratch.rows.data());
      if (n == 0) {  // the windows hold no input element
        std::fill(out, out + g.out[2], lowest);
        continue;
      }
      column_maxima<false>(plane, scratch.rows.data(), n, g.in[2], column_max, scratch.column_row.data());
      for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
        const Taps& tw = taps[2][ow];
        T best = lowest;
        for (std::int64_t jw = tw.first; jw < tw.last; ++jw) {
          const T v = column_max[tw.start + jw * dilation];
          best = v > best ? v : best;
        }
        out[ow] = best;
      }
    }
}

// Backward of one NaN-free plane: dx (zeroed here) receives each output's gradient at the
// first maximum of its window, the one with the smallest row and then the smallest column.
template <class T>
PCV_NN_SIMD_CLONES void max_pool_plane_backward(const T* plane, const T* grad, T* dx, const PoolWindow& w,
                                                const PoolGeometry& g, const ExtentTables<Taps>& taps,
                                                MaxPoolScratch<T>& scratch) {
  std::fill(dx, dx + g.in_plane(), T(0));
  const std::int64_t dilation = w.dilation[2];
  const std::int64_t* rows = scratch.rows.data();
  T* column_max = scratch.column_max.data();
  std::int32_t* column_row = scratch.column_row.data();
  for (std::int64_t od = 0; od < g.out[0]; ++od)
    for (std::int64_t oh = 0; oh < g.out[1]; ++oh, grad += g.out[2]) {
      const int n = window_rows(w, g, taps[0][od], taps[1][oh], scratch.rows.data());
      if (n == 0) continue;  // the windows hold no input element
      column_maxima<true>(plane, rows, n, g.in[2], column_max, column_row);
      for (std::int64_t ow = 0; ow < g.out[2]; ++ow) {
        const Taps& tw = taps[2][ow];
        T best = -std::numeric_limits<T>::infinity();
        std::int32_t best_row = std::numeric_limits<std::int32_t>::max();
        std::int64_t best_column = -1;
        for (std::int64_t jw = tw.first; jw < tw.last; ++jw) {
          const std::int64_t c = tw.start + jw * dilation;
          const T v = column_max[c];
          const std::int32_t r = column_row[c];
          // Masks rather than a branch, which the compiler would make of a plain select: whether
          // a column wins is unpredictable. `best` is the running maximum either way.
          const std::int64_t take = -static_cast<std::int64_t>((v > best) | ((v == best) & (r < best_row)));
          best_row = static_cast<std::int32_t>((r & take) | (best_row & ~take));
          best_column = (c & take) | (best_column & ~take);
          best = v > best ? v : best;
        }
        if (best_column >= 0) dx[rows[best_row] + best_column] += grad[ow];
      }
    }
}

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
      if (!needs_exact_scan(plane, g.in_plane())) {
        MaxPoolScratch<T> scratch(w, g);
        max_pool_plane(plane, out, w, g, taps, scratch);
        return;
      }
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
      if (!needs_exact_scan(plane, g.in_plane())) {
        MaxPoolScratch<T> scratch(w, g);
        max_pool_plane_backward(plane, grad, out, w, g, taps, scratch);
        return;
      }
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

namespace {

// y[p] = the maximum of plane p (x + p * n) for p in [first, last): the first NaN if the plane
// holds one, else the first maximum in scan order, which matters only for the sign of a maximum
// of 0. The NaN test is a flag beside the vectorised maximum, not a branch in every comparison.
// A range of planes per call rather than one: at 4 KB a plane, the per-call overhead showed
// in a pass that should be bound by memory bandwidth.
template <class T>
PCV_NN_SIMD_CLONES void plane_maxima(const T* x, std::int64_t first, std::int64_t last, std::int64_t n,
                                     T* y) {
  for (std::int64_t p = first; p < last; ++p) {
    const T* plane = x + p * n;
    T best = -std::numeric_limits<T>::infinity();
    int found_nan = 0;
#pragma omp simd reduction(max : best) reduction(| : found_nan)
    for (std::int64_t i = 0; i < n; ++i) {
      best = plane[i] > best ? plane[i] : best;
      found_nan |= plane[i] != plane[i];
    }
    if (found_nan)
      best = *std::find_if(plane, plane + n, [](T v) { return std::isnan(v); });
    else if (best == T(0))
      best = *std::find(plane, plane + n, T(0));  // +0 or -0, whichever comes first
    y[p] = best;
  }
}

// dx = dy / ties where x == y, else 0, with ties the number of such elements.
template <class T>
PCV_NN_SIMD_CLONES void plane_max_grad(const T* x, std::int64_t n, T y, T dy, T* dx) {
  std::int64_t ties = 0;
#pragma omp simd reduction(+ : ties)
  for (std::int64_t i = 0; i < n; ++i) ties += x[i] == y;
  const T share = ties > 0 ? dy / T(ties) : T(0);
#pragma omp simd
  for (std::int64_t i = 0; i < n; ++i) dx[i] = x[i] == y ? share : T(0);
}

}  // namespace

struct GlobalMaxKind {
  static constexpr const char* name = "global_max_pool";
  static constexpr const char* doc =
      "Maximum over all spatial dims of x [N, C, *S] (x.amax over the spatial dims); NaN propagates. "
      "Backward splits each gradient evenly among the maxima of its plane, as PyTorch's amax does.";
  template <class T>
  static void reduce(const T* x, std::int64_t first, std::int64_t last, std::int64_t n, T* y) {
    plane_maxima(x, first, last, n, y);
  }
  template <class T>
  static void scatter_grad(const T* plane, std::int64_t n, T y, T dy, T* dx) {
    plane_max_grad(plane, n, y, dy, dx);
  }
};

struct GlobalAvgKind {
  static constexpr const char* name = "global_avg_pool";
  static constexpr const char* doc =
      "Mean over all spatial dims of x [N, C, *S] (x.mean over the spatial dims).";
  template <class T>
  static void reduce(const T* x, std::int64_t first, std::int64_t last, std::int64_t n, T* y) {
    for (std::int64_t p = first; p < last; ++p) {
      const T* plane = x + p * n;
      double sum = 0;
      for (std::int64_t i = 0; i < n; ++i) sum += plane[i];
      y[p] = T(sum / static_cast<double>(n));
    }
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
    // Contiguous chunks of about kGlobalChunk elements; each plane is reduced by one thread.
    const std::int64_t per_chunk = std::max<std::int64_t>(1, kGlobalChunk / std::max<std::int64_t>(size, 1));
    const std::int64_t chunks = (planes + per_chunk - 1) / per_chunk;
#pragma omp parallel for num_threads(ctx.num_threads()) if (chunks > 1 && planes * size > kParallelWork)
    for (std::int64_t c = 0; c < chunks; ++c)
      Kind::reduce(px, c * per_chunk, std::min(planes, (c + 1) * per_chunk), size, py);
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
