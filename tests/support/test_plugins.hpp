// The plugins a test build made: pcv's own (PCV_TEST_PLUGIN_DIR) and the bad-plugin zoo.
#pragma once

#include <pcv/registry.hpp>

#include <gtest/gtest.h>

#include <filesystem>

namespace pcv::test {

inline const std::filesystem::path kPluginDir = PCV_TEST_PLUGIN_DIR;

// A registry with pcv's own plugins loaded, shared by the tests of one program.
inline Registry& builtin_plugins() {
  static Registry registry;
  static const bool loaded = [] {
    const auto failures = registry.load_all({kPluginDir});
    for (const auto& f : failures) ADD_FAILURE() << f.message();
    return true;
  }();
  (void)loaded;
  return registry;
}

}  // namespace pcv::test
