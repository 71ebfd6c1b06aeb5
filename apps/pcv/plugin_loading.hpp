// How the CLI finds and loads plugins: shared by every subcommand.
#pragma once

#include <pcv/registry.hpp>

#include <string>
#include <vector>

namespace pcv::cli {

struct PluginOptions {
  std::vector<std::string> plugin_paths;  // --plugin-path, searched before the defaults
};

// Loads from --plugin-path entries, then Registry::default_search_path(). Each failure is
// also reported as one warning line on stderr unless `quiet`.
std::vector<LoadFailure> load_plugins(Registry& registry, const PluginOptions& options, bool quiet);

}  // namespace pcv::cli
