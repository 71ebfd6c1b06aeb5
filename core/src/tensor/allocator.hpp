// The host's tensor memory: the one allocator behind pcv::Tensor and pcv_host_api::alloc.
#pragma once

#include <pcv/plugin.h>

#include <cstdint>
#include <string>

namespace pcv::detail {

inline constexpr std::uint64_t kDefaultAlignment = 64;

// Returns nullptr when the memory cannot be had or the device is not supported.
void* allocate(pcv_device device, std::uint64_t bytes, std::uint64_t alignment);
void deallocate(pcv_device device, void* ptr) noexcept;
// Why the last allocate() on this thread for `device` returned nullptr.
std::string allocation_failure(pcv_device device);

}  // namespace pcv::detail
