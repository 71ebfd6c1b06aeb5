#include "conv_reference.hpp"

#include <algorithm>
#include <vector>

#include "blas.hpp"

namespace pcv::kernels::conv_reference {
namespace {

// The output positions o in [0, count) whose input position o·stride + offset lies in [0, size).
struct ValidRange {
  std::int64_t begin, end;
  bool contains(std::int64_t o) const { return o >= begin && o < end; }
};

ValidRange valid_outputs(std::int64_t count, std::int64_t stride, std::int64_t offset, std::int64_t size) {
  const std::int64_t begin = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  const std::int64_t end = size - offset <= 0 ? 0 : (size - offset + stride - 1) / stride;
  const std::int64_t b = std::min(begin, count);
  return {b, std::clamp(end, b, count)};
}

// Where kernel tap `tap` (row-major over the kernel dims) reads the input: per dim, the input
// position of output 0 and the range of outputs that read inside the input.
struct Tap {
  std::array<std::int64_t, 3> offset;
  std::array<ValidRange, 3> valid;
};

Tap kernel_tap(const ConvGeometry& g, std::int64_t tap) {
  Tap t;
  std::array<std::int64_t, 3> k;
  k[2] = tap % g.kernel[2];
  k[1] = (tap / g.kernel[2]) % g.kernel[1];
  k[0] = tap / (g.kernel[2] * g.kernel[1]);
  for (int d = 0; d < 3; ++d) {
    t.offset[d] = k[d] * g.dilation[d] - g.padding[d];
    t.valid[d] = valid_outputs(g.out[d], g.stride[d], t.offset[d], g.in[d]);
  }
  return t;
}

// Calls f(output_index, input_index) for every output position of `tap` that reads inside the
// input, and zero(output_index, count) for the runs of positions that read padding.
template <class Inside, class Padding>
void walk_tap(const ConvGeometry& g, const Tap& t, Inside&& inside, Padding&& padding) {
  const std::int64_t plane = g.out[1] * g.out[2];
  for (std::int64_t o0 = 0; o0 < g.out[0]; ++o0) {
    if (!t.valid[0].contains(o0)) {
      padding(o0 * plane, plane);
      continue;
    }
    const std::int64_t i0 = o0 * g.stride[0] + t.offset[0];
    for (std::int64_t o1 = 0; o1 < g.out[1]; ++o1) {
      const std::int64_t line = o0 * plane + o1 * g.out[2];
      if (!t.valid[1].contains(o1)) {
        padding(line, g.out[2]);
        continue;
      }
      const std::int64_t in_line = (i0 * g.in[1] + o1 * g.stride[1] + t.offset[1]) * g.in[2];
      padding(line, t.valid[2].begin);
      for (std::int64_t o2 = t.valid[2].begin; o2 < t.valid[2].end; ++o2)
        inside(line + o2, in_line + o2 * g.stride[2] + t.offset[2]);
      padding(line + t.valid[2].end, g.out[2] - t.valid[2].end);
    }
  }
}

// col [channels · K, out_volume]: row (c, tap) holds the input values tap `tap` of channel c
// reads for every output position (0 where it reads padding).
template <class T>
void vol2col(const ConvGeometry& g, const T* image, std::int64_t channels, T* col, int threads) {
  const std::int64_t taps = g.kernel_volume(), rows = channels * taps, width = g.out_volume();
#pragma omp parallel for num_threads(threads) if (rows * width > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* src = image + (r / taps) * g.in_volume();
    T* dst = col + r * width;
    walk_tap(
        g, kernel_tap(g, r % taps), [&](std::int64_t o, std::int64_t i) { dst[o] = src[i]; },
        [&](std::int64_t o, std::int64_t n) { std::fill(dst + o, dst + o + n, T(0)); });
  }
}

// The adjoint of vol2col: image [channels, in_volume] = sum over taps of the col rows scattered
// back to the positions they were read from. One thread per channel keeps sums in a fixed order.
template <class T>
void col2vol(const ConvGeometry& g, const T* col, std::int64_t channels, T* image, int threads) {
  const std::int64_t taps = g.kernel_volume(), width = g.out_volume();
#pragma omp parallel for num_threads(threads) if (channels * taps * width > 32768)
  for (std::int64_t c = 0; c < channels; ++c) {
    T* dst = image + c * g.in_volume();
    std::fill(dst, dst + g.in_volume(), T(0));
    for (std::int64_t tap = 0; tap < taps; ++tap) {
      const T* src = col + (c * taps + tap) * width;
      walk_tap(
          g, kernel_tap(g, tap), [&](std::int64_t o, std::int64_t i) { dst[i] += src[o]; },
          [](std::int64_t, std::int64_t) {});
    }
  }
}

// A 1×…×1 kernel with stride 1 and no padding reads the input as it is: no vol2col needed.
// (The sizes are compared too: the adjoint of a transposed conv with output padding has a
// larger input than output.)
bool is_pointwise(const ConvGeometry& g) {
  for (int d = 0; d < 3; ++d)
    if (g.kernel[d] != 1 || g.stride[d] != 1 || g.padding[d] != 0 || g.in[d] != g.out[d]) return false;
  return true;
}

// Pointers to the slices of one (sample, group) pair.
struct GroupSlices {
  std::int64_t x, y, w;  // offsets into x, y and w
};

GroupSlices group_slices(const ConvGeometry& g, std::int64_t n, std::int64_t group) {
  const std::int64_t cin = g.group_in_channels(), cout = g.group_out_channels();
  return {(n * g.in_channels + group * cin) * g.in_volume(),
          (n * g.out_channels + group * cout) * g.out_volume(), group * cout * cin * g.kernel_volume()};
}

// The vol2col matrix [C_in/g · K, out_volume] of one (sample, group) slice of an image, in a buffer
// kept across slices, or the slice itself for a pointwise kernel.
template <class T>
class Columns {
 public:
  Columns(const ConvGeometry& g, int threads)
      : g_(g),
        threads_(threads),
        pointwise_(is_pointwise(g)),
        buffer_(pointwise_
                    ? 0
                    : static_cast<std::size_t>(g.group_in_channels() * g.kernel_volume() * g.out_volume())) {}

