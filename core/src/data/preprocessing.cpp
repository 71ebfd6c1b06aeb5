// Cloud -> network input: choose num_points points, centre and scale them, lay them out as [C, N] or [N, C].
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>
#include <pcv/geometry/farthest_point_sampling.hpp>
#include <pcv/image.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "train/json_fields.hpp"

namespace pcv {

// ---------------------------------------------------------------------------------------------------
// Settings.

namespace {

constexpr const char* kSamplings[] = {"fps", "random", "first"};
constexpr const char* kLayouts[] = {"channels_first", "channels_last"};
constexpr const char* kInputs[] = {"cloud", "image"};

template <std::size_t N>
bool one_of(const std::string& value, const char* const (&options)[N]) {
  return std::find(std::begin(options), std::end(options), value) != std::end(options);
}

[[noreturn]] void bad_preprocessing(const std::string& what) { throw Error("preprocessing: " + what); }

// Stream ids, so that preprocessing and augmentation with the same seed draw unrelated numbers.
constexpr std::uint64_t kSamplingStream = 0x5a3b1e;
constexpr std::uint64_t kBlockStream = 0xb10c;

}  // namespace

void Preprocessing::validate() const {
  if (!one_of(input, kInputs))
    bad_preprocessing("'input' must be \"cloud\" or \"image\" (got \"" + input + "\")");
  if (input == "image" && (height < 1 || width < 1 || height > 16384 || width > 16384))
    bad_preprocessing("'height' and 'width' must be in [1, 16384] (got " + std::to_string(height) + " x " +
                      std::to_string(width) + ")");
  if (input == "image" && image_channels != 1 && image_channels != 3)
    bad_preprocessing("'image_channels' must be 1 or 3 (got " + std::to_string(image_channels) + ")");
  if (num_points < 1)
    bad_preprocessing("'num_points' must be at least 1 (got " + std::to_string(num_points) + ")");
  if (!one_of(sampling, kSamplings))
    bad_preprocessing("'sampling' must be \"fps\", \"random\" or \"first\" (got \"" + sampling + "\")");
  if (!one_of(layout, kLayouts))
    bad_preprocessing("'layout' must be \"channels_first\" or \"channels_last\" (got \"" + layout + "\")");
  if (!(scale > 0) || !std::isfinite(scale))
    bad_preprocessing("'scale' must be a positive number (got " + std::to_string(scale) + ")");
  if (!(block_size >= 0) || !std::isfinite(block_size))
    bad_preprocessing("'block_size' must be 0 or positive (got " + std::to_string(block_size) + ")");
}

std::string Preprocessing::to_json() const {
  nlohmann::json j = {{"num_points", num_points},   {"sampling", sampling}, {"center", center},
                      {"unit_sphere", unit_sphere}, {"normals", normals},   {"layout", layout}};
  if (input == "image") {
    j = {{"input", input},
         {"height", height},
         {"width", width},
         {"image_channels", image_channels},
         {"layout", layout}};
    return j.dump();
  }
  // Written only when set, so classifiers' JSON stays as it was.
  if (scale != 1.0) j["scale"] = scale;
  if (block_size != 0.0) j["block_size"] = block_size;
  return j.dump();
}

Preprocessing Preprocessing::from_json(std::string_view json) {
  detail::JsonFields fields(json, "preprocessing");
  Preprocessing p;
  fields.read("input", p.input);
  fields.read("height", p.height);
  fields.read("width", p.width);
  fields.read("image_channels", p.image_channels);
  fields.read("num_points", p.num_points);
  fields.read("sampling", p.sampling);
  fields.read("center", p.center);
  fields.read("unit_sphere", p.unit_sphere);
  fields.read("normals", p.normals);
  fields.read("layout", p.layout);
  fields.read("scale", p.scale);
  fields.read("block_size", p.block_size);
  fields.finish();
  p.validate();
  return p;
}

// ---------------------------------------------------------------------------------------------------
// Sampling.

namespace {

// Indices of num_points points. With enough points they are distinct; with too few, every point comes
// first in file order and the rest are drawn with replacement.
std::vector<std::int64_t> choose_points(const PointCloud& cloud, const Preprocessing& pre,
                                        std::uint64_t seed) {
  const std::int64_t n = cloud.size(), k = pre.num_points;
  detail::Rng rng(detail::mix_seed(seed, kSamplingStream));
  std::vector<std::int64_t> chosen;
  if (n < k) {
    chosen.resize(static_cast<std::size_t>(n));
    std::iota(chosen.begin(), chosen.end(), std::int64_t{0});
    while (static_cast<std::int64_t>(chosen.size()) < k)
      chosen.push_back(static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n))));
    return chosen;
  }
  if (pre.sampling == "fps") return farthest_point_sampling(cloud.points.data(), n, k, 0);
  if (pre.sampling == "first") {
    chosen.resize(static_cast<std::size_t>(k));
    std::iota(chosen.begin(), chosen.end(), std::int64_t{0});
    return chosen;
  }
  // "random": the first k entries of a partial Fisher-Yates shuffle.
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), std::int64_t{0});
  for (std::int64_t i = 0; i < k; ++i) {
    const auto j = i + static_cast<std::int64_t>(rng.below(static_cast<std::uint64_t>(n - i)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
  }
  order.resize(static_cast<std::size_t>(k));
  return order;
}

// The points of a block_size square (x-y) around a random point, as a cloud, and their indices.
std::pair<PointCloud, std::vector<std::int64_t>> random_block(const PointCloud& cloud, double size,
                                                              std::uint64_t seed) {
  detail::Rng rng(detail::mix_seed(seed, kBlockStream));
  const auto centre = static_cast<std::size_t>(3 * rng.below(static_cast<std::uint64_t>(cloud.size())));
  const double cx = cloud.points[centre], cy = cloud.points[centre + 1], half = size / 2;
  PointCloud block;
  std::vector<std::int64_t> index;
  for (std::int64_t i = 0; i < cloud.size(); ++i) {
    const float* p = &cloud.points[static_cast<std::size_t>(3 * i)];
    if (std::abs(p[0] - cx) > half || std::abs(p[1] - cy) > half) continue;
    block.points.insert(block.points.end(), p, p + 3);
    if (cloud.has_normals())
      block.normals.insert(block.normals.end(), &cloud.normals[static_cast<std::size_t>(3 * i)],
                           &cloud.normals[static_cast<std::size_t>(3 * i)] + 3);
    index.push_back(i);
  }
  return {std::move(block), std::move(index)};  // never empty: the centre is in it
}

struct Normalisation {
  double center[3] = {0, 0, 0};
  double scale = 1;  // multiply by this
};

// Centre and scale from the distinct chosen points (the first min(n, k) indices).
Normalisation normalisation(const PointCloud& cloud, std::span<const std::int64_t> distinct,
                            const Preprocessing& pre) {
  Normalisation norm;
  if (pre.center) {
    for (std::int64_t i : distinct)
      for (int a = 0; a < 3; ++a) norm.center[a] += cloud.points[static_cast<std::size_t>(3 * i + a)];
    for (double& c : norm.center) c /= static_cast<double>(distinct.size());
  }
  if (pre.unit_sphere) {
    double largest = 0;
    for (std::int64_t i : distinct) {
      double r2 = 0;
      for (int a = 0; a < 3; ++a) {
        const double d = cloud.points[static_cast<std::size_t>(3 * i + a)] - norm.center[a];
        r2 += d * d;
      }
      largest = std::max(largest, r2);
    }
    // A cloud of one repeated point has no extent to scale; leave it at the origin rather than NaN.
    if (largest > 0) norm.scale = 1.0 / std::sqrt(largest);
  }
  norm.scale *= pre.scale;
  return norm;
}

}  // namespace

