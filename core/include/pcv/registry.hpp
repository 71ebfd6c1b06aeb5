// The plugin registry: finds plugin files, loads them through the C ABI, and makes kernels.
#pragma once

#include <pcv/attr.hpp>
#include <pcv/kernel.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pcv {

namespace detail {
struct OpBinding;  // an op's validated C descriptor plus the loaded library behind it
}

struct ArgInfo {
  std::string name, doc, dtypes;
  bool optional = false;
  bool state = false;     // updated in place by training-mode forward; never differentiated
  bool variadic = false;  // the last input only: given one or more times
  bool no_grad = false;   // input: backward does not differentiate it; output: its gradient is ignored
};

struct AttrInfo {
  std::string name, doc;
  std::int32_t type = 0;                   // PCV_ATTR_*
  std::optional<AttrValue> default_value;  // absent: required
};

// An op as the host knows it: a copy of its descriptor in C++ types.
struct OpInfo {
  std::string full_name;  // "<plugin>.<op>"
  std::string name;
  std::string plugin;
  std::string doc;
  std::uint32_t version = 0;
  std::uint32_t caps = 0;  // PCV_CAP_*
  std::vector<ArgInfo> inputs, outputs;
  std::vector<AttrInfo> attrs;
  std::shared_ptr<const detail::OpBinding> binding;
};

struct PluginInfo {
  std::string name, version, description;
  std::uint32_t abi_major = 0, abi_minor = 0;
  std::filesystem::path path;
  std::vector<OpInfo> ops;
};

// A plugin file that could not be loaded, and why.
struct LoadFailure {
  std::filesystem::path path;
  std::string reason;
  std::string message() const;  // "<path>: <reason>"
};

// {"cpu", "backward", "thread-safe"} for a PCV_CAP_* mask, and the same joined with ", ".
std::vector<std::string> caps_list(std::uint32_t caps);
std::string caps_string(std::uint32_t caps);

class Registry {
 public:
  Registry();
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  // Where plugins are looked for, in order: each entry of $PCV_PLUGIN_PATH (':'-separated
  // directories or files), then <dir of libpcv>/pcv/plugins if it exists - the install
  // directory, which the build tree mirrors, so a build finds its own plugins.
  static std::vector<std::filesystem::path> default_search_path();

  // Loads one plugin file. Throws pcv::Error naming the file and the reason; the registry is
  // unchanged then. Loading a file that is already loaded returns the loaded plugin.
  const PluginInfo& load(const std::filesystem::path& file);

  // Loads each file, and each *.so in each directory (sorted by name). Failures are returned,
  // not thrown, so one bad plugin never hides the others; a path that does not exist is one.
  std::vector<LoadFailure> load_all(const std::vector<std::filesystem::path>& paths);

  std::vector<const PluginInfo*> plugins() const;
  const PluginInfo* find_plugin(std::string_view name) const;
  const OpInfo* find_op(std::string_view full_name) const;
  // Like find_op, but throws pcv::Error listing what is loaded when the op is unknown.
  const OpInfo& op(std::string_view full_name) const;

  // A kernel of the op, created from attributes checked against the op's schema.
  Kernel create_kernel(std::string_view op_name, const AttrMap& attrs = {}) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pcv
