// What the plots module's drawings share: text, PNG output, and the drawings themselves.
#pragma once

#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "modules/plots.hpp"

namespace pcv::detail::drawing {

inline const cv::Scalar kInk(40, 40, 40), kGrid(225, 225, 225);

inline void text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.45,
                 cv::Scalar colour = kInk) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, colour, 1, cv::LINE_AA);
}

// Encodes and writes atomically.
inline void write_png(const std::filesystem::path& path, const cv::Mat& image) {
  std::vector<unsigned char> bytes;
  if (!cv::imencode(".png", image, bytes)) throw Error(path.string() + ": could not encode the PNG");
  write_file_atomically(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

void curves(const std::filesystem::path& path, const std::vector<EpochStats>& history);
void confusion(const std::filesystem::path& path, const ConfusionMatrix& confusion,
               const std::vector<std::string>& labels);
void roc(const std::filesystem::path& path, const VerificationReport& report);

}  // namespace pcv::detail::drawing
