// Training-time random changes to a preprocessed cloud tensor.
#include <pcv/dataset.hpp>
#include <pcv/error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>

#include "train/json_fields.hpp"

namespace pcv {
namespace {

[[noreturn]] void bad_augmentation(const std::string& what) { throw Error("augmentation: " + what); }

std::string number(double v) { return nlohmann::json(v).dump(); }

constexpr std::uint64_t kAugmentationStream = 0xa06e47;

// Channel c of point i in a [C, N] or [N, C] float tensor.
class CloudView {
 public:
  CloudView(float* data, std::int64_t channels, std::int64_t points, bool channels_first)
      : data_(data), c_(channels), n_(points), channels_first_(channels_first) {}
  float& at(std::int64_t c, std::int64_t i) const {
    return channels_first_ ? data_[c * n_ + i] : data_[i * c_ + c];
  }
  std::int64_t channels() const { return c_; }
  std::int64_t points() const { return n_; }

 private:
  float* data_;
  std::int64_t c_, n_;
  bool channels_first_;
};

void drop_points(const CloudView& cloud, double max_ratio, detail::Rng& rng) {
  const double ratio = rng.uniform(0.0, max_ratio);
  for (std::int64_t i = 1; i < cloud.points(); ++i) {
    if (rng.uniform() >= ratio) continue;
    for (std::int64_t c = 0; c < cloud.channels(); ++c) cloud.at(c, i) = cloud.at(c, 0);
  }
}

// Rotation about `axis` by angle: the other two axes (a, b), in cyclic order, turn like x and y about z.
void rotate(const CloudView& cloud, int axis, double angle) {
  const int a = (axis + 1) % 3, b = (axis + 2) % 3;
  const double cs = std::cos(angle), sn = std::sin(angle);
  // Normals (channels 3..5) are directions and turn the same way.
  for (std::int64_t base = 0; base + 3 <= cloud.channels(); base += 3)
    for (std::int64_t i = 0; i < cloud.points(); ++i) {
      float& u = cloud.at(base + a, i);
      float& v = cloud.at(base + b, i);
      const double x = u, y = v;
      u = static_cast<float>(cs * x - sn * y);
      v = static_cast<float>(sn * x + cs * y);
    }
}

void scale_and_shift(const CloudView& cloud, double scale, const double (&shift)[3]) {
  for (int a = 0; a < 3; ++a)
    for (std::int64_t i = 0; i < cloud.points(); ++i) {
      float& v = cloud.at(a, i);
      v = static_cast<float>(v * scale + shift[a]);
    }
}

void jitter(const CloudView& cloud, double sigma, double clip, detail::Rng& rng) {
  for (std::int64_t i = 0; i < cloud.points(); ++i)
    for (int a = 0; a < 3; ++a) {
      float& v = cloud.at(a, i);
      v = static_cast<float>(v + std::clamp(sigma * rng.normal(), -clip, clip));
    }
}

}  // namespace

void Augmentation::validate() const {
  if (up_axis < 0 || up_axis > 2)
    bad_augmentation("'up_axis' must be 0 (x), 1 (y) or 2 (z), got " + std::to_string(up_axis));
  if (!(scale_min > 0) || !(scale_max >= scale_min) || !std::isfinite(scale_max))
    bad_augmentation("need 0 < 'scale_min' <= 'scale_max' (got " + number(scale_min) + ", " +
                     number(scale_max) + ")");
  if (!(jitter_sigma >= 0) || !std::isfinite(jitter_sigma))
    bad_augmentation("'jitter_sigma' must be >= 0 (got " + number(jitter_sigma) + ")");
  if (!(jitter_clip >= 0) || !std::isfinite(jitter_clip))
    bad_augmentation("'jitter_clip' must be >= 0 (got " + number(jitter_clip) + ")");
  if (!(shift >= 0) || !std::isfinite(shift))
    bad_augmentation("'shift' must be >= 0 (got " + number(shift) + ")");
  if (!(point_dropout >= 0 && point_dropout < 1))
    bad_augmentation("'point_dropout' must be in [0, 1) (got " + number(point_dropout) + ")");
  if (translate < 0)
    bad_augmentation("'translate' must be >= 0 pixels (got " + std::to_string(translate) + ")");
  if (!(contrast >= 0 && contrast < 1))
    bad_augmentation("'contrast' must be in [0, 1) (got " + number(contrast) + ")");
  if (!(brightness >= 0) || !std::isfinite(brightness))
    bad_augmentation("'brightness' must be >= 0 (got " + number(brightness) + ")");
}

bool Augmentation::any_image() const { return flip || translate > 0 || contrast > 0 || brightness > 0; }

bool Augmentation::any() const {
  return rotate_up || scale_min != 1.0 || scale_max != 1.0 || (jitter_sigma > 0 && jitter_clip > 0) ||
         shift > 0 || point_dropout > 0 || any_image();
}

std::string Augmentation::to_json() const {
  const nlohmann::json j = {{"rotate_up", rotate_up},
                            {"up_axis", up_axis},
                            {"scale_min", scale_min},
                            {"scale_max", scale_max},
                            {"jitter_sigma", jitter_sigma},
                            {"jitter_clip", jitter_clip},
                            {"shift", shift},
                            {"point_dropout", point_dropout}};
  nlohmann::json out = j;
  // Images only; written when set.
  if (flip) out["flip"] = true;
  if (translate > 0) out["translate"] = translate;
  if (contrast > 0) out["contrast"] = contrast;
  if (brightness > 0) out["brightness"] = brightness;
  return out.dump();
}

Augmentation Augmentation::from_json(std::string_view json) {
  detail::JsonFields fields(json, "augmentation");
  Augmentation a;
  fields.read("rotate_up", a.rotate_up);
  fields.read("up_axis", a.up_axis);
  fields.read("scale_min", a.scale_min);
  fields.read("scale_max", a.scale_max);
  fields.read("jitter_sigma", a.jitter_sigma);
  fields.read("jitter_clip", a.jitter_clip);
  fields.read("flip", a.flip);
  fields.read("translate", a.translate);
  fields.read("contrast", a.contrast);
  fields.read("brightness", a.brightness);
  fields.read("shift", a.shift);
  fields.read("point_dropout", a.point_dropout);
  fields.finish();
  a.validate();
  return a;
}

void mirror_image(Tensor& image, const Preprocessing& pre) {
  if (!same_dtype(image.dtype(), kFloat32) || image.shape() != pre.item_shape())
    throw Error("mirror_image: expected float32 " + shape_string(pre.item_shape()) + ", got " +
                shape_string(image.shape()));
  // Mirror each row: [C, H, W] rows are W contiguous values; [H, W, C] rows are W groups of C.
  const bool channels_first = pre.layout == "channels_first";
  const std::int64_t w = pre.width, group = channels_first ? 1 : pre.image_channels;
  const std::int64_t rows = image.numel() / (w * group);
  float* d = image.data<float>();
  for (std::int64_t r = 0; r < rows; ++r) {
    float* row = d + r * w * group;
    for (std::int64_t a = 0, b = w - 1; a < b; ++a, --b)
      std::swap_ranges(row + a * group, row + (a + 1) * group, row + b * group);
  }
}

namespace {

// Moves the content of a [C, H, W] or [H, W, C] image by (dx, dy) pixels; the edge pixels fill the gap.
void translate_image(Tensor& image, const Preprocessing& pre, std::int64_t dx, std::int64_t dy) {
  const bool channels_first = pre.layout == "channels_first";
  const std::int64_t h = pre.height, w = pre.width, c = pre.image_channels;
  const Tensor source = image.clone();
  const float* from = source.data<float>();
  float* to = image.data<float>();
  const auto at = [&](std::int64_t ch, std::int64_t y, std::int64_t x) {
    return channels_first ? (ch * h + y) * w + x : (y * w + x) * c + ch;
  };
  for (std::int64_t ch = 0; ch < c; ++ch)
    for (std::int64_t y = 0; y < h; ++y)
      for (std::int64_t x = 0; x < w; ++x)
        to[at(ch, y, x)] = from[at(ch, std::clamp(y - dy, std::int64_t{0}, h - 1),
                                   std::clamp(x - dx, std::int64_t{0}, w - 1))];
}

}  // namespace

void augment_image(Tensor& image, const Preprocessing& pre, const Augmentation& aug, std::uint64_t seed) {
  pre.validate();
  aug.validate();
  Augmentation cloud_settings = aug;
  cloud_settings.flip = false;
  cloud_settings.translate = 0;
  cloud_settings.contrast = cloud_settings.brightness = 0;
  if (cloud_settings.any())
    throw Error(
        "augmentation: images take 'flip', 'translate', 'contrast' and 'brightness'; the other "
        "settings are for clouds");
  if (!aug.any_image()) return;
  if (!same_dtype(image.dtype(), kFloat32) || image.shape() != pre.item_shape())
    throw Error("augment_image: expected float32 " + shape_string(pre.item_shape()) + ", got " +
                shape_string(image.shape()));
  // One stream, fixed draw order: the result depends on (settings, seed) alone.
  detail::Rng rng(detail::mix_seed(seed, kAugmentationStream));
  if (aug.flip && rng.uniform(0.0, 1.0) < 0.5) mirror_image(image, pre);
  if (aug.translate > 0) {
    const auto draw = [&] {
      return static_cast<std::int64_t>(std::floor(rng.uniform(0.0, 2.0 * aug.translate + 1))) - aug.translate;
    };
    const std::int64_t dx = draw(), dy = draw();
    translate_image(image, pre, dx, dy);
  }
  const double gain = aug.contrast > 0 ? rng.uniform(1 - aug.contrast, 1 + aug.contrast) : 1.0;
  const double offset = aug.brightness > 0 ? rng.uniform(-aug.brightness, aug.brightness) : 0.0;
  if (gain != 1.0 || offset != 0.0) {
    float* d = image.data<float>();
    for (std::int64_t i = 0; i < image.numel(); ++i) d[i] = static_cast<float>(d[i] * gain + offset);
  }
}

void augment(Tensor& cloud, const Preprocessing& pre, const Augmentation& aug, std::uint64_t seed) {
  pre.validate();
  aug.validate();
  const bool channels_first = pre.layout == "channels_first";
  const std::int64_t channels = pre.channels();
  if (!same_dtype(cloud.dtype(), kFloat32) || cloud.ndim() != 2 ||
      cloud.shape()[channels_first ? 0 : 1] != channels)
    throw Error("augment: expected a float32 cloud of shape " +
                std::string(channels_first ? "[" + std::to_string(channels) + ", N]"
                                           : "[N, " + std::to_string(channels) + "]") +
                ", got " + dtype_name(cloud.dtype()) + " " + shape_string(cloud.shape()));
  const CloudView view(cloud.data<float>(), channels, cloud.shape()[channels_first ? 1 : 0], channels_first);
  if (view.points() == 0) return;
  // All draws come from one stream in a fixed order, so the result is a function of (settings, seed)
  // alone, whatever thread runs it.
  detail::Rng rng(detail::mix_seed(seed, kAugmentationStream));
  if (aug.point_dropout > 0) drop_points(view, aug.point_dropout, rng);
  if (aug.rotate_up) rotate(view, aug.up_axis, rng.uniform(0.0, 2.0 * 3.14159265358979323846));
  const double scale =
      aug.scale_min == aug.scale_max ? aug.scale_min : rng.uniform(aug.scale_min, aug.scale_max);
  double shift[3] = {0, 0, 0};
  if (aug.shift > 0)
    for (double& s : shift) s = rng.uniform(-aug.shift, aug.shift);
  if (scale != 1.0 || aug.shift > 0) scale_and_shift(view, scale, shift);
  if (aug.jitter_sigma > 0 && aug.jitter_clip > 0) jitter(view, aug.jitter_sigma, aug.jitter_clip, rng);
}

}  // namespace pcv
