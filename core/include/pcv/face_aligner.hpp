// The face pipeline on one image: detect faces, find their landmarks and warp each to a canonical
// crop, through the face plugin's ops (face.detect, face.landmarks, face.align). pcv faces align
// writes what it finds; a face-embedding model records the settings its training crops were made
// with, so that pcv verify aligns raw images the same way.
#pragma once

#include <pcv/registry.hpp>
#include <pcv/tensor.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pcv {

// __metadata__ key of a face-embedding model: FaceAlignment::to_json() of its training crops.
inline constexpr const char* kFaceAlignmentKey = "pcv.face_alignment";

struct FaceAlignment {
  std::string detector = "hog";  // hog or cascade
  std::int64_t upsample = 0;     // hog: image doublings before detecting (faces under 80 px)
  // hog: where no face is found, detect again with the image doubled once more, up to this many
  // doublings in all (smaller faces; slower only on images without a face). -1: no retries.
  std::int64_t upsample_max = -1;
  std::string landmark_model;             // empty: face.landmarks' default
  std::string template_name = "arcface";  // arcface or arcface_96x112
  std::int64_t size = 112;                // crop side (a multiple of 112 or 128)
  // What an image without a detected face gives: "none" (no crop) or "resize" (the image is taken
  // to be a face crop already, as ORL's are, and resized to the crop size).
  std::string fallback = "none";

  std::string to_json() const;
  // Strict: unknown keys and wrong types are pcv::Error naming `where`; absent keys keep defaults.
  static FaceAlignment from_json(std::string_view json, const std::string& where = "face alignment");
  void validate() const;
};

// Every face found on an image, best detection first. Tensors as the face plugin's ops give them.
struct AlignedFaces {
  std::int64_t count = 0;
  Tensor boxes, scores;        // [F, 4] (left, top, right, bottom), [F]; absent with given points
  Tensor landmarks68;          // [F, 68, 2]; absent with given points
  Tensor landmarks5;           // [F, 5, 2]
  Tensor crops;                // uint8 [F, h, w, C]
  Tensor transforms;           // [F, 2, 3] image -> crop
  Tensor residuals, scales;    // [F]: RMS distance of the fitted points to the template, scale
  std::int64_t upsample = -1;  // the doublings the detector found the faces at; -1 with given points
};

// One image at a time; keeps the loaded models, so make one per thread (dlib's detector keeps
// scratch state).
class FaceAligner {
 public:
  // With `detect` false only align_points() works (no detector or landmark model is loaded).
  FaceAligner(const Registry& registry, const FaceAlignment& settings, bool detect = true);

  // Detects, finds landmarks and aligns every face of a uint8 [H, W, C] image.
  AlignedFaces align_all(const Tensor& image) const;
  // Aligns faces at given five points [F, 5, 2].
  AlignedFaces align_points(const Tensor& image, const Tensor& five) const;
  // The crop of the largest face, or the fallback's when none is found (`fell_back` set), or
  // nothing when there is no face and no fallback.
  std::optional<Tensor> main_face(const Tensor& image, bool* fell_back = nullptr) const;
  // The "resize" fallback's crop: the whole image resized to the crop size.
  Tensor fallback_crop(const Tensor& image) const;

  const FaceAlignment& settings() const { return settings_; }

 private:
  // Boxes and scores at the first doubling that finds a face (`upsample` says which).
  std::vector<Tensor> detect(const Tensor& image, std::int64_t& upsample) const;
  AlignedFaces landmarks_and_align(const Tensor& image, std::vector<Tensor> found,
                                   std::int64_t upsample) const;

  FaceAlignment settings_;
  std::vector<Kernel> detect_;  // one per doubling tried, in order
  std::optional<Kernel> landmarks_;
  Kernel align_;
  std::int64_t crop_height_, crop_width_;
};

}  // namespace pcv