Shape Preprocessing::item_shape() const {
  const bool first = layout == "channels_first";
  if (input == "image")
    return first ? Shape{image_channels, height, width} : Shape{height, width, image_channels};
  return first ? Shape{channels(), num_points} : Shape{num_points, channels()};
}

Tensor preprocess_image(const Tensor& image, const Preprocessing& pre) {
  pre.validate();
  if (pre.input != "image") throw Error("preprocess_image: preprocessing.input is \"" + pre.input + "\"");
  const Tensor sized = resize_image(image, pre.height, pre.width, pre.image_channels);
  const std::uint8_t* src = sized.data<std::uint8_t>();
  const std::int64_t c = pre.image_channels, hw = pre.height * pre.width;
  Tensor out = Tensor::empty(kFloat32, pre.item_shape());
  float* dst = out.data<float>();
  const bool channels_first = pre.layout == "channels_first";
  for (std::int64_t p = 0; p < hw; ++p)
    for (std::int64_t k = 0; k < c; ++k)
      dst[channels_first ? k * hw + p : p * c + k] = (float(src[p * c + k]) - 127.5f) / 128.0f;
  return out;
}

Tensor preprocess(const PointCloud& cloud, const Preprocessing& pre, std::uint64_t seed,
                  std::vector<std::int64_t>* chosen_out) {
  pre.validate();
  if (pre.input != "cloud")
    throw Error("preprocess: preprocessing.input is \"" + pre.input + "\", not a cloud");
  if (cloud.size() == 0) throw Error("cannot preprocess an empty cloud");
  if (cloud.has_normals() && cloud.normals.size() != cloud.points.size())
    throw Error("the cloud has " + std::to_string(cloud.normals.size() / 3) + " normals for " +
                std::to_string(cloud.size()) + " points");
  if (pre.normals && !cloud.has_normals())
    throw Error(
        "preprocessing asks for normals, but the cloud has none (a .txt with 6 numbers per line, or a "
        ".pcd/.ply with normal_x/y/z fields, has them)");
  if (pre.block_size > 0) {
    auto [block, index] = random_block(cloud, pre.block_size, seed);
    Preprocessing whole = pre;
    whole.block_size = 0;
    Tensor out = preprocess(block, whole, seed, chosen_out);
    if (chosen_out)
      for (std::int64_t& i : *chosen_out) i = index[static_cast<std::size_t>(i)];
    return out;
  }
  const std::vector<std::int64_t> chosen = choose_points(cloud, pre, seed);
  const std::size_t distinct = std::min<std::size_t>(chosen.size(), static_cast<std::size_t>(cloud.size()));
  const Normalisation norm = normalisation(cloud, std::span(chosen).first(distinct), pre);
  if (chosen_out) *chosen_out = chosen;

  const std::int64_t n = pre.num_points, channels = pre.channels();
  const bool channels_first = pre.layout == "channels_first";
  Tensor out = Tensor::empty(kFloat32, channels_first ? Shape{channels, n} : Shape{n, channels});
  float* dst = out.data<float>();
  // Element (c, i) of the point-major or channel-major layout.
  const auto at = [&](std::int64_t c, std::int64_t i) -> float& {
    return channels_first ? dst[c * n + i] : dst[i * channels + c];
  };
  for (std::int64_t i = 0; i < n; ++i) {
    const auto src = static_cast<std::size_t>(3 * chosen[static_cast<std::size_t>(i)]);
    for (int a = 0; a < 3; ++a)
      at(a, i) = static_cast<float>((cloud.points[src + a] - norm.center[a]) * norm.scale);
    if (!pre.normals) continue;
    const double nx = cloud.normals[src], ny = cloud.normals[src + 1], nz = cloud.normals[src + 2];
    const double length = std::sqrt(nx * nx + ny * ny + nz * nz);
    const double inv = length > 0 ? 1.0 / length : 0.0;  // a zero normal stays zero
    at(3, i) = static_cast<float>(nx * inv);
    at(4, i) = static_cast<float>(ny * inv);
    at(5, i) = static_cast<float>(nz * inv);
  }
  return out;
}

}  // namespace pcv
