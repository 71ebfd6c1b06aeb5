// What the classifier and the segmenter share: checking a model file for inference, its runtime
// (batch norms folded, PointConv fused), and softmax probabilities.
#pragma once

#include <pcv/error.hpp>
#include <pcv/graph_passes.hpp>
#include <pcv/model.hpp>
#include <pcv/runtime.hpp>
#include <pcv/tensor.hpp>

#include <algorithm>
#include <cmath>
#include <memory>

namespace pcv::detail {

// Checks that `model` has one graph input and label names, then takes its tensors over into an
// inference runtime (batch norms folded into the weights in place); model.tensors is left empty.
inline std::unique_ptr<GraphRuntime> inference_runtime(const Registry& registry, Model& model,
                                                       const std::string& what, const std::string& where) {
  if (model.graph.inputs.size() != 1)
    throw Error(where + ": a " + what + " has one graph input; this graph has " +
                std::to_string(model.graph.inputs.size()));
  if (model.labels.empty()) throw Error(where + ": the model has no label names ('pcv.labels' metadata)");
  TensorMap stored(model.tensors.begin(), model.tensors.end());
  model.tensors.clear();  // the runtime's copy of the map is the one kept
  Graph graph = prepare_for_inference(registry, model.graph, stored);
  return std::make_unique<GraphRuntime>(registry, std::move(graph), std::move(stored), where);
}

// Softmax over the last dim of logits [..., K], in float64 as [rows, K].

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
