// The efficient PointConv product (Wu et al., Sec. 3.3): per centre, the neighbours' features,
// scaled by their density, weighted by the WeightNet output and summed over the neighbourhood.
#pragma once

#include <pcv/sdk.hpp>
#include <pcv/simd_clones.hpp>

#include <algorithm>
#include <cstdint>

namespace pcv::pointconv {

// ws[j, i] = scale[j] · w[j, i] for one centre's k neighbours (a copy of w when scale is null).
template <class T>
void scale_weights(const T* w, const T* scale, std::int64_t k, std::int64_t m_, T* ws) {
  for (std::int64_t j = 0; j < k; ++j)
    for (std::int64_t i = 0; i < m_; ++i) ws[j * m_ + i] = scale ? scale[j] * w[j * m_ + i] : w[j * m_ + i];
}

// One centre's product: out[c·m_ + i] = Σ_j x[j, c] · scale[j] · w[j, i] over its k neighbours,
// x [k, c_], w [k, m_], scale [k] or null; ws is scratch of k·m_ values.
template <class T>
PCV_SIMD_CLONES void aggregate_centre(const T* x, const T* w, const T* scale, std::int64_t k, std::int64_t c_,
                                      std::int64_t m_, T* ws, T* out) {
  scale_weights(w, scale, k, m_, ws);
  std::fill(out, out + c_ * m_, T(0));
  for (std::int64_t j = 0; j < k; ++j) {
    const T* wj = ws + j * m_;
    for (std::int64_t c = 0; c < c_; ++c) {
      const T xv = x[j * c_ + c];
      T* row = out + c * m_;
#pragma omp simd
      for (std::int64_t i = 0; i < m_; ++i) row[i] += xv * wj[i];
    }
  }
}

// x [B, S, K, C], weights [B, S, K, M], scale [B, S, K, 1] (optional) →
// y [B, S, C·M], y[b, s, c·M + m] = Σ_k x[b, s, k, c] · scale[b, s, k] · weights[b, s, k, m].
class Aggregate {
 public:
  static sdk::OpSpec spec();
  explicit Aggregate(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace pcv::pointconv
