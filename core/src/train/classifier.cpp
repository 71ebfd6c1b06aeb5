#include <pcv/classifier.hpp>
#include <pcv/error.hpp>
#include <pcv/graph_passes.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "train/inference.hpp"

namespace pcv {

Classifier::Classifier(const Registry& registry, Model model, const std::string& where)
    : model_(std::move(model)), where_(where) {
  if (model_.metadata.contains(kTaskKey))
    throw Error(where + ": a " + model_.metadata.at(kTaskKey) +
                " model, not a classifier (pcv segment runs it)");
  runtime_ = detail::inference_runtime(registry, model_, "classifier", where);
  preprocessing_ = Preprocessing::from_json(model_.preprocessing);
}

Tensor Classifier::probabilities(const Tensor& batch, int threads) {
  RunOptions options;
  options.num_threads = threads;
  const TensorMap out = runtime_->run({{model_.graph.inputs[0].name, batch}}, options);
  const Tensor& logits = out.at(model_.graph.outputs[0]);
  const auto k = static_cast<std::int64_t>(model_.labels.size());
  if (logits.ndim() != 2 || logits.shape()[0] != batch.shape()[0] || logits.shape()[1] != k)
    throw Error(where_ + ": output '" + model_.graph.outputs[0] + "' has shape " +
                shape_string(logits.shape()) + ", expected [" + std::to_string(batch.shape()[0]) + ", " +
                std::to_string(k) + "] (batch, labels)");
  return detail::softmax_rows(logits);
}

Evaluation evaluate(Classifier& classifier, const PointCloudDataset& data, std::int64_t batch_size,
                    int threads, const std::function<void(std::size_t, std::size_t)>& progress) {
  Evaluation result{ConfusionMatrix(classifier.labels().size()), {}};
  // Dataset labels are mapped to the model's by name.
  std::vector<std::int64_t> to_model;
  for (const std::string& name : data.labels()) {
    auto it = std::find(classifier.labels().begin(), classifier.labels().end(), name);
    if (it == classifier.labels().end())
      throw Error("class '" + name + "' of the data is not one of the model's labels");
    to_model.push_back(it - classifier.labels().begin());
  }
  std::vector<std::size_t> all(data.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  for (std::size_t begin = 0; begin < all.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(all.size(), begin + static_cast<std::size_t>(batch_size));
    Batch batch = load_batch(data, std::span(all).subspan(begin, end - begin), classifier.preprocessing(),
                             nullptr, 0, threads);
    result.failures.insert(result.failures.end(), batch.failures.begin(), batch.failures.end());
    if (batch.labels.numel() > 0) {
      const Tensor p = classifier.probabilities(batch.clouds, threads);
      const std::int64_t k = p.shape()[1];
      for (std::int64_t i = 0; i < batch.labels.numel(); ++i) {
        const double* row = p.data<double>() + i * k;
        const std::int64_t predicted = std::max_element(row, row + k) - row;
        result.confusion.add(to_model[static_cast<std::size_t>(batch.labels.data<std::int64_t>()[i])],
                             predicted);
      }
    }
    if (progress) progress(end, all.size());
  }
  return result;
}

}  // namespace pcv
