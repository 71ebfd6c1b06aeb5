// face.detect: face boxes with scores. dlib's HOG frontal-face detector (default; finds faces of
// about 80 x 80 px and more, `upsample` doubles the image first for smaller ones) or an OpenCV
// cascade (Debian's opencv-data Haar/LBP files; no scores, so every box scores 1).
#pragma once

#include <pcv/sdk.hpp>

#include <memory>
#include <string>

namespace pcv::face {

class Detect {
 public:
  static sdk::OpSpec spec();
  explicit Detect(const sdk::Attributes& attrs);
  ~Detect();
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  struct Impl;  // keeps dlib's and OpenCV's headers out of this one
  std::shared_ptr<Impl> impl_;
};

}  // namespace pcv::face
