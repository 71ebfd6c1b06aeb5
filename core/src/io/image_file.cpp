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

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

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

void write_image(const fs::path& path, const Tensor& image) {
  const std::string ext = lower_extension(path);
  if (ext != ".png" && ext != ".jpg" && ext != ".jpeg")
    throw Error(path.string() + ": images are written as .png or .jpg, not '" + ext + "'");
  write_file_atomically(path, detail::image_io().encode(image, path));
}

}  // namespace pcv
