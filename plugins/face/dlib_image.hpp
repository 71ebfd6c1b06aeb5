// An image tensor [H, W, C] uint8 (C = 1, 3 or 4; colour in OpenCV's BGR(A) order) as the 8-bit
// grey image dlib's detector and shape predictor work on.
#pragma once

#include <pcv/sdk.hpp>

#include <dlib/array2d.h>
#include <opencv2/imgproc.hpp>

namespace pcv::face {

inline cv::Mat mat_of(const sdk::TensorView<const std::uint8_t>& image) {
  const auto s = image.shape();
  return cv::Mat(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_8UC(static_cast<int>(s[2])),
                 const_cast<std::uint8_t*>(image.data()));
}

inline cv::Mat grey_of(const cv::Mat& image) {
  if (image.channels() == 1) return image;
  cv::Mat grey;
  cv::cvtColor(image, grey, image.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  return grey;
}

inline void to_dlib(const cv::Mat& grey, dlib::array2d<unsigned char>& out) {
  out.set_size(grey.rows, grey.cols);
  for (int r = 0; r < grey.rows; ++r) std::copy_n(grey.ptr<unsigned char>(r), grey.cols, &out[r][0]);
}

inline void check_image_shape(std::span<const std::int64_t> s, const char* op) {
  if (s.size() != 3 || (s[2] != 1 && s[2] != 3 && s[2] != 4))
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'image' has shape ", shape_string(s),
              ", expected [H, W, C], C = 1, 3 or 4");
}

}  // namespace pcv::face
