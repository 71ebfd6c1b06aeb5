#include "interpolate.hpp"

#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/op_checks.hpp"

namespace pcv::upsample {
namespace {

using sdk::Shape;

constexpr const char* kOp = "upsample.interpolate";

// Below this many output elements in all, one thread is faster.
constexpr std::int64_t kParallelWork = 32768;

// ------------------------------------------------------------------ modes and attributes

struct ModeInfo {
  const char* name;
  InterpolationMode mode;
  int rank;  // the number of spatial dims the mode needs; 0: any of 1 to 3
};

constexpr ModeInfo kModes[] = {
    {"nearest", InterpolationMode::kNearest, 0},     {"nearest-exact", InterpolationMode::kNearestExact, 0},
    {"linear", InterpolationMode::kLinear, 1},       {"bilinear", InterpolationMode::kBilinear, 2},
    {"trilinear", InterpolationMode::kTrilinear, 3}, {"bicubic", InterpolationMode::kBicubic, 2}};

constexpr const char* kModeList = "nearest, nearest-exact, linear, bilinear, trilinear, bicubic";

const ModeInfo& mode_info(InterpolationMode mode) {
  for (const ModeInfo& m : kModes)
    if (m.mode == mode) return m;
  return kModes[0];
}

InterpolationMode parse_mode(const std::string& name) {
  for (const ModeInfo& m : kModes)
    if (name == m.name) return m.mode;
  sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'mode' is '", name, "'; expected one of ", kModeList);
}

bool is_nearest(InterpolationMode m) {
  return m == InterpolationMode::kNearest || m == InterpolationMode::kNearestExact;
}

int taps_of(InterpolationMode m) {
  if (is_nearest(m)) return 1;
  return m == InterpolationMode::kBicubic ? 4 : 2;
}

const char* layout_name(int rank) {
  static constexpr const char* names[] = {"", "[N, C, L]", "[N, C, H, W]", "[N, C, D, H, W]"};
  return names[rank];
}

template <class V>
std::string list_string(const std::vector<V>& v) {
  std::string s = "[";
  for (std::size_t i = 0; i < v.size(); ++i) {
    std::ostringstream item;
    item << v[i];
    s += item.str() + (i + 1 < v.size() ? ", " : "");
  }
  return s + "]";
}

// ------------------------------------------------------------------ geometry

// x [N, C, *S] as N * C planes of three spatial dims (D, H, W); below rank 3 the leading dims
// have size 1 in and out.
struct Geometry {
  std::int64_t planes = 0;
  std::array<std::int64_t, 3> in{1, 1, 1}, out{1, 1, 1};
  // Per dim, the scale_factor whose inverse scales the coordinates, or 0 when the coordinates
  // use in / out (size given, or recompute_scale_factor).
  std::array<double, 3> coordinate_factor{0, 0, 0};
  Shape y_shape;
  std::int64_t in_plane() const { return in[0] * in[1] * in[2]; }
  std::int64_t out_plane() const { return out[0] * out[1] * out[2]; }
};

struct Settings {
  InterpolationMode mode;
  const std::vector<std::int64_t>& size;
  const std::vector<double>& scale_factor;
  bool recompute_scale_factor;
};

// Checks x's rank against the mode and the attributes' entry counts; computes the output size.
Geometry geometry(std::span<const std::int64_t> x, const Settings& s) {
  if (x.size() < 3 || x.size() > 5)
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'x' has ", x.size(), " dims ", shape_string(x),
              ", expected 3, 4 or 5 ([N, C, *S] with 1 to 3 spatial dims)");
  const int rank = static_cast<int>(x.size()) - 2;
  const ModeInfo& mode = mode_info(s.mode);
  if (mode.rank != 0 && mode.rank != rank)
    sdk::fail(
        PCV_ERR_SHAPE, kOp, ": mode '", mode.name, "' needs input 'x' with ", mode.rank, " spatial dim",
        mode.rank > 1 ? "s (" : " (", layout_name(mode.rank), "), but x is ", shape_string(x), " with ", rank,
        " (linear takes 1 spatial dim, bilinear and bicubic 2, trilinear 3, nearest and nearest-exact any)");
  const bool by_size = !s.size.empty();
  const std::size_t entries = by_size ? s.size.size() : s.scale_factor.size();
  if (entries != 1 && entries != static_cast<std::size_t>(rank))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute '", by_size ? "size" : "scale_factor", "' has ",
              entries, " entries, expected 1 or ", rank, " (one per spatial dim of input 'x' ",
              shape_string(x), ")");
  Geometry g;
  g.planes = x[0] * x[1];
  g.y_shape = {x[0], x[1]};
  for (int d = 0; d < rank; ++d) {
    const std::size_t k = static_cast<std::size_t>(3 - rank + d);
    const std::size_t e = entries == 1 ? 0 : static_cast<std::size_t>(d);
    const std::int64_t in = x[static_cast<std::size_t>(2 + d)];
    if (in < 1)
      sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'x' ", shape_string(x), " has an empty spatial dim ", d);
    std::int64_t out;
    if (by_size) {
      out = s.size[e];
    } else {
      const double factor = s.scale_factor[e];
      const double product = static_cast<double>(in) * factor;
      if (!(product < 0x1p62))
        sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'scale_factor' entry ", factor,
                  " gives an output size too large for spatial dim ", d, " of input 'x' ", shape_string(x));
      out = static_cast<std::int64_t>(product);  // floor: the product is positive
      if (out < 1)
        sdk::fail(PCV_ERR_SHAPE, kOp, ": attribute 'scale_factor' entry ", factor,
                  " gives an output size of 0 for spatial dim ", d, " of input 'x' ", shape_string(x),
                  " (floor(", in, " * ", factor, ") = 0)");
      if (!s.recompute_scale_factor) g.coordinate_factor[k] = factor;
    }
    g.in[k] = in;
    g.out[k] = out;
    g.y_shape.push_back(out);
  }
  return g;
}

