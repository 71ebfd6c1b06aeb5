#include <pcv/dataset.hpp>
#include <pcv/embedder.hpp>
#include <pcv/error.hpp>
#include <pcv/face_aligner.hpp>
#include <pcv/image.hpp>
#include <pcv/threads.hpp>

#include <atomic>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>

#include "train/inference.hpp"

namespace pcv {

Embeddings embed_images(const Registry& registry, Model model, const std::string& where,
                        const std::vector<std::filesystem::path>& images, const EmbedOptions& options,
                        const std::function<void(std::size_t, std::size_t)>& progress) {
  if (images.empty()) throw Error("embed_images: no images");
  if (options.batch_size < 1) throw Error("embed_images: batch size must be at least 1");
  const std::string input = model.graph.inputs.at(0).name, output = model.graph.outputs.at(0);
  const auto runtime = detail::inference_runtime(registry, model, "embedding model", where);
  const Preprocessing pre = Preprocessing::from_json(model.preprocessing);
  if (pre.input != "image")
    throw Error(where + ": its preprocessing reads " + pre.input + "s, not images (\"input\": \"image\")");
  const int threads = options.threads > 0 ? options.threads : num_threads();
  // One aligner per worker: dlib's detector keeps scratch state.
  std::vector<std::unique_ptr<FaceAligner>> aligners;
  if (const auto it = model.metadata.find(kFaceAlignmentKey); it != model.metadata.end()) {
    const FaceAlignment settings = FaceAlignment::from_json(it->second, where + ": " + kFaceAlignmentKey);
    for (int t = 0; t < threads; ++t) aligners.push_back(std::make_unique<FaceAligner>(registry, settings));
  }
  const std::int64_t views = options.flip_sum ? 2 : 1;  // rows per image in a batch
  const Shape item_shape = pre.item_shape();
  const std::int64_t item = Tensor::empty(kFloat32, item_shape).numel();
  Embeddings out;
  std::vector<char> fell_back(images.size(), 0);
  const auto step = static_cast<std::size_t>(options.batch_size);
  for (std::size_t begin = 0; begin < images.size(); begin += step) {
    const std::size_t end = std::min(images.size(), begin + step);
    const auto count = static_cast<std::int64_t>(end - begin);
    Shape shape = item_shape;
    shape.insert(shape.begin(), count * views);
    Tensor batch = Tensor::empty(kFloat32, shape);
    const auto prepare = [&](std::int64_t i, const FaceAligner* aligner) {
      const std::filesystem::path& file = images[begin + static_cast<std::size_t>(i)];
      Tensor image = read_image(file);
      if (aligner) {
        bool fallback = false;
        std::optional<Tensor> face = aligner->main_face(image, &fallback);
        if (!face)
          throw Error(file.string() + ": no face found (the model's face alignment has no fallback)");
        image = std::move(*face);
        fell_back[begin + static_cast<std::size_t>(i)] = fallback;
      }
      Tensor x = preprocess_image(image, pre);
      std::copy_n(x.data<float>(), item, batch.data<float>() + i * views * item);
      if (views == 2) {
        mirror_image(x, pre);
        std::copy_n(x.data<float>(), item, batch.data<float>() + (i * views + 1) * item);
      }
    };
    if (aligners.empty()) {
      for (std::int64_t i = 0; i < count; ++i) prepare(i, nullptr);
    } else {
      // Detection dominates: the images of a batch are aligned in parallel, in a fixed order per
      // worker, so the result does not depend on the thread count.
      std::atomic<std::int64_t> next{0};
      std::vector<std::string> errors(aligners.size());
      {
        std::vector<std::jthread> workers;
        for (std::size_t w = 0; w < aligners.size(); ++w)
          workers.emplace_back([&, w] {
            try {
              for (std::int64_t i; (i = next.fetch_add(1)) < count;) prepare(i, aligners[w].get());
            } catch (const std::exception& e) {
              errors[w] = e.what();
              next = count;
            }
          });
      }
      for (const std::string& e : errors)
        if (!e.empty()) throw Error(e);
    }
    RunOptions run_options;
    run_options.num_threads = threads;
    const Tensor e = runtime->run({{input, batch}}, run_options).at(output);
    if (e.ndim() != 2 || e.shape()[0] != shape[0])
      throw Error(where + ": output '" + output + "' has shape " + shape_string(e.shape()) + ", expected [" +
                  std::to_string(shape[0]) + ", d]");
    const std::int64_t d = e.shape()[1];
    if (!out.values.defined())
      out.values = Tensor::empty(kFloat32, {static_cast<std::int64_t>(images.size()), d});
    const bool wide = same_dtype(e.dtype(), kFloat64);
    for (std::int64_t i = 0; i < count; ++i)
      for (std::int64_t k = 0; k < d; ++k) {
        double sum = 0;
        for (std::int64_t v = 0; v < views; ++v) {
          const std::int64_t at = (i * views + v) * d + k;
          sum += wide ? e.data<double>()[at] : double(e.data<float>()[at]);
        }
        out.values.data<float>()[(static_cast<std::int64_t>(begin) + i) * d + k] = float(sum);
      }
    if (progress) progress(end, images.size());
  }
  for (std::size_t i = 0; i < images.size(); ++i)
    if (fell_back[i]) out.fell_back.push_back(i);
  return out;
}

ImagePairs read_image_pairs(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open the pairs file");
  ImagePairs out;
  std::map<std::filesystem::path, std::int64_t> row_of;
  const auto row = [&](const std::string& name) {
    std::filesystem::path p(name);
    if (p.is_relative()) p = path.parent_path() / p;
    const auto [it, fresh] = row_of.emplace(p, static_cast<std::int64_t>(out.images.size()));
    if (fresh) out.images.push_back(p);
    return it->second;
  };
  std::string text;
  bool positive = false, negative = false;
  for (int line = 1; std::getline(in, text); ++line) {
    if (const auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    std::stringstream fields(text);
    std::vector<std::string> f;
    for (std::string w; fields >> w;) f.push_back(w);
    if (f.empty()) continue;
    const std::string where = path.string() + ":" + std::to_string(line) + ": ";
    if (f.size() != 3)
      throw Error(where + "expected 'image1 image2 same|diff', got " + std::to_string(f.size()) + " fields");
    VerificationPair p;
    p.line = line;
    if (f[2] == "same" || f[2] == "1")
      p.same = true;
    else if (f[2] != "diff" && f[2] != "0")
      throw Error(where + "'" + f[2] + "' is not same, diff, 1 or 0");
    p.first = row(f[0]);
    p.second = row(f[1]);
    (p.same ? positive : negative) = true;
    out.pairs.push_back(p);
  }
  if (out.pairs.empty()) throw Error(path.string() + ": no pairs");
  if (!positive || !negative) throw Error(path.string() + ": needs both same and diff pairs");
  return out;
}

}  // namespace pcv
