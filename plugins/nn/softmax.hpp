// softmax and log_softmax of the nn plugin, plus the log-sum-exp helpers the losses share.
#pragma once

#include <pcv/sdk.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <span>

namespace pcv::nn {

// y = softmax(x) or log_softmax(x) along `dim`. Kind supplies name, doc and `is_log`.
template <class Kind>
class SoftmaxFamily {
 public:
  static sdk::OpSpec spec();
  explicit SoftmaxFamily(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t dim_;
};

struct SoftmaxKind {
  static constexpr const char* name = "softmax";
  static constexpr const char* doc = "F.softmax: exp(x) normalised to sum 1 along dim.";
  static constexpr bool is_log = false;
};

struct LogSoftmaxKind {
  static constexpr const char* name = "log_softmax";
  static constexpr const char* doc = "F.log_softmax: log(softmax(x)) along dim, computed stably.";
  static constexpr bool is_log = true;
};

using Softmax = SoftmaxFamily<SoftmaxKind>;
using LogSoftmax = SoftmaxFamily<LogSoftmaxKind>;

namespace softmax_detail {

// A tensor seen along one axis: `outer` blocks of `size` x `inner` elements, the axis in the middle.
// Elements next to each other along the axis are `inner` apart.
struct AxisLayout {
  std::int64_t outer = 1, size = 1, inner = 1;
};

inline AxisLayout axis_layout(std::span<const std::int64_t> shape, std::size_t axis) {
  AxisLayout layout;
  if (shape.empty()) return layout;  // a 0-d tensor is one element along its only "axis"
  for (std::size_t k = 0; k < axis; ++k) layout.outer *= shape[k];
  layout.size = shape[axis];
  for (std::size_t k = axis + 1; k < shape.size(); ++k) layout.inner *= shape[k];
  return layout;
}

// The reductions along the axis run over up to kLanes neighbouring inner positions at once, so
// that reading the axis (stride `inner`) still reads whole cache lines.
inline constexpr std::int64_t kLanes = 64;

// One work item: the lanes [first, first + width) of outer block `block`.
struct LaneBlock {
  std::int64_t block, first, width;
};

inline std::int64_t lane_blocks_per_outer(const AxisLayout& l) { return (l.inner + kLanes - 1) / kLanes; }

inline LaneBlock lane_block(const AxisLayout& l, std::int64_t item) {
  const std::int64_t per_outer = lane_blocks_per_outer(l);
  const std::int64_t first = (item % per_outer) * kLanes;
  return {item / per_outer, first, std::min(kLanes, l.inner - first)};
}

// Per lane j: max_k x[k * stride + j] and sum_k exp(x[k * stride + j] - max), for k < size.
// Subtracting the max keeps exp from overflowing; the sum is kept in double.
template <class T>
struct LaneStats {
  T max[kLanes];
  double sum[kLanes];

  double log_sum_exp(std::int64_t j) const { return static_cast<double>(max[j]) + std::log(sum[j]); }
};

template <class T>
void compute_lane_stats(const T* x, std::int64_t size, std::int64_t stride, std::int64_t width,
                        LaneStats<T>& s) {
  std::fill(s.max, s.max + width, -std::numeric_limits<T>::infinity());
  std::fill(s.sum, s.sum + width, 0.0);
  for (std::int64_t k = 0; k < size; ++k) {
    const T* row = x + k * stride;
    for (std::int64_t j = 0; j < width; ++j) s.max[j] = std::max(s.max[j], row[j]);
  }
  for (std::int64_t k = 0; k < size; ++k) {
    const T* row = x + k * stride;
    for (std::int64_t j = 0; j < width; ++j) s.sum[j] += std::exp(row[j] - s.max[j]);
  }
}

// Calls body(block) for every lane block of the layout, in parallel when the tensor has more than
// `parallel_elements` elements. Every element belongs to exactly one block, so results do not
// depend on the thread count.
template <class Body>
void for_each_lane_block(const AxisLayout& layout, int threads, std::int64_t parallel_elements, Body&& body) {
  const std::int64_t items = layout.outer * lane_blocks_per_outer(layout);
  const std::int64_t elements = layout.outer * layout.size * layout.inner;
#pragma omp parallel for num_threads(threads) if (elements > parallel_elements)
  for (std::int64_t item = 0; item < items; ++item) body(lane_block(layout, item));
}

}  // namespace softmax_detail
}  // namespace pcv::nn