// ------------------------------------------------------------------ per-dim tables

// Along one dim, output index o reads input indices index[o * taps + j] with weights
// weight[o * taps + j], j < taps.
template <class T>
struct AxisTable {
  std::int64_t in = 1, out = 1;
  int taps = 1;
  bool identity = true;  // taps == 1 and index[o] == o: a copy
  std::vector<std::int64_t> index{0};
  std::vector<T> weight{T(1)};
};

// PyTorch's cubic convolution weights (A = -0.75) of the taps at floor(src) - 1 .. + 2 for the
// fractional position t = src - floor(src).
void cubic_weights(double t, double* w) {
  constexpr double A = -0.75;
  const auto near = [](double s) { return ((A + 2) * s - (A + 3)) * s * s + 1; };       // |s| <= 1
  const auto far = [](double s) { return ((A * s - 5 * A) * s + 8 * A) * s - 4 * A; };  // 1 < |s| < 2
  w[0] = far(t + 1);
  w[1] = near(t);
  w[2] = near(1 - t);
  w[3] = far(2 - t);
}

// The coordinate scale of the linear and cubic modes (PyTorch's area_pixel_compute_scale).
double linear_scale(std::int64_t in, std::int64_t out, double factor, bool align_corners) {
  if (align_corners) return out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  return factor > 0 ? 1.0 / factor : static_cast<double>(in) / static_cast<double>(out);
}

