// Reading and writing images: file handling and checks here, OpenCV's codecs in the image module.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/image.hpp>

#include <algorithm>
#include <cctype>
#include <system_error>

#include "io/file_bytes.hpp"
#include "modules/image_io.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using detail::lower_extension;

}  // namespace

std::vector<std::string> image_extensions() {
  return {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pnm"};
}

bool is_image_file(const fs::path& path) {
  const auto all = image_extensions();
  return std::find(all.begin(), all.end(), lower_extension(path)) != all.end();
}

Tensor read_image(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": file not found");
  if (fs::is_directory(path, ec)) throw Error(path.string() + ": is a directory, not an image");
  return detail::image_io().decode(detail::read_bytes(path), path);
}

Tensor resize_image(const Tensor& image, std::int64_t height, std::int64_t width, std::int64_t channels) {
  const Shape& s = image.shape();
  if (!same_dtype(image.dtype(), kUInt8) || s.size() != 3 || (s[2] != 1 && s[2] != 3 && s[2] != 4))
    throw Error("resize_image: expected uint8 [H, W, C], C = 1, 3 or 4; got " + dtype_name(image.dtype()) +
                " " + shape_string(s));
  if (height < 1 || width < 1 || (channels != 1 && channels != 3))
    throw Error("resize_image: cannot make " + std::to_string(height) + " x " + std::to_string(width) +
                " x " + std::to_string(channels) + " (channels 1 or 3)");
  if (s[0] == 0 || s[1] == 0) throw Error("resize_image: the image is empty");
  return detail::image_io().resize(image, height, width, channels);
}

void write_image(const fs::path& path, const Tensor& image) {
  const std::string ext = lower_extension(path);
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
    throw Error(path.string() + ": images are written as .png or .jpg, not '" + ext + "'");
  write_file_atomically(path, detail::image_io().encode(image, path));
}

}  // namespace pcv
