// Image decoding and encoding through OpenCV's codecs, in a module of their own
// (pcv/modules/libpcv_image_io.so beside libpcv), loaded on first use: the codecs bring GDAL and
// dozens more libraries that a program without images should not load.
#pragma once

#include <pcv/tensor.hpp>

#include <filesystem>
#include <string>

namespace pcv::detail {

struct ImageIo {
  // The file's bytes decoded to uint8 [H, W, C]; `path` names the file in errors (pcv::Error).
  Tensor (*decode)(const std::string& bytes, const std::filesystem::path& path);
  // uint8 [H, W, C] encoded by the extension of `path` (".png", ".jpg").
  std::string (*encode)(const Tensor& image, const std::filesystem::path& path);
  // See resize_image() in pcv/image.hpp; the caller has checked the arguments.
  Tensor (*resize)(const Tensor& image, std::int64_t height, std::int64_t width, std::int64_t channels);
};

const ImageIo& image_io();

}  // namespace pcv::detail

extern "C" const pcv::detail::ImageIo* pcv_image_io();