template <class T>
AxisTable<T> axis_table(InterpolationMode mode, std::int64_t in, std::int64_t out, double factor,
                        bool align_corners) {
  AxisTable<T> t;
  t.in = in;
  t.out = out;
  // PyTorch's linear kernels copy a dim whose size does not change, whatever the scale_factor.
  if (in == out && (mode == InterpolationMode::kLinear || mode == InterpolationMode::kBilinear ||
                    mode == InterpolationMode::kTrilinear)) {
    t.index.resize(static_cast<std::size_t>(out));
    for (std::int64_t o = 0; o < out; ++o) t.index[static_cast<std::size_t>(o)] = o;
    t.weight.assign(static_cast<std::size_t>(out), T(1));
    return t;
  }
  const int taps = taps_of(mode);
  std::vector<double> weight(static_cast<std::size_t>(out * taps));
  t.index.resize(static_cast<std::size_t>(out * taps));
  t.taps = taps;
  if (is_nearest(mode)) {
    // PyTorch 1.13's float64 rule, for both dtypes: the source position in double precision,
    // rounded to single precision before the floor (its floorf), so a position that lies on a
    // pixel boundary up to rounding (11 * 26/22 = 13) picks that pixel. nearest-exact goes
    // through the half-pixel position clamped at 0, plus 0.5. (PyTorch's float32 forward
    // computes in single precision throughout and picks the pixel before at some of these
    // boundaries; its backward uses single precision for both dtypes.)
    const double scale = factor > 0 ? 1.0 / factor : static_cast<double>(in) / static_cast<double>(out);
    const bool exact = mode == InterpolationMode::kNearestExact;
    for (std::int64_t o = 0; o < out; ++o) {
      const double d = static_cast<double>(o);
      const double position = exact ? std::max(scale * (d + 0.5) - 0.5, 0.0) + 0.5 : scale * d;
      const float rounded = static_cast<float>(position);
      t.index[static_cast<std::size_t>(o)] = std::min(static_cast<std::int64_t>(std::floor(rounded)), in - 1);
      weight[static_cast<std::size_t>(o)] = 1;
    }
  } else {
    const double scale = linear_scale(in, out, factor, align_corners);
    const bool cubic = mode == InterpolationMode::kBicubic;
    for (std::int64_t o = 0; o < out; ++o) {
      double src =
          align_corners ? scale * static_cast<double>(o) : scale * (static_cast<double>(o) + 0.5) - 0.5;
      std::int64_t* index = &t.index[static_cast<std::size_t>(o * taps)];
      double* w = &weight[static_cast<std::size_t>(o * taps)];
      if (cubic) {
        const double base = std::floor(src);
        cubic_weights(src - base, w);
        for (int j = 0; j < 4; ++j)
          index[j] = std::clamp(static_cast<std::int64_t>(base) - 1 + j, std::int64_t{0}, in - 1);
      } else {
        src = std::max(src, 0.0);  // clamped for the linear modes only (no effect with align_corners)
        const std::int64_t i0 = static_cast<std::int64_t>(src);
        const double lambda = std::clamp(src - static_cast<double>(i0), 0.0, 1.0);
        index[0] = i0;
        index[1] = i0 < in - 1 ? i0 + 1 : i0;
        w[0] = 1 - lambda;
        w[1] = lambda;
      }
    }
    // Every output on a single input with weight 1 (e.g. align_corners on (in - 1) / (out - 1)
    // integer steps, or bicubic on an unchanged size): keep one tap.
    bool single = true;
    for (std::int64_t o = 0; o < out && single; ++o) {
      int ones = 0, zeros = 0;
      for (int j = 0; j < taps; ++j) {
        const double w = weight[static_cast<std::size_t>(o * taps + j)];
        ones += w == 1.0;
        zeros += w == 0.0;
      }
      single = ones == 1 && zeros == taps - 1;
    }
    if (single) {
      std::vector<std::int64_t> index(static_cast<std::size_t>(out));
      for (std::int64_t o = 0; o < out; ++o)
        for (int j = 0; j < taps; ++j)
          if (weight[static_cast<std::size_t>(o * taps + j)] == 1.0)
            index[static_cast<std::size_t>(o)] = t.index[static_cast<std::size_t>(o * taps + j)];
      t.index = std::move(index);
      weight.assign(static_cast<std::size_t>(out), 1.0);
      t.taps = 1;
    }
  }
  t.weight.assign(weight.begin(), weight.end());
  t.identity = t.taps == 1 && in == out;
  for (std::int64_t o = 0; o < out && t.identity; ++o) t.identity = t.index[static_cast<std::size_t>(o)] == o;
  return t;
}

