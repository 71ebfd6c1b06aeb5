#include <pcv/error.hpp>
#include <pcv/image.hpp>

#include <stdlib.h>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <map>
#include <mutex>

#include "modules/image_io.hpp"
#include "modules/module_loader.hpp"
#include "modules/pcl_cloud_io.hpp"
#include "modules/plots.hpp"

namespace pcv::detail {

const void* module_api(const std::string& name, const char* entry, const std::string& purpose) {
  static std::mutex mutex;
  static std::map<std::string, boost::dll::shared_library> loaded;  // kept to the end of the process
  const std::lock_guard lock(mutex);
  // libpcv sits in <prefix>/lib (installed) or <build>/lib (build tree); both keep modules in
  // pcv/modules beside it.
  const auto file =
      boost::dll::this_line_location().parent_path() / "pcv" / "modules" / ("lib" + name + ".so");
  auto it = loaded.find(name);
  if (it == loaded.end()) {
    try {
      it = loaded
               .emplace(name, boost::dll::shared_library(
                                  file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local))
               .first;
    } catch (const std::exception& e) {
      throw Error("cannot load " + file.string() + ", pcv's module for " + purpose + ": " + e.what() +
                  " (is pcv fully built and installed?)");
    }
  }
  if (!it->second.has(entry))
    throw Error(file.string() + ": not pcv's module for " + purpose + " (no " + entry + ")");
  return it->second.get<const void*()>(entry)();  // a function type: get<> of a pointer type reads a variable
}

const PclCloudIo& pcl_cloud_io() {
  static const PclCloudIo& io =
      module_api<PclCloudIo>("pcv_pcl_io", "pcv_pcl_cloud_io", ".pcd and .ply files (PCL)");
  return io;
}

// OpenCV's codecs read their image-size limit when they are loaded: set before loading a module
// that links them, it makes them refuse huge images from the header, before allocating the
// pixels (a user's own setting wins).
void limit_opencv_image_size() {
  setenv("OPENCV_IO_MAX_IMAGE_PIXELS", std::to_string(kMaxImagePixels).c_str(), 0);
}

const PlotsApi& plots() {
  static const PlotsApi& api =
      (limit_opencv_image_size(), module_api<PlotsApi>("pcv_plots", "pcv_plots_api", "PNG plots (OpenCV)"));
  return api;
}

const ImageIo& image_io() {
  static const ImageIo& io = (limit_opencv_image_size(),
                              module_api<ImageIo>("pcv_image_io", "pcv_image_io", "images (OpenCV codecs)"));
  return io;
}

}  // namespace pcv::detail
