// face.landmarks: dlib's 68-point shape predictor (iBUG 300-W indexing) inside given face boxes,
// and the five points face.align takes (eye centres as the mean of their six eyelid points, the
// nose tip, the mouth corners).
#pragma once

#include <pcv/sdk.hpp>

#include <memory>
#include <string>

namespace pcv::face {

// Where the 68-point model is looked for when the `model` attribute is empty: $PCV_FACE_LANDMARKS,
// else Debian's libdlib-data file.
std::string default_landmark_model();

class Landmarks {
 public:
  static sdk::OpSpec spec();
  explicit Landmarks(const sdk::Attributes& attrs);
  ~Landmarks();
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  struct Impl;
  static std::shared_ptr<const Impl> load(const std::string& file);
  std::shared_ptr<const Impl> impl_;  // shared by every kernel that loaded the same file
};

}  // namespace pcv::face