template <class T>
struct Tables {
  std::array<AxisTable<T>, 3> axes;  // D, H, W
};

template <class T>
Tables<T> make_tables(const Geometry& g, InterpolationMode mode, bool align_corners) {
  Tables<T> t;
  for (std::size_t k = 0; k < 3; ++k)
    t.axes[k] = axis_table<T>(mode, g.in[k], g.out[k], g.coordinate_factor[k], align_corners);
  return t;
}

// ------------------------------------------------------------------ row and slab kernels
//
// A plane is resized dim by dim, last dim first: an output row (od, oh) blends the W-resized
// input rows it reads, and an output slab od blends resized input slabs. Resized input rows and
// slabs are kept in small rings (one slot per tap, slot = index % taps) so that each is computed
// once when consecutive outputs share inputs. The sources of one output lie within `taps`
// consecutive indices, so they occupy distinct slots (forward relies on this), and they never
// decrease with the output index, so a slot is reused only when its index is no longer needed.
// Backward is the same walk in reverse: output gradients are accumulated in the ring slots and
// scattered into dx when a slot is reused or at the end.

// `slots` buffers of `length` elements, each tagged with the index it holds (-1: none).
template <class T>
struct Ring {
  int slots = 0;
  std::int64_t length = 0;
  std::vector<T> data;
  std::vector<std::int64_t> tag;
  Ring() = default;
  Ring(int slots_, std::int64_t length_)
      : slots(slots_),
        length(length_),
        data(static_cast<std::size_t>(slots_ * length_)),
        tag(static_cast<std::size_t>(slots_), -1) {}
  void reset() { std::fill(tag.begin(), tag.end(), -1); }
  int slot(std::int64_t index) const { return static_cast<int>(index % slots); }
  T* buffer(int slot) { return data.data() + slot * length; }
};

// The per-thread buffers of one call.
template <class T>
struct Scratch {
  Ring<T> rows;   // W-resized rows (forward) or row gradients (backward), length out_w
  Ring<T> slabs;  // HW-resized slabs or slab gradients, length out_h * out_w
};

template <class T>
Scratch<T> make_scratch(const Tables<T>& t, bool backward) {
  const AxisTable<T>&d = t.axes[0], &h = t.axes[1], &w = t.axes[2];
  Scratch<T> s;
  if (backward ? !h.identity : h.taps > 1) s.rows = Ring<T>(h.taps, w.out);
  if (backward ? !d.identity : d.taps > 1) s.slabs = Ring<T>(d.taps, h.out * w.out);
  return s;
}

template <class T, int K>
void gather_row(const T* __restrict src, T* __restrict dst, const AxisTable<T>& w) {
  const std::int64_t* index = w.index.data();
  const T* weight = w.weight.data();
  for (std::int64_t o = 0; o < w.out; ++o) {
    if constexpr (K == 1) {
      dst[o] = src[index[o]];  // nearest: weight 1
    } else {
      T sum = weight[o * K] * src[index[o * K]];
      for (int j = 1; j < K; ++j) sum += weight[o * K + j] * src[index[o * K + j]];
      dst[o] = sum;
    }
  }
}

// dst[out_w] = the input row src[in_w] resized along W.
template <class T>
void resize_row(const T* src, T* dst, const AxisTable<T>& w) {
  if (w.identity) {
    std::memcpy(dst, src, static_cast<std::size_t>(w.out) * sizeof(T));
    return;
  }
  switch (w.taps) {
    case 1:
      return gather_row<T, 1>(src, dst, w);
    case 2:
      return gather_row<T, 2>(src, dst, w);
    default:
      return gather_row<T, 4>(src, dst, w);
  }
}

