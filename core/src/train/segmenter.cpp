#include <pcv/error.hpp>
#include <pcv/segmenter.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "train/inference.hpp"

namespace pcv {
namespace {

using Indices = std::vector<std::int64_t>;

// Indices of the points in each tile of side `size` in x-y, tiles starting every size/2 from the
// cloud's lower corner until they cover it; empty tiles are left out. size <= 0: one tile.
std::vector<Indices> tiles_of(const PointCloud& cloud, double size) {
  const std::int64_t n = cloud.size();
  if (size <= 0) {
    Indices all(static_cast<std::size_t>(n));
    std::iota(all.begin(), all.end(), std::int64_t{0});
    return {std::move(all)};
  }
  double lo[2] = {std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
  double hi[2] = {std::numeric_limits<double>::lowest(), std::numeric_limits<double>::lowest()};
  for (std::int64_t i = 0; i < n; ++i)
    for (int a = 0; a < 2; ++a) {
      lo[a] = std::min(lo[a], double(cloud.points[static_cast<std::size_t>(3 * i + a)]));
      hi[a] = std::max(hi[a], double(cloud.points[static_cast<std::size_t>(3 * i + a)]));
    }
  const double stride = size / 2;
  std::int64_t count[2];
  for (int a = 0; a < 2; ++a)
    count[a] =
        1 + std::max<std::int64_t>(0, static_cast<std::int64_t>(std::ceil((hi[a] - lo[a] - size) / stride)));
  std::vector<Indices> tiles(static_cast<std::size_t>(count[0] * count[1]));
  for (std::int64_t i = 0; i < n; ++i) {
    std::int64_t first[2], last[2];
    for (int a = 0; a < 2; ++a) {
      // Tile t covers [lo + t*stride, lo + t*stride + size].
      const double p = cloud.points[static_cast<std::size_t>(3 * i + a)] - lo[a];
      last[a] = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(p / stride)), 0, count[a] - 1);
      first[a] =
          std::clamp<std::int64_t>(static_cast<std::int64_t>(std::ceil((p - size) / stride)), 0, last[a]);
    }
    for (std::int64_t tx = first[0]; tx <= last[0]; ++tx)
      for (std::int64_t ty = first[1]; ty <= last[1]; ++ty)
        tiles[static_cast<std::size_t>(tx * count[1] + ty)].push_back(i);
  }
  std::erase_if(tiles, [](const Indices& t) { return t.empty(); });
  return tiles;
}

PointCloud subset(const PointCloud& cloud, const Indices& index) {
  PointCloud out;
  out.points.reserve(3 * index.size());
  for (const std::int64_t i : index) {
    const auto at = static_cast<std::size_t>(3 * i);
    out.points.insert(out.points.end(), &cloud.points[at], &cloud.points[at] + 3);
    if (cloud.has_normals())
      out.normals.insert(out.normals.end(), &cloud.normals[at], &cloud.normals[at] + 3);
  }
  return out;
}

// For each point of `tile`, the row of `chosen` (indices into tile) that represents it: its own
// row if it was chosen, else the nearest chosen point's.
Indices representatives(const PointCloud& tile, const Indices& chosen) {
  Indices row(static_cast<std::size_t>(tile.size()), -1);
  for (std::size_t r = chosen.size(); r-- > 0;)
    row[static_cast<std::size_t>(chosen[r])] = static_cast<std::int64_t>(r);
  // The first min(tile size, N) entries of `chosen` are distinct (see preprocess).
  const std::size_t distinct = std::min(chosen.size(), static_cast<std::size_t>(tile.size()));
  const float* p = tile.points.data();
  for (std::size_t j = 0; j < row.size(); ++j) {
    if (row[j] >= 0) continue;
    float best = std::numeric_limits<float>::max();
    for (std::size_t r = 0; r < distinct; ++r) {
      const float* q = p + 3 * chosen[r];
      const float dx = p[3 * j] - q[0], dy = p[3 * j + 1] - q[1], dz = p[3 * j + 2] - q[2];
      const float d = dx * dx + dy * dy + dz * dz;
      if (d < best) {
        best = d;
        row[j] = static_cast<std::int64_t>(r);
      }
    }
  }
  return row;
}

}  // namespace

Segmenter::Segmenter(const Registry& registry, Model model, const std::string& where)
    : model_(std::move(model)), where_(where) {
  const auto task = model_.metadata.find(kTaskKey);
  if (task == model_.metadata.end() || task->second != "segmentation")
    throw Error(where +
                ": not a segmentation model (no pcv.task = segmentation; pcv classify runs classifiers)");
  runtime_ = detail::inference_runtime(registry, model_, "segmentation model", where);
  preprocessing_ = Preprocessing::from_json(model_.preprocessing);
}

