// PNG plots, drawn with OpenCV in a module of their own (pcv/modules/libpcv_plots.so beside libpcv)
// that libpcv loads the first time it writes one: OpenCV's image codecs bring GDAL and dozens more
// libraries, tens of MB resident, that inference never needs.
#pragma once

#include <pcv/metrics.hpp>
#include <pcv/trainer.hpp>
#include <pcv/verification.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace pcv::detail {

struct PlotsApi {
  void (*curves)(const std::filesystem::path& path, const std::vector<EpochStats>& history);
  void (*confusion)(const std::filesystem::path& path, const ConfusionMatrix& confusion,
                    const std::vector<std::string>& labels);
  void (*roc)(const std::filesystem::path& path, const VerificationReport& report);
};

// The module's functions, loaded once; throws pcv::Error if the module cannot be loaded.
const PlotsApi& plots();

}  // namespace pcv::detail

// The module's entry point.
extern "C" const pcv::detail::PlotsApi* pcv_plots_api();