// dst[i] = sum_j weight[j] * src[j][i] for i < n.
template <class T>
void blend(T* __restrict dst, const T* const* src, const T* weight, int taps, std::int64_t n) {
  if (taps == 2) {
    const T* __restrict a = src[0], * __restrict b = src[1];
    const T wa = weight[0], wb = weight[1];
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) dst[i] = wa * a[i] + wb * b[i];
  } else if (taps == 4) {
    const T* __restrict a = src[0], * __restrict b = src[1], * __restrict c = src[2], * __restrict d = src[3];
    const T wa = weight[0], wb = weight[1], wc = weight[2], wd = weight[3];
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) dst[i] = wa * a[i] + wb * b[i] + wc * c[i] + wd * d[i];
  } else {
    const T* __restrict a = src[0];
    const T wa = weight[0];
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) dst[i] = wa * a[i];
  }
}

// dst[out_h, out_w] = the input slice src[in_h, in_w] resized along H and W.
template <class T>
void resize_slice(const T* src, T* dst, const AxisTable<T>& h, const AxisTable<T>& w, Ring<T>& rows) {
  const std::int64_t in_w = w.in, out_w = w.out;
  if (h.taps == 1) {  // nearest: an output row repeating the previous one's source is a copy
    for (std::int64_t oh = 0; oh < h.out; ++oh) {
      T* row = dst + oh * out_w;
      if (oh > 0 && h.index[static_cast<std::size_t>(oh)] == h.index[static_cast<std::size_t>(oh - 1)])
        std::memcpy(row, row - out_w, static_cast<std::size_t>(out_w) * sizeof(T));
      else
        resize_row(src + h.index[static_cast<std::size_t>(oh)] * in_w, row, w);
    }
    return;
  }
  rows.reset();
  const T* sources[4];
  for (std::int64_t oh = 0; oh < h.out; ++oh) {
    for (int j = 0; j < h.taps; ++j) {
      const std::int64_t ih = h.index[static_cast<std::size_t>(oh * h.taps + j)];
      const int s = rows.slot(ih);
      if (rows.tag[static_cast<std::size_t>(s)] != ih) {
        resize_row(src + ih * in_w, rows.buffer(s), w);
        rows.tag[static_cast<std::size_t>(s)] = ih;
      }
      sources[j] = rows.buffer(s);
    }
    blend(dst + oh * out_w, sources, &h.weight[static_cast<std::size_t>(oh * h.taps)], h.taps, out_w);
  }
}

// y[out plane] = the input plane x resized along D, H and W.
template <class T>
void resize_plane(const T* x, T* y, const Tables<T>& t, Scratch<T>& s) {
  const AxisTable<T>&d = t.axes[0], &h = t.axes[1], &w = t.axes[2];
  const std::int64_t in_slice = h.in * w.in, out_slice = h.out * w.out;
  if (d.taps == 1) {
    for (std::int64_t od = 0; od < d.out; ++od) {
      T* slab = y + od * out_slice;
      if (od > 0 && d.index[static_cast<std::size_t>(od)] == d.index[static_cast<std::size_t>(od - 1)])
        std::memcpy(slab, slab - out_slice, static_cast<std::size_t>(out_slice) * sizeof(T));
      else
        resize_slice(x + d.index[static_cast<std::size_t>(od)] * in_slice, slab, h, w, s.rows);
    }
    return;
  }
  s.slabs.reset();
  const T* sources[4];
  for (std::int64_t od = 0; od < d.out; ++od) {
    for (int j = 0; j < d.taps; ++j) {
      const std::int64_t id = d.index[static_cast<std::size_t>(od * d.taps + j)];
      const int k = s.slabs.slot(id);
      if (s.slabs.tag[static_cast<std::size_t>(k)] != id) {
        resize_slice(x + id * in_slice, s.slabs.buffer(k), h, w, s.rows);
        s.slabs.tag[static_cast<std::size_t>(k)] = id;
      }
      sources[j] = s.slabs.buffer(k);
    }
    blend(y + od * out_slice, sources, &d.weight[static_cast<std::size_t>(od * d.taps)], d.taps, out_slice);
  }
}

