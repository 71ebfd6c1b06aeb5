#include <pcv/error.hpp>
#include <pcv/face_aligner.hpp>
#include <pcv/image.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

#include "train/json_fields.hpp"

namespace pcv {

std::string FaceAlignment::to_json() const {
  nlohmann::json j = {{"detector", detector},      {"upsample", upsample}, {"landmark_model", landmark_model},
                      {"template", template_name}, {"size", size},         {"fallback", fallback}};
  if (upsample_max >= 0) j["upsample_max"] = upsample_max;  // absent: no retries
  return j.dump();
}

FaceAlignment FaceAlignment::from_json(std::string_view json, const std::string& where) {
  detail::JsonFields fields(json, where);
  FaceAlignment a;
  fields.read("detector", a.detector);
  fields.read("upsample", a.upsample);
  fields.read("upsample_max", a.upsample_max);
  fields.read("landmark_model", a.landmark_model);
  fields.read("template", a.template_name);
  fields.read("size", a.size);
  fields.read("fallback", a.fallback);
  fields.finish();
  try {
    a.validate();
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return a;
}

void FaceAlignment::validate() const {
  if (detector != "hog" && detector != "cascade")
    throw Error("face alignment: 'detector' must be hog or cascade, got '" + detector + "'");
  if (upsample < 0 || upsample > 4)
    throw Error("face alignment: 'upsample' must be in [0, 4], got " + std::to_string(upsample));
  if (upsample_max < -1 || upsample_max > 4)
    throw Error("face alignment: 'upsample_max' must be in [0, 4] (or -1: no retries), got " +
                std::to_string(upsample_max));
  if (fallback != "none" && fallback != "resize")
    throw Error("face alignment: 'fallback' must be none or resize, got '" + fallback + "'");
  // The template and size are checked by face.align when the aligner is made.
}

FaceAligner::FaceAligner(const Registry& registry, const FaceAlignment& settings, bool detect)
    : settings_(settings),
      align_(registry.create_kernel("face.align",
                                    {{"template", settings.template_name}, {"size", settings.size}})) {
  settings_.validate();
  if (detect) {
    const std::int64_t last =
        settings.detector == "hog" ? std::max(settings.upsample, settings.upsample_max) : settings.upsample;
    for (std::int64_t u = settings.upsample; u <= last; ++u)
      detect_.push_back(
          registry.create_kernel("face.detect", {{"detector", settings.detector}, {"upsample", u}}));
    landmarks_ = registry.create_kernel("face.landmarks", {{"model", settings.landmark_model}});
  }
  // The crop size the template and size give, for the resize fallback.
  const auto shapes =
      align_.infer_shapes({Tensor::empty(kUInt8, {1, 1, 1}), Tensor::empty(kFloat32, {1, 5, 2})});
  crop_height_ = shapes.at(0).second.at(1);
  crop_width_ = shapes.at(0).second.at(2);
  if (crop_height_ < 1 || crop_width_ < 1)
    throw Error("face alignment: face.align does not say its crop size for template '" +
                settings.template_name + "'");
}

AlignedFaces FaceAligner::align_points(const Tensor& image, const Tensor& five) const {
  AlignedFaces out;
  out.count = five.shape().at(0);
  out.landmarks5 = five;
  if (out.count == 0) return out;
  auto aligned = align_.forward({image, five});
  out.crops = std::move(aligned.at(0));
  out.transforms = std::move(aligned.at(1));
  out.residuals = std::move(aligned.at(2));
  out.scales = std::move(aligned.at(3));
  return out;
}

std::vector<Tensor> FaceAligner::detect(const Tensor& image, std::int64_t& upsample) const {
  if (detect_.empty()) throw Error("FaceAligner: made without a detector; use align_points");
  std::vector<Tensor> found;
  upsample = settings_.upsample;
  for (const Kernel& kernel : detect_) {
    found = kernel.forward({image});
    if (found.at(0).shape().at(0) > 0) break;
    ++upsample;
  }
  return found;
}

AlignedFaces FaceAligner::landmarks_and_align(const Tensor& image, std::vector<Tensor> found,
                                              std::int64_t upsample) const {
  auto marks = landmarks_->forward({image, found.at(0)});
  AlignedFaces out = align_points(image, marks.at(1));
  out.boxes = std::move(found[0]);
  out.scores = std::move(found.at(1));
  out.landmarks68 = std::move(marks[0]);
  out.upsample = upsample;
  return out;
}

AlignedFaces FaceAligner::align_all(const Tensor& image) const {
  std::int64_t upsample = 0;
  std::vector<Tensor> found = detect(image, upsample);
  if (found.at(0).shape().at(0) == 0) return {};
  return landmarks_and_align(image, std::move(found), upsample);
}

Tensor FaceAligner::fallback_crop(const Tensor& image) const {
  return resize_image(image, crop_height_, crop_width_, image.shape().at(2) == 1 ? 1 : 3);
}

std::optional<Tensor> FaceAligner::main_face(const Tensor& image, bool* fell_back) const {
  if (fell_back) *fell_back = false;
  std::int64_t upsample = 0;
  const std::vector<Tensor> found = detect(image, upsample);
  const std::int64_t count = found.at(0).shape().at(0);
  if (count == 0) {
    if (settings_.fallback == "none") return std::nullopt;
    if (fell_back) *fell_back = true;
    return fallback_crop(image);
  }
  // Only the largest box is aligned: the subject, not a face in the background.
  std::int64_t best = 0;
  double best_area = -1;
  for (std::int64_t f = 0; f < count; ++f) {
    const float* b = found[0].data<float>() + 4 * f;
    const double area = double(b[2] - b[0]) * double(b[3] - b[1]);
    if (area > best_area) best = f, best_area = area;
  }
  const float* box = found[0].data<float>() + 4 * best;
  const AlignedFaces face =
      landmarks_and_align(image,
                          {Tensor::from<float>({1, 4}, {box[0], box[1], box[2], box[3]}),
                           Tensor::from<float>({1}, {found[1].data<float>()[best]})},
                          upsample);
  const Shape& shape = face.crops.shape();
  return face.crops.reshaped({shape[1], shape[2], shape[3]});
}

}  // namespace pcv
