// Images on disk as tensors, for the face pipeline: uint8 [H, W, C] in OpenCV's channel order
// (C = 1 grey, 3 BGR, 4 BGRA). Decoding is OpenCV's, in a module libpcv loads on first use.
#pragma once

#include <pcv/tensor.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pcv {

// The largest image read_image() decodes, in pixels (width x height).
inline constexpr std::int64_t kMaxImagePixels = 100'000'000;

// Reads a .png, .jpg/.jpeg, .bmp, .tif/.tiff, .webp, .pgm/.ppm/.pnm file. 16-bit images are scaled
// to 8 bits (value / 257), grey stays one channel, colour keeps its alpha. Throws pcv::Error naming
// the file for a missing or empty file, one that is not a readable image, or one larger than
// kMaxImagePixels.
Tensor read_image(const std::filesystem::path& path);

// Writes uint8 [H, W, C] (C = 1, 3 or 4) as .png or .jpg, atomically. Throws pcv::Error naming the file.
void write_image(const std::filesystem::path& path, const Tensor& image);

// `image` resized to height x width (bilinear; area averaging when shrinking) with `channels`
// channels: 1 (grey) or 3 (BGR); grey is replicated, BGRA loses its alpha. uint8 in and out.
Tensor resize_image(const Tensor& image, std::int64_t height, std::int64_t width, std::int64_t channels);

// The extensions read_image() accepts, lower case with the dot.
std::vector<std::string> image_extensions();
bool is_image_file(const std::filesystem::path& path);

}  // namespace pcv