// ---- backward

template <class T, int K>
void scatter_row(const T* __restrict grad, T* __restrict dx, const AxisTable<T>& w) {
  const std::int64_t* index = w.index.data();
  const T* weight = w.weight.data();
  for (std::int64_t o = 0; o < w.out; ++o) {
    if constexpr (K == 1) {
      dx[index[o]] += grad[o];
    } else {
      const T g = grad[o];
      for (int j = 0; j < K; ++j) dx[index[o * K + j]] += weight[o * K + j] * g;
    }
  }
}

// dx[in_w] += the adjoint of resize_row applied to grad[out_w].
template <class T>
void scatter_row(const T* grad, T* dx, const AxisTable<T>& w) {
  if (w.identity) {
#pragma omp simd
    for (std::int64_t i = 0; i < w.out; ++i) dx[i] += grad[i];
    return;
  }
  switch (w.taps) {
    case 1:
      return scatter_row<T, 1>(grad, dx, w);
    case 2:
      return scatter_row<T, 2>(grad, dx, w);
    default:
      return scatter_row<T, 4>(grad, dx, w);
  }
}

// acc[i] = weight * grad[i] (fresh slot) or acc[i] += weight * grad[i].
template <class T>
void accumulate(T* __restrict acc, const T* __restrict grad, T weight, bool fresh, std::int64_t n) {
  if (fresh) {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) acc[i] = weight * grad[i];
  } else {
#pragma omp simd
    for (std::int64_t i = 0; i < n; ++i) acc[i] += weight * grad[i];
  }
}

// Walks the outputs of one dim (table a, outputs of `length` elements in grad) and accumulates
// each into the ring slot of every input it reads; flush(input index, buffer) takes a finished
// slot. The sum that reaches an input is the same whatever the slot reuse, so the result does
// not depend on when slots are flushed.
template <class T, class Flush>
void accumulate_dim(const T* grad, const AxisTable<T>& a, std::int64_t length, Ring<T>& ring, Flush&& flush) {
  ring.reset();
  for (std::int64_t o = 0; o < a.out; ++o)
    for (int j = 0; j < a.taps; ++j) {
      const std::int64_t i = a.index[static_cast<std::size_t>(o * a.taps + j)];
      const int s = ring.slot(i);
      std::int64_t& tag = ring.tag[static_cast<std::size_t>(s)];
      const bool fresh = tag != i;
      if (fresh && tag >= 0) flush(tag, ring.buffer(s));
      tag = i;
      accumulate(ring.buffer(s), grad + o * length, a.weight[static_cast<std::size_t>(o * a.taps + j)], fresh,
                 length);
    }
  for (int s = 0; s < ring.slots; ++s)
    if (ring.tag[static_cast<std::size_t>(s)] >= 0)
      flush(ring.tag[static_cast<std::size_t>(s)], ring.buffer(s));
}

// dx[in_h, in_w] += the adjoint of resize_slice applied to grad[out_h, out_w].
template <class T>
void scatter_slice(const T* grad, T* dx, const AxisTable<T>& h, const AxisTable<T>& w, Ring<T>& rows) {
  if (h.identity) {
    for (std::int64_t oh = 0; oh < h.out; ++oh) scatter_row(grad + oh * w.out, dx + oh * w.in, w);
    return;
  }
  accumulate_dim(grad, h, w.out, rows,
                 [&](std::int64_t ih, const T* row) { scatter_row(row, dx + ih * w.in, w); });
}

