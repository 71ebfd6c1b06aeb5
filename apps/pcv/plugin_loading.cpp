#include "plugin_loading.hpp"

#include <cstdio>

namespace pcv::cli {

std::vector<LoadFailure> load_plugins(Registry& registry, const PluginOptions& options, bool quiet) {
  std::vector<std::filesystem::path> paths(options.plugin_paths.begin(), options.plugin_paths.end());
  for (auto& p : Registry::default_search_path()) paths.push_back(std::move(p));
  auto failures = registry.load_all(paths);
  if (!quiet)
    for (const LoadFailure& f : failures)
      std::fprintf(stderr, "pcv: warning: cannot load plugin %s\n", f.message().c_str());
  return failures;
}

}  // namespace pcv::cli
