// An image tensor [H, W, C] uint8 (C = 1, 3 or 4; colour in OpenCV's BGR(A) order) as dlib's
// detector and shape predictor see it: grey stays grey, colour becomes dlib's RGB image (its HOG
// takes the strongest channel's gradient, its predictor the channels' mean), so that results
// match dlib's own pipeline on the same photo. OpenCV's cascade takes OpenCV's grey (grey_of).
#pragma once

#include <pcv/sdk.hpp>

#include <dlib/array2d.h>
#include <dlib/pixel.h>
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

// BGR or BGRA (alpha dropped) to dlib's RGB.
inline void to_dlib(const cv::Mat& colour, dlib::array2d<dlib::rgb_pixel>& out) {
  const int step = colour.channels();
  out.set_size(colour.rows, colour.cols);
  for (int r = 0; r < colour.rows; ++r) {
    const unsigned char* p = colour.ptr<unsigned char>(r);
    for (int c = 0; c < colour.cols; ++c, p += step) out[r][c] = dlib::rgb_pixel(p[2], p[1], p[0]);
  }
}

// The grey image dlib's shape predictor reads from a photo: the image itself if grey, else the
// integer mean of the colour channels (dlib's intensity of an RGB pixel; alpha dropped).
inline void dlib_intensity(const cv::Mat& image, dlib::array2d<unsigned char>& out) {
  if (image.channels() == 1) return to_dlib(image, out);
  const int step = image.channels();
  out.set_size(image.rows, image.cols);
  for (int r = 0; r < image.rows; ++r) {
    const unsigned char* p = image.ptr<unsigned char>(r);
    for (int c = 0; c < image.cols; ++c, p += step)
      out[r][c] = static_cast<unsigned char>((unsigned(p[0]) + p[1] + p[2]) / 3);
  }
}

// Calls run(image) with the image as a fresh dlib grey or RGB array (by its channel count), which
// run may change.
template <class Run>
void with_dlib_image(const cv::Mat& image, Run&& run) {
  if (image.channels() == 1) {
    dlib::array2d<unsigned char> grey;
    to_dlib(image, grey);
    run(grey);
  } else {
    dlib::array2d<dlib::rgb_pixel> rgb;
    to_dlib(image, rgb);
    run(rgb);
  }
}

inline void check_image_shape(std::span<const std::int64_t> s, const char* op) {
  if (s.size() != 3 || (s[2] != 1 && s[2] != 3 && s[2] != 4))
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'image' has shape ", shape_string(s),
              ", expected [H, W, C], C = 1, 3 or 4");
}

}  // namespace pcv::face