// dx[in plane] = the adjoint of resize_plane applied to grad[out plane].
template <class T>
void scatter_plane(const T* grad, T* dx, const Tables<T>& t, Scratch<T>& s) {
  const AxisTable<T>&d = t.axes[0], &h = t.axes[1], &w = t.axes[2];
  const std::int64_t in_slice = h.in * w.in, out_slice = h.out * w.out;
  std::fill(dx, dx + d.in * in_slice, T(0));
  if (d.identity) {
    for (std::int64_t od = 0; od < d.out; ++od)
      scatter_slice(grad + od * out_slice, dx + od * in_slice, h, w, s.rows);
    return;
  }
  accumulate_dim(grad, d, out_slice, s.slabs, [&](std::int64_t id, const T* slab) {
    scatter_slice(slab, dx + id * in_slice, h, w, s.rows);
  });
}

// Runs body(plane, scratch) for every plane, in parallel when worth it. Each plane is computed
// by one thread in a fixed order, so results do not depend on the thread count. The buffers are
// allocated here, before the parallel region.
template <class T, class Body>
void for_each_plane(const Geometry& g, const Tables<T>& t, bool backward, int threads, Body&& body) {
  const std::int64_t planes = g.planes;
  const bool parallel =
      threads > 1 && planes > 1 && planes * std::max(g.out_plane(), g.in_plane()) > kParallelWork;
  const int team = parallel ? static_cast<int>(std::min<std::int64_t>(threads, planes)) : 1;
  std::vector<Scratch<T>> scratch;
  for (int i = 0; i < team; ++i) scratch.push_back(make_scratch(t, backward));
#pragma omp parallel num_threads(team) if (team > 1)
  {
    Scratch<T>& mine = scratch[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static)
    for (std::int64_t p = 0; p < planes; ++p) body(p, mine);
  }
}

void check_float_dtype(pcv_dtype dtype) {
  if (!same_dtype(dtype, kFloat32) && !same_dtype(dtype, kFloat64))
    sdk::fail(PCV_ERR_NOT_SUPPORTED, kOp, ": input 'x' has dtype ", dtype_name(dtype),
              ", expected float32 or float64");
}

}  // namespace

