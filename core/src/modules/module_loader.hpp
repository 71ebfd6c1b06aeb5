// Parts of libpcv with heavy dependencies (PCL, OpenCV) live in modules of their own, in
// pcv/modules beside libpcv, loaded the first time they are needed and never unloaded.
#pragma once

#include <string>

namespace pcv::detail {

// The table of functions that module `name` (lib<name>.so) returns from its entry point `entry`,
// loaded once per process. Throws pcv::Error naming the module file and what it is `for` when it
// cannot be loaded.
const void* module_api(const std::string& name, const char* entry, const std::string& purpose);

template <class Api>
const Api& module_api(const std::string& name, const char* entry, const std::string& purpose) {
  return *static_cast<const Api*>(module_api(name, entry, purpose));
}

}  // namespace pcv::detail
