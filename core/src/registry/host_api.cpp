#include "registry/host_api.hpp"

#include <pcv/error.hpp>
#include <pcv/types.hpp>
#include <pcv/version.hpp>

#include <spdlog/spdlog.h>

#include "tensor/allocator.hpp"

namespace pcv::detail {
namespace {

// Errors are per thread: a plugin reports on the thread that made the call.
thread_local std::string last_error;

pcv_status set_error(void* /*ctx*/, pcv_status code, const char* message) noexcept {
  try {
    last_error = message != nullptr ? message : "";
  } catch (...) {  // out of memory while copying: keep the code, lose the text
  }
  return code;
}

pcv_status alloc(void* /*ctx*/, pcv_device device, std::uint64_t bytes, std::uint64_t alignment,
                 void** out) noexcept {
  if (out == nullptr) return PCV_ERR_INVALID_ARGUMENT;
  *out = allocate(device, bytes, alignment);
  return *out != nullptr ? PCV_OK : PCV_ERR_OUT_OF_MEMORY;
}

void free_memory(void* /*ctx*/, pcv_device device, void* ptr) noexcept { deallocate(device, ptr); }

void log(void* /*ctx*/, std::int32_t level, const char* message) noexcept {
  try {
    const auto lvl = level <= PCV_LOG_DEBUG  ? spdlog::level::debug
                     : level == PCV_LOG_INFO ? spdlog::level::info
                     : level == PCV_LOG_WARN ? spdlog::level::warn
                                             : spdlog::level::err;
    spdlog::log(lvl, "{}", message != nullptr ? message : "");
  } catch (...) {
  }
}

pcv_host_api make_host_api() {
  pcv_host_api api{};
  api.struct_size = sizeof api;
  api.abi_major = PCV_ABI_VERSION_MAJOR;
  api.abi_minor = PCV_ABI_VERSION_MINOR;
  api.host_ctx = nullptr;
  api.host_version = kVersion;
  api.set_error = &set_error;
  api.alloc = &alloc;
  api.free = &free_memory;
  api.log = &log;
  return api;
}

}  // namespace

const pcv_host_api* host_api() {
  static const pcv_host_api api = make_host_api();
  return &api;
}

void clear_plugin_error() { last_error.clear(); }

void check_plugin_status(pcv_status status, const std::string& what) {
  if (status == PCV_OK) return;
  std::string message = what + " failed (" + status_name(status) + ")";
  message += last_error.empty() ? ": the plugin gave no message" : ": " + last_error;
  last_error.clear();
  throw Error(message, status);
}

}  // namespace pcv::detail
