// NumPy broadcasting of two shapes, and walking the output while tracking both input offsets.
#pragma once

#include <pcv/sdk.hpp>

#include <algorithm>
#include <cstdint>

namespace pcv::nn {

// The broadcast shape of a and b (aligned at the trailing dimension; a size-1 dimension
// stretches), or an error naming both shapes.
inline sdk::Shape broadcast_shape(std::span<const std::int64_t> a, std::span<const std::int64_t> b,
                                  std::string_view what) {
  const std::size_t n = std::max(a.size(), b.size());
  sdk::Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const std::int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      sdk::fail(PCV_ERR_SHAPE, what, ": shapes ", sdk::shape_string(a), " and ", sdk::shape_string(b),
                " do not broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Element strides of an input seen through the broadcast output shape: 0 where it stretches.
inline sdk::Shape broadcast_strides(std::span<const std::int64_t> in, std::span<const std::int64_t> out) {
  sdk::Shape strides(out.size(), 0);
  std::int64_t stride = 1;
  for (std::size_t k = 0; k < in.size(); ++k) {
    const std::size_t i = in.size() - 1 - k, o = out.size() - 1 - k;
    strides[o] = in[i] == 1 ? 0 : stride;
    stride *= in[i];
  }
  return strides;
}

// Calls f(out_index, a_index, b_index) for every element of the output, in order.
template <class F>
void for_each_broadcast(std::span<const std::int64_t> out, std::span<const std::int64_t> a,
                        std::span<const std::int64_t> b, F&& f) {
  const sdk::Shape sa = broadcast_strides(a, out), sb = broadcast_strides(b, out);
  const std::int64_t total = sdk::numel(out);
  if (total == 0) return;
  sdk::Shape index(out.size(), 0);
  std::int64_t ia = 0, ib = 0;
  for (std::int64_t i = 0; i < total; ++i) {
    f(i, ia, ib);
    // Odometer step: bump the last dimension, carry into earlier ones.
    for (std::size_t d = out.size(); d-- > 0;) {
      ia += sa[d];
      ib += sb[d];
      if (++index[d] < out[d]) break;
      ia -= sa[d] * out[d];
      ib -= sb[d] * out[d];
      index[d] = 0;
    }
  }
}

}  // namespace pcv::nn
