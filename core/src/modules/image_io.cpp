// The image module (see image_io.hpp): OpenCV's decoders and encoders.
#include "modules/image_io.hpp"

#include "io/file_bytes.hpp"

#include <pcv/error.hpp>
#include <pcv/image.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cstdlib>
#include <string>
#include <vector>

namespace pcv {
namespace {

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

Tensor decode(const std::string& bytes, const std::filesystem::path& path) {
  if (bytes.empty()) fail(path, "the file is empty");
  const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
  cv::Mat image;
  try {
    image = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
  } catch (const cv::Exception& e) {
    if (e.msg.find("validateInputImageSize") != std::string::npos ||
        e.err.find("pixels") != std::string::npos)
      fail(path, "the image is larger than the " + std::to_string(kMaxImagePixels / 1'000'000) +
                     " Mpx pcv reads (" + e.err + ")");
    fail(path, "cannot decode the image: " + e.msg);
  }
  if (image.empty()) fail(path, "not a readable image (corrupt, truncated or an unsupported format)");
  if (std::int64_t(image.rows) * image.cols > kMaxImagePixels)
    fail(path, std::to_string(image.cols) + " x " + std::to_string(image.rows) + " pixels is more than the " +
                   std::to_string(kMaxImagePixels / 1'000'000) + " Mpx pcv reads");
  if (image.channels() == 2) cv::extractChannel(image, image, 0);  // grey + alpha: keep the grey
  if (image.depth() == CV_16U)
    image.convertTo(image, CV_8U, 1.0 / 257.0);
  else if (image.depth() != CV_8U)
    fail(path,
         "pixels of OpenCV depth " + std::to_string(image.depth()) + " are not supported (8 or 16 bits)");
  if (!image.isContinuous()) image = image.clone();
  Tensor t = Tensor::empty(kUInt8, {image.rows, image.cols, image.channels()});
  std::copy(image.datastart, image.dataend, t.data<std::uint8_t>());
  return t;
}

std::string encode(const Tensor& image, const std::filesystem::path& path) {
  const Shape& s = image.shape();
  if (!same_dtype(image.dtype(), kUInt8) || s.size() != 3 || (s[2] != 1 && s[2] != 3 && s[2] != 4))
    fail(path, "an image to write is uint8 [H, W, C], C = 1, 3 or 4; got " + dtype_name(image.dtype()) + " " +
                   shape_string(s));
  const cv::Mat mat(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_8UC(static_cast<int>(s[2])),
                    const_cast<void*>(image.raw_data()));
  std::vector<unsigned char> bytes;
  const std::string ext = detail::lower_extension(path);
  try {
    if (!cv::imencode(ext == ".jpeg" ? ".jpg" : ext, mat, bytes)) fail(path, "could not encode the image");
  } catch (const cv::Exception& e) {
    fail(path, "cannot encode a " + ext + " image: " + e.msg);
  }
  return std::string(bytes.begin(), bytes.end());
}

Tensor resize(const Tensor& image, std::int64_t height, std::int64_t width, std::int64_t channels) {
  const Shape& s = image.shape();
  const cv::Mat in(static_cast<int>(s[0]), static_cast<int>(s[1]), CV_8UC(static_cast<int>(s[2])),
                   const_cast<void*>(image.raw_data()));
  cv::Mat converted = in;
  if (s[2] == 1 && channels == 3) cv::cvtColor(in, converted, cv::COLOR_GRAY2BGR);
  if (s[2] == 3 && channels == 1) cv::cvtColor(in, converted, cv::COLOR_BGR2GRAY);
  if (s[2] == 4) cv::cvtColor(in, converted, channels == 1 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGRA2BGR);
  Tensor out = Tensor::empty(kUInt8, {height, width, channels});
  cv::Mat target(static_cast<int>(height), static_cast<int>(width), CV_8UC(static_cast<int>(channels)),
                 out.raw_data());
  const bool shrinking = height < s[0] && width < s[1];
  cv::resize(converted, target, target.size(), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_LINEAR);
  return out;
}

}  // namespace
}  // namespace pcv

extern "C" __attribute__((visibility("default"))) const pcv::detail::ImageIo* pcv_image_io() {
  static const pcv::detail::ImageIo io{&pcv::decode, &pcv::encode, &pcv::resize};
  return &io;
}