sdk::OpSpec Interpolate::spec() {
  return sdk::OpSpec(
             "interpolate",
             "Resizes the 1 to 3 spatial dims of x [N, C, *S] as PyTorch 1.13's F.interpolate / nn.Upsample. "
             "Output size: `size`, or floor(in * scale_factor). Source coordinate of output index o: "
             "nearest floor(o * scale), nearest-exact floor((o + 0.5) * scale) (both clipped to in - 1); "
             "linear modes and bicubic (o + 0.5) * scale - 0.5 (clamped at 0 for the linear modes), or "
             "o * (in - 1) / (out - 1) with align_corners; scale = 1 / scale_factor, or in / out when size "
             "is given or recompute_scale_factor is set. Linear modes blend the 2 nearest inputs per dim "
             "(a dim whose size does not change is copied, as in PyTorch); bicubic uses cubic convolution "
             "(A = -0.75) over 4 inputs per dim, clamped to the border. Backward scatter-adds dy with the "
             "same weights.")
      .input("x", "[N, C, L], [N, C, H, W] or [N, C, D, H, W]")
      .output("y", "[N, C, *out]: out = size, or floor(in * scale_factor), per spatial dim")
      .attr("mode",
            "nearest (legacy nn.Upsample default: no half-pixel offset), nearest-exact (pixel centres, as "
            "PIL and scikit-image), linear (1 spatial dim), bilinear (2), trilinear (3), bicubic (2)",
            "nearest")
      .attr("size",
            "output spatial size, one entry for every spatial dim or one per dim; empty: use scale_factor",
            std::vector<std::int64_t>{})
      .attr("scale_factor",
            "spatial size multiplier (> 0), one entry or one per dim; output size floor(in * scale_factor); "
            "empty: use size. Exactly one of size and scale_factor is given",
            std::vector<double>{})
      .attr(
          "align_corners",
          "linear modes and bicubic: map the centres of the corner pixels onto each other "
          "(src = dst * (in - 1) / (out - 1)); false: half-pixel centres. Not allowed with the nearest modes",
          false)
      .attr("recompute_scale_factor",
            "with scale_factor: compute source coordinates with in / out (from the floored output size) "
            "instead of 1 / scale_factor. Not allowed with size",
            false)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Interpolate::Interpolate(const sdk::Attributes& a)
    : mode_(parse_mode(a.get<std::string>("mode"))),
      size_(a.get<std::vector<std::int64_t>>("size")),
      scale_factor_(a.get<std::vector<double>>("scale_factor")),
      align_corners_(a.get<bool>("align_corners")),
      recompute_scale_factor_(a.get<bool>("recompute_scale_factor")) {
  if (!size_.empty() && !scale_factor_.empty())
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attributes 'size' ", list_string(size_),
              " and 'scale_factor' ", list_string(scale_factor_),
              " are both given; give exactly one of them");
  if (size_.empty() && scale_factor_.empty())
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp,
              ": neither attribute 'size' nor 'scale_factor' is given; give exactly one of them");
  for (const std::int64_t s : size_)
    if (s < 1)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'size' has entry ", s,
                ", expected positive values");
  for (const double f : scale_factor_)
    if (!(f > 0) || !std::isfinite(f))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'scale_factor' has entry ", f,
                ", expected positive finite values");
  if (align_corners_ && is_nearest(mode_))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp,
              ": attribute 'align_corners' can only be true with the "
              "interpolating modes linear, bilinear, trilinear and bicubic, not with mode '",
              mode_info(mode_).name, "'");
  if (recompute_scale_factor_ && !size_.empty())
    sdk::fail(
        PCV_ERR_INVALID_ARGUMENT, kOp,
        ": attribute 'recompute_scale_factor' is only meaningful with 'scale_factor', not with an explicit "
        "'size'");
}

void Interpolate::infer_shapes(sdk::ShapeContext& ctx) const {
  check_float_dtype(ctx.input_dtype(0));
  const Geometry g = geometry(ctx.input_shape(0), {mode_, size_, scale_factor_, recompute_scale_factor_});
  ctx.set_output(0, ctx.input_dtype(0), g.y_shape);
}

void Interpolate::forward(sdk::ForwardContext& ctx) const {
  check_float_dtype(ctx.raw_input(0).dtype);
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    const Geometry g = geometry(x.shape(), {mode_, size_, scale_factor_, recompute_scale_factor_});
    auto y = ctx.output<T>(0, g.y_shape);
    const Tables<T> tables = make_tables<T>(g, mode_, align_corners_);
    const T* px = x.data();
    T* py = y.data();
    const std::int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
    for_each_plane(g, tables, false, ctx.num_threads(), [&](std::int64_t p, Scratch<T>& s) {
      resize_plane(px + p * in_plane, py + p * out_plane, tables, s);
    });
  });
}

void Interpolate::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  check_float_dtype(ctx.raw_input(0).dtype);
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const Geometry g = geometry(x.shape(), {mode_, size_, scale_factor_, recompute_scale_factor_});
    kernels::require_gradient_shape(dy.shape(), g.y_shape, kOp);
    const Tables<T> tables = make_tables<T>(g, mode_, align_corners_);
    const T* pdy = dy.data();
    T* pdx = dx.data();
    const std::int64_t in_plane = g.in_plane(), out_plane = g.out_plane();
    for_each_plane(g, tables, true, ctx.num_threads(), [&](std::int64_t p, Scratch<T>& s) {
      scatter_plane(pdy + p * out_plane, pdx + p * in_plane, tables, s);
    });
  });
}

}  // namespace pcv::upsample
