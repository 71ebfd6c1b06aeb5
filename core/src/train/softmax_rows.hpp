// Softmax over the last dim of logits [..., K], in float64 as [rows, K]: class probabilities for
// the classifier and the segmenter.
#pragma once

#include <pcv/error.hpp>
#include <pcv/tensor.hpp>

#include <algorithm>
#include <cmath>

namespace pcv::detail {

template <class T>
Tensor softmax_rows_of(const Tensor& logits) {
  const std::int64_t k = logits.shape().back(), rows = logits.numel() / std::max<std::int64_t>(k, 1);
  Tensor out(kFloat64, {rows, k});
  const T* x = logits.data<T>();
  double* p = out.data<double>();
  for (std::int64_t i = 0; i < rows; ++i) {
    const T* row = x + i * k;
    const double top = *std::max_element(row, row + k);
    double sum = 0;
    for (std::int64_t j = 0; j < k; ++j) sum += p[i * k + j] = std::exp(double(row[j]) - top);
    for (std::int64_t j = 0; j < k; ++j) p[i * k + j] /= sum;
  }
  return out;
}

inline Tensor softmax_rows(const Tensor& logits) {
  return same_dtype(logits.dtype(), kFloat64) ? softmax_rows_of<double>(logits)
                                              : softmax_rows_of<float>(logits);
}

}  // namespace pcv::detail
