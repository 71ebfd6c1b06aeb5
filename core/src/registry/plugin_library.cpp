#include "registry/plugin_library.hpp"

#include <pcv/error.hpp>
#include <pcv/types.hpp>

#include <dlfcn.h>
#include <boost/dll/shared_library.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "registry/host_api.hpp"

namespace pcv::detail {
namespace {

// Entry points run one at a time: plugins may initialise statics in them.
std::mutex loader_lock;

std::string abi_string(std::uint32_t major, std::uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

std::string version_mismatch(const pcv_plugin_info* info) {
  const std::string host = abi_string(PCV_ABI_VERSION_MAJOR, PCV_ABI_VERSION_MINOR);
  if (info == nullptr || info->struct_size < PCV_SIZE_THROUGH(pcv_plugin_info, abi_minor))
    return "the plugin refused this host's pcv ABI " + host +
           " as a different major version; rebuild it against the pcv " +
           std::to_string(PCV_ABI_VERSION_MAJOR) + ".x SDK";
  const std::string plugin = abi_string(info->abi_major, info->abi_minor);
  return "the plugin was built for pcv ABI " + plugin + " but this host speaks ABI " + host +
         "; rebuild the plugin against the pcv " + std::to_string(PCV_ABI_VERSION_MAJOR) +
         ".x SDK, or use a pcv host of ABI major " + std::to_string(info->abi_major);
}

// Boost.DLL wraps dlerror()'s text as "...(dlerror system message: TEXT): <errno text>", with
// an errno that means nothing here; keep TEXT.
std::string dlerror_text(const std::string& what) {
  const std::string marker = "dlerror system message: ";
  const auto begin = what.find(marker);
  const auto end = what.rfind("): ");
  if (begin == std::string::npos || end == std::string::npos || end < begin) return what;
  return what.substr(begin + marker.size(), end - begin - marker.size());
}

}  // namespace

OpenedPlugin open_plugin(const std::filesystem::path& file) {
  auto library = std::make_shared<boost::dll::shared_library>();
  try {
    library->load(file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const std::exception& e) {
    throw Error("not a loadable shared library: " + dlerror_text(e.what()));
  }
  // dlsym directly, for dlerror()'s text in the message.
  dlerror();
  void* symbol = dlsym(library->native(), PCV_PLUGIN_ENTRY_SYMBOL);
  if (symbol == nullptr) {
    const char* why = dlerror();
    throw Error(std::string("no '") + PCV_PLUGIN_ENTRY_SYMBOL +
                "' symbol, so not a pcv plugin (plugins are built with pcv_add_plugin()): " +
                (why != nullptr ? why : "symbol is NULL"));
  }
  auto entry = reinterpret_cast<pcv_plugin_entry_fn>(symbol);

  OpenedPlugin opened;
  pcv_status status;
  {
    std::lock_guard lock(loader_lock);
    clear_plugin_error();
    status = entry(host_api(), &opened.info);
  }
  if (status == PCV_ERR_VERSION_MISMATCH) throw Error(version_mismatch(opened.info), status);
  check_plugin_status(status, "pcv_plugin_entry");
  if (opened.info == nullptr) throw Error("malformed descriptor: pcv_plugin_entry returned no info");
  if (opened.info->struct_size >= PCV_SIZE_THROUGH(pcv_plugin_info, abi_minor) &&
      opened.info->abi_major != PCV_ABI_VERSION_MAJOR)
    throw Error(version_mismatch(opened.info), PCV_ERR_VERSION_MISMATCH);
  opened.library = std::move(library);
  return opened;
}

void retain_forever(std::shared_ptr<void> library) {
  static std::mutex mutex;
  static auto* kept = new std::vector<std::shared_ptr<void>>();  // never destroyed, on purpose
  std::lock_guard lock(mutex);
  kept->push_back(std::move(library));
}

}  // namespace pcv::detail
