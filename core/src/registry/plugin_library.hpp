// Opening a plugin file and calling its entry point (the only place that includes Boost.DLL).
#pragma once

#include <pcv/plugin.h>

#include <filesystem>
#include <memory>

namespace pcv::detail {

struct OpenedPlugin {
  std::shared_ptr<void> library;  // dlclose()s when released; see retain_forever()
  const pcv_plugin_info* info = nullptr;
};

// Loads the file (RTLD_NOW | RTLD_LOCAL), finds pcv_plugin_entry, negotiates the ABI major
// and calls the entry. Throws pcv::Error with the reason (without the path).
OpenedPlugin open_plugin(const std::filesystem::path& file);

// Keeps a library loaded until the process ends: unloading can leave dangling function
// pointers, thread_local destructors and static strings behind.
void retain_forever(std::shared_ptr<void> library);

}  // namespace pcv::detail
