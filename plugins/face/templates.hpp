// Where the five landmarks (image-left eye, image-right eye, nose tip, image-left and image-right
// mouth corners) go in a face crop: insightface's ArcFace template and its sizing rule.
#pragma once

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "similarity_transform.hpp"

namespace pcv::face {

using FivePoints = std::array<Point, 5>;

// ArcFace's 112 x 112 template (insightface arcface_dst).
inline constexpr FivePoints kArcFace112 = {
    {{38.2946, 51.6963}, {73.5318, 51.5014}, {56.0252, 71.7366}, {41.5493, 92.3655}, {70.7299, 92.2041}}};

struct CropTemplate {
  FivePoints points;
  std::int64_t width = 0, height = 0;
};

// "arcface" at `size` (a multiple of 112: the template scaled by size/112; else a multiple of 128:
// scaled by size/128 and shifted right by 8·size/128, insightface's estimate_norm), or
// "arcface_96x112" (SphereFace/CosFace crops: x − 8, 96 wide, 112 high; size must be 112).
// Throws std::invalid_argument with the reason for anything else.
inline CropTemplate crop_template(const std::string& name, std::int64_t size) {
  CropTemplate t{kArcFace112, size, size};
  if (name == "arcface_96x112") {
    if (size != 112) throw std::invalid_argument("template arcface_96x112 is 112 high; size must be 112");
    for (Point& p : t.points) p.x -= 8;
    t.width = 96;
    return t;
  }
  if (name != "arcface")
    throw std::invalid_argument("template '" + name + "' is not arcface or arcface_96x112");
  if (size <= 0 || (size % 112 != 0 && size % 128 != 0))
    throw std::invalid_argument("size " + std::to_string(size) + " is not a multiple of 112 or 128");
  const bool base112 = size % 112 == 0;
  const double ratio = double(size) / (base112 ? 112.0 : 128.0);
  for (Point& p : t.points) {
    p.x = p.x * ratio + (base112 ? 0.0 : 8.0 * ratio);
    p.y *= ratio;
  }
  return t;
}

}  // namespace pcv::face