  // The columns of `image` for a GEMM to read.
  const T* read(const T* image) {
    if (pointwise_) return image;
    vol2col(g_, image, g_.group_in_channels(), buffer_.data(), threads_);
    return buffer_.data();
  }
  // Where a GEMM writes the gradient of the columns of `image`; scatter(image) then sums it into image.
  T* write_target(T* image) { return pointwise_ ? image : buffer_.data(); }
  void scatter(T* image) {
    if (!pointwise_) col2vol(g_, buffer_.data(), g_.group_in_channels(), image, threads_);
  }

 private:
  const ConvGeometry& g_;
  int threads_;
  bool pointwise_;
  std::vector<T> buffer_;
};

}  // namespace

template <class T>
void forward(const ConvGeometry& g, const T* x, const T* w, const T* bias, T* y, int threads) {
  const std::int64_t cin = g.group_in_channels(), cout = g.group_out_channels();
  const std::int64_t depth = cin * g.kernel_volume(), width = g.out_volume();
  Columns<T> columns(g, threads);
  blas::use_threads(threads);
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t group = 0; group < g.groups; ++group) {
      const GroupSlices s = group_slices(g, n, group);
      const T* cols = columns.read(x + s.x);
      if (bias != nullptr)  // start from the bias; the GEMM accumulates on top
        for (std::int64_t o = 0; o < cout; ++o)
          std::fill(y + s.y + o * width, y + s.y + (o + 1) * width, bias[group * cout + o]);
      blas::gemm<T>(false, false, cout, width, depth, T(1), w + s.w, depth, cols, width,
                    bias != nullptr ? T(1) : T(0), y + s.y, width);
    }
}

template <class T>
void backward_data(const ConvGeometry& g, const T* dy, const T* w, T* dx, int threads) {
  const std::int64_t cin = g.group_in_channels(), cout = g.group_out_channels();
  const std::int64_t depth = cin * g.kernel_volume(), width = g.out_volume();
  Columns<T> columns(g, threads);
  blas::use_threads(threads);
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t group = 0; group < g.groups; ++group) {
      const GroupSlices s = group_slices(g, n, group);
      blas::gemm<T>(true, false, depth, width, cout, T(1), w + s.w, depth, dy + s.y, width, T(0),
                    columns.write_target(dx + s.x), width);
      columns.scatter(dx + s.x);
    }
}

template <class T>
void backward_weights(const ConvGeometry& g, const T* x, const T* dy, T* dw, T* dbias, int threads) {
  const std::int64_t cin = g.group_in_channels(), cout = g.group_out_channels();
  const std::int64_t depth = cin * g.kernel_volume(), width = g.out_volume();
  if (dw != nullptr) {
    std::fill(dw, dw + g.out_channels * depth, T(0));
    Columns<T> columns(g, threads);
    blas::use_threads(threads);
    for (std::int64_t n = 0; n < g.batch; ++n)
      for (std::int64_t group = 0; group < g.groups; ++group) {
        const GroupSlices s = group_slices(g, n, group);
        const T* cols = columns.read(x + s.x);
        blas::gemm<T>(false, true, cout, depth, width, T(1), dy + s.y, width, cols, width, T(1), dw + s.w,
                      depth);
      }
  }
  if (dbias != nullptr) bias_gradient(g.batch, g.out_channels, width, dy, dbias, threads);
}

template <class T>
void bias_gradient(std::int64_t batch, std::int64_t channels, std::int64_t volume, const T* dy, T* dbias,
                   int threads) {
#pragma omp parallel for num_threads(threads) if (batch * channels * volume > 32768)
  for (std::int64_t c = 0; c < channels; ++c) {
    T sum = 0;
    for (std::int64_t n = 0; n < batch; ++n) {
      const T* row = dy + (n * channels + c) * volume;
      for (std::int64_t i = 0; i < volume; ++i) sum += row[i];
    }
    dbias[c] = sum;
  }
}

template void forward<float>(const ConvGeometry&, const float*, const float*, const float*, float*, int);
template void forward<double>(const ConvGeometry&, const double*, const double*, const double*, double*, int);
template void backward_data<float>(const ConvGeometry&, const float*, const float*, float*, int);
template void backward_data<double>(const ConvGeometry&, const double*, const double*, double*, int);
template void backward_weights<float>(const ConvGeometry&, const float*, const float*, float*, float*, int);
template void backward_weights<double>(const ConvGeometry&, const double*, const double*, double*, double*,
                                       int);

template void bias_gradient<float>(std::int64_t, std::int64_t, std::int64_t, const float*, float*, int);
template void bias_gradient<double>(std::int64_t, std::int64_t, std::int64_t, const double*, double*, int);

}  // namespace pcv::kernels::conv_reference
