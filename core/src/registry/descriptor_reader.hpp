// Checking a plugin's C descriptors and copying them into the host's C++ types.
#pragma once

#include <pcv/plugin.h>
#include <pcv/registry.hpp>

#include <memory>

namespace pcv::detail {

// What the host keeps of an op's C descriptor: a zero-filled copy (fields newer than the
// plugin's struct_size read as 0/NULL).
struct OpBinding {
  pcv_op_desc desc{};
};

// Validates every descriptor reachable from info and returns the plugin as the host sees it
// (path left empty). Throws pcv::Error("malformed descriptor: ...") naming the bad field.
PluginInfo read_plugin_info(const pcv_plugin_info& info);

}  // namespace pcv::detail
