// face.align: five landmarks per face -> the similarity that takes them onto a crop template
// (closed-form Umeyama, as insightface's estimate_norm) -> the crop, warped as insightface's
// norm_crop (cv::warpAffine, bilinear, constant 0 border). The fit's scale and RMS residual come
// out with the crop, so swapped or wrong landmarks (small scale, large residual) can be flagged.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <string>

namespace pcv::face {

class Align {
 public:
  static sdk::OpSpec spec();
  explicit Align(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  std::string template_name_;
  std::int64_t size_, width_, height_;
};

}  // namespace pcv::face
