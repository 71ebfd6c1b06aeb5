#include <pcv/error.hpp>
#include <pcv/registry.hpp>
#include <pcv/types.hpp>

#include <boost/dll/runtime_symbol_info.hpp>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>

#include "registry/attr_binding.hpp"
#include "registry/descriptor_reader.hpp"
#include "registry/host_api.hpp"
#include "registry/plugin_library.hpp"

namespace fs = std::filesystem;

namespace pcv {

std::string LoadFailure::message() const { return path.string() + ": " + reason; }

std::vector<std::string> caps_list(std::uint32_t caps) {
  std::vector<std::string> names;
  if (caps & PCV_CAP_CPU) names.emplace_back("cpu");
  if (caps & PCV_CAP_CUDA) names.emplace_back("cuda");
  if (caps & PCV_CAP_BACKWARD) names.emplace_back("backward");
  if (caps & PCV_CAP_THREADSAFE_COMPUTE) names.emplace_back("thread-safe");
  return names;
}

std::string caps_string(std::uint32_t caps) {
  std::string s;
  for (const std::string& name : caps_list(caps)) s += (s.empty() ? "" : ", ") + name;
  return s.empty() ? "none" : s;
}

struct Registry::Impl {
  mutable std::mutex mutex;
  std::vector<std::unique_ptr<PluginInfo>> plugins;  // unique_ptr: addresses stay valid
  std::map<std::string, const OpInfo*, std::less<>> ops;
  std::map<fs::path, const PluginInfo*> by_file;  // canonical path -> plugin

  // Throws pcv::Error with the reason only; the callers add the file.
  const PluginInfo& load(const fs::path& file);
};

const PluginInfo& Registry::Impl::load(const fs::path& file) {
  std::error_code ec;
  const fs::path canonical = fs::canonical(file, ec);
  if (ec) throw Error("no such file");
  if (!fs::is_regular_file(canonical)) throw Error("not a regular file");
  {
    std::lock_guard lock(mutex);
    if (auto it = by_file.find(canonical); it != by_file.end()) return *it->second;
  }
  detail::OpenedPlugin opened = detail::open_plugin(canonical);
  PluginInfo info = detail::read_plugin_info(*opened.info);
  info.path = canonical;

  std::lock_guard lock(mutex);
  for (const auto& other : plugins)
    if (other->name == info.name)
      throw Error("plugin name '" + info.name + "' is already taken by " + other->path.string() +
                  ", so its ops would have the same names");
  detail::retain_forever(std::move(opened.library));
  auto& stored = plugins.emplace_back(std::make_unique<PluginInfo>(std::move(info)));
  for (const OpInfo& op : stored->ops) ops.emplace(op.full_name, &op);
  by_file.emplace(canonical, stored.get());
  return *stored;
}

Registry::Registry() : impl_(std::make_unique<Impl>()) {}
Registry::~Registry() = default;

std::vector<fs::path> Registry::default_search_path() {
  std::vector<fs::path> paths;
  if (const char* env = std::getenv("PCV_PLUGIN_PATH")) {
    std::stringstream list(env);
    for (std::string entry; std::getline(list, entry, ':');)
      if (!entry.empty()) paths.emplace_back(entry);
  }
  // libpcv sits in <prefix>/lib (installed) or <build>/lib (build tree); both keep plugins
  // in pcv/plugins beside it.
  const fs::path beside = boost::dll::this_line_location().parent_path() / "pcv" / "plugins";
  std::error_code ec;
  if (fs::is_directory(beside, ec)) paths.push_back(beside);
  return paths;
}

const PluginInfo& Registry::load(const fs::path& file) {
  try {
    return impl_->load(file);
  } catch (const Error& e) {
    throw Error("cannot load plugin " + file.string() + ": " + e.what(), e.code());
  }
}

std::vector<LoadFailure> Registry::load_all(const std::vector<fs::path>& paths) {
  std::vector<LoadFailure> failures;
  const auto try_load = [&](const fs::path& file) {
    try {
      impl_->load(file);
    } catch (const Error& e) {
      failures.push_back({file, e.what()});
    }
  };
  for (const fs::path& path : paths) {
    std::error_code ec;
    if (fs::is_directory(path, ec)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(path, ec))
        if (entry.path().extension() == ".so") files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const fs::path& file : files) try_load(file);
    } else if (fs::exists(path, ec)) {
      try_load(path);
    } else {
      failures.push_back({path, "no such file or directory"});
    }
  }
  return failures;
}

std::vector<const PluginInfo*> Registry::plugins() const {
  std::lock_guard lock(impl_->mutex);
  std::vector<const PluginInfo*> list;
  for (const auto& p : impl_->plugins) list.push_back(p.get());
  std::sort(list.begin(), list.end(), [](auto* a, auto* b) { return a->name < b->name; });
  return list;
}

const PluginInfo* Registry::find_plugin(std::string_view name) const {
  std::lock_guard lock(impl_->mutex);
  for (const auto& p : impl_->plugins)
    if (p->name == name) return p.get();
  return nullptr;
}

const OpInfo* Registry::find_op(std::string_view full_name) const {
  std::lock_guard lock(impl_->mutex);
  auto it = impl_->ops.find(full_name);
  return it == impl_->ops.end() ? nullptr : it->second;
}

const OpInfo& Registry::op(std::string_view full_name) const {
  if (const OpInfo* op = find_op(full_name)) return *op;
  std::string known;
  {
    std::lock_guard lock(impl_->mutex);
    for (const auto& [name, op] : impl_->ops) known += (known.empty() ? "" : ", ") + name;
  }
  throw Error("unknown op '" + std::string(full_name) +
              "' (loaded ops: " + (known.empty() ? "none; is PCV_PLUGIN_PATH set?" : known) + ")");
}

Kernel Registry::create_kernel(std::string_view op_name, const AttrMap& attrs) const {
  auto op = std::make_shared<const OpInfo>(this->op(op_name));
  detail::AttrBinding bound(*op, attrs);
  void* state = nullptr;
  detail::clear_plugin_error();
  const pcv_status status = op->binding->desc.create(detail::host_api(), bound.get(), &state);
  detail::check_plugin_status(status, "creating a kernel of " + op->full_name);
  if (state == nullptr)
    throw Error("creating a kernel of " + op->full_name + ": the plugin returned no kernel",
                PCV_ERR_INTERNAL);
  return Kernel(std::move(op), state);
}

}  // namespace pcv
