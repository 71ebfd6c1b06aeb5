#include "softmax.hpp"

#include <limits>
#include <string>
#include <type_traits>

namespace pcv::nn {
namespace {

using softmax_detail::AxisLayout;
using softmax_detail::LaneBlock;
using softmax_detail::LaneStats;

constexpr std::int64_t kParallelElements = std::int64_t{1} << 14;

// `dim` in [-rank, rank) as an axis index; a 0-d tensor accepts 0 and -1, as in PyTorch.
std::size_t softmax_axis(std::int64_t dim, std::size_t rank, const char* op) {
  const auto range = static_cast<std::int64_t>(std::max<std::size_t>(rank, 1));
  if (dim < -range || dim >= range)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": dim = ", dim, " is out of range for x with ", rank,
              " dims (expected a value in [", -range, ", ", range - 1, "])");
  return static_cast<std::size_t>(dim < 0 ? dim + range : dim);
}

using One = std::integral_constant<std::int64_t, 1>;

// Calls kernel(block, stride, width) for every lane block. For contiguous rows (inner == 1) the
// stride and width are compile-time 1s, so the lane loops collapse into plain row loops.
template <class Kernel>
void run_lane_blocks(const AxisLayout& l, int threads, Kernel&& kernel) {
  if (l.inner == 1)
    softmax_detail::for_each_lane_block(l, threads, kParallelElements,
                                        [&](const LaneBlock& b) { kernel(b, One{}, One{}); });
  else
    softmax_detail::for_each_lane_block(l, threads, kParallelElements,
                                        [&](const LaneBlock& b) { kernel(b, l.inner, b.width); });
}

// y = exp(x - max) / sum or (x - max) - log(sum), with one exp per element.
template <class T, bool is_log>
void softmax_forward(const T* x, T* y, const AxisLayout& l, int threads) {
  run_lane_blocks(l, threads, [&](const LaneBlock& b, auto stride, auto width) {
    const std::int64_t offset = b.block * l.size * l.inner + b.first;
    const T* xb = x + offset;
    T* yb = y + offset;
    LaneStats<T> s;
    std::fill(s.max, s.max + width, -std::numeric_limits<T>::infinity());
    std::fill(s.sum, s.sum + width, 0.0);
    for (std::int64_t k = 0; k < l.size; ++k)
      for (std::int64_t j = 0; j < width; ++j) s.max[j] = std::max(s.max[j], xb[k * stride + j]);
    for (std::int64_t k = 0; k < l.size; ++k)
      for (std::int64_t j = 0; j < width; ++j) {
        const T e = std::exp(xb[k * stride + j] - s.max[j]);
        s.sum[j] += e;
        if constexpr (!is_log) yb[k * stride + j] = e;
      }
    if constexpr (is_log) {
      double log_sum[softmax_detail::kLanes];
      for (std::int64_t j = 0; j < width; ++j) log_sum[j] = std::log(s.sum[j]);
      for (std::int64_t k = 0; k < l.size; ++k)
        for (std::int64_t j = 0; j < width; ++j) {
          const T shifted = xb[k * stride + j] - s.max[j];
          yb[k * stride + j] = static_cast<T>(static_cast<double>(shifted) - log_sum[j]);
        }
    } else {
      T scale[softmax_detail::kLanes];
      for (std::int64_t j = 0; j < width; ++j) scale[j] = static_cast<T>(1.0 / s.sum[j]);
      for (std::int64_t k = 0; k < l.size; ++k)
        for (std::int64_t j = 0; j < width; ++j) yb[k * stride + j] *= scale[j];
    }
  });
}

// softmax:     dx = y * (dy - sum_k dy_k * y_k)
// log_softmax: dx = dy - exp(y) * sum_k dy_k
template <class T, bool is_log>
void softmax_backward(const T* y, const T* dy, T* dx, const AxisLayout& l, int threads) {
  run_lane_blocks(l, threads, [&](const LaneBlock& b, auto stride, auto width) {
    const std::int64_t offset = b.block * l.size * l.inner + b.first;
    double total[softmax_detail::kLanes] = {};
    for (std::int64_t k = 0; k < l.size; ++k) {
      const std::int64_t at = offset + k * stride;
      for (std::int64_t j = 0; j < width; ++j)
        total[j] += is_log ? static_cast<double>(dy[at + j])
                           : static_cast<double>(dy[at + j]) * static_cast<double>(y[at + j]);
    }
    for (std::int64_t k = 0; k < l.size; ++k) {
      const std::int64_t at = offset + k * stride;
      for (std::int64_t j = 0; j < width; ++j) {
        const double yv = y[at + j], g = dy[at + j];
        dx[at + j] = static_cast<T>(is_log ? g - std::exp(yv) * total[j] : yv * (g - total[j]));
      }
    }
  });
}

}  // namespace

template <class Kind>
sdk::OpSpec SoftmaxFamily<Kind>::spec() {
  return sdk::OpSpec(Kind::name, Kind::doc)
      .input("x", "any shape")
      .output("y", "shape of x")
      .attr("dim", "the dim to normalise along; negative counts from the end", std::int64_t{-1})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <class Kind>
SoftmaxFamily<Kind>::SoftmaxFamily(const sdk::Attributes& a) : dim_(a.get<std::int64_t>("dim")) {}

template <class Kind>
void SoftmaxFamily<Kind>::infer_shapes(sdk::ShapeContext& ctx) const {
  const pcv_dtype dtype = ctx.input_dtype(0);
  if (!same_dtype(dtype, kFloat32) && !same_dtype(dtype, kFloat64))
    sdk::fail(PCV_ERR_SHAPE, "nn.", Kind::name, ": input 'x' has dtype ", dtype_name(dtype),
              ", expected float32 or float64");
  softmax_axis(dim_, ctx.input_shape(0).size(), Kind::name);
  ctx.set_output_like(0, 0);
}

template <class Kind>
void SoftmaxFamily<Kind>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, x.shape());
    const auto layout =
        softmax_detail::axis_layout(x.shape(), softmax_axis(dim_, x.shape().size(), Kind::name));
    softmax_forward<T, Kind::is_log>(x.data(), y.data(), layout, ctx.num_threads());
  });
}

template <class Kind>
void SoftmaxFamily<Kind>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto y = ctx.output<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    if (dx.numel() != y.numel())
      sdk::fail(PCV_ERR_SHAPE, "nn.", Kind::name, ": output ", shape_string(y.shape()), " does not match x ",
                shape_string(dx.shape()));
    const auto layout =
        softmax_detail::axis_layout(y.shape(), softmax_axis(dim_, y.shape().size(), Kind::name));
    softmax_backward<T, Kind::is_log>(y.data(), dy.data(), dx.data(), layout, ctx.num_threads());
  });
}

template class SoftmaxFamily<SoftmaxKind>;
template class SoftmaxFamily<LogSoftmaxKind>;

}  // namespace pcv::nn