std::vector<std::int32_t> Segmenter::segment(const PointCloud& cloud, int threads, std::int64_t batch_size,
                                             const std::function<void(std::size_t, std::size_t)>& progress) {
  if (cloud.size() == 0) throw Error("cannot segment an empty cloud");
  if (batch_size < 1) throw Error("segment: batch_size must be at least 1");
  const auto k = static_cast<std::int64_t>(model_.labels.size());
  Preprocessing tile_pre = preprocessing_;
  tile_pre.block_size = 0;  // the tiles are the blocks
  const std::vector<Indices> tiles = tiles_of(cloud, preprocessing_.block_size);
  std::vector<double> votes(static_cast<std::size_t>(cloud.size() * k), 0.0);
  for (std::size_t begin = 0; begin < tiles.size(); begin += static_cast<std::size_t>(batch_size)) {
    const std::size_t end = std::min(tiles.size(), begin + static_cast<std::size_t>(batch_size));
    std::vector<PointCloud> clouds;
    std::vector<Indices> chosen(end - begin);
    std::vector<Tensor> inputs;
    for (std::size_t t = begin; t < end; ++t) {
      clouds.push_back(subset(cloud, tiles[t]));
      inputs.push_back(preprocess(clouds.back(), tile_pre, 0, &chosen[t - begin]));
    }
    Shape shape = inputs.front().shape();
    shape.insert(shape.begin(), static_cast<std::int64_t>(inputs.size()));
    Tensor batch = Tensor::empty(kFloat32, shape);
    for (std::size_t b = 0; b < inputs.size(); ++b)
      std::copy_n(inputs[b].data<float>(), inputs[b].numel(), batch.data<float>() + b * inputs[b].numel());
    RunOptions options;
    options.num_threads = threads;
    const TensorMap out = runtime_->run({{model_.graph.inputs[0].name, batch}}, options);
    const Tensor& logits = out.at(model_.graph.outputs[0]);
    const std::int64_t n = tile_pre.num_points;
    if (logits.ndim() != 3 || logits.shape()[0] != shape[0] || logits.shape()[1] != n ||
        logits.shape()[2] != k)
      throw Error(where_ + ": output '" + model_.graph.outputs[0] + "' has shape " +
                  shape_string(logits.shape()) + ", expected [" + std::to_string(shape[0]) + ", " +
                  std::to_string(n) + ", " + std::to_string(k) + "] (tiles, points, labels)");
    const Tensor probs = detail::softmax_rows(logits);
    for (std::size_t b = 0; b < clouds.size(); ++b) {
      const Indices row = representatives(clouds[b], chosen[b]);
      const double* p = probs.data<double>() + static_cast<std::int64_t>(b) * n * k;
      const Indices& points = tiles[begin + b];
      for (std::size_t j = 0; j < points.size(); ++j)
        for (std::int64_t c = 0; c < k; ++c)
          votes[static_cast<std::size_t>(points[j] * k + c)] += p[row[j] * k + c];
    }
    if (progress) progress(end, tiles.size());
  }
  std::vector<std::int32_t> labels(static_cast<std::size_t>(cloud.size()));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    const double* v = &votes[i * static_cast<std::size_t>(k)];
    labels[i] = static_cast<std::int32_t>(std::max_element(v, v + k) - v);
  }
  return labels;
}

Evaluation evaluate(Segmenter& segmenter, const PointCloudDataset& data, int threads,
                    const std::function<void(std::size_t, std::size_t)>& progress) {
  if (data.labels() != segmenter.labels()) throw Error("the data's classes are not the model's");
  const auto classes = static_cast<std::int32_t>(segmenter.labels().size());
  Evaluation result{ConfusionMatrix(segmenter.labels().size()), {}};
  for (std::size_t s = 0; s < data.size(); ++s) {
    const auto& path = data.samples()[s].path;
    try {
      const PointCloud cloud = read_point_cloud(path);
      if (!cloud.has_labels()) throw Error(path.string() + ": no per-point labels (a `label` field)");
      for (const std::int32_t l : cloud.labels)
        if (l >= classes)
          throw Error(path.string() + ": label " + std::to_string(l) + " is not one of the model's " +
                      std::to_string(classes) + " classes");
      const std::vector<std::int32_t> predicted = segmenter.segment(cloud, threads);
      for (std::size_t i = 0; i < predicted.size(); ++i) result.confusion.add(cloud.labels[i], predicted[i]);
    } catch (const Error& e) {
      const std::string what = e.what();
      result.failures.push_back(what.starts_with(path.string()) ? what : path.string() + ": " + what);
    }
    if (progress) progress(s + 1, data.size());
  }
  return result;
}

}  // namespace pcv
