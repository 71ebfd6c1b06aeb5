// Device memory for CUDA tensors, present when libpcv is built with CUDA (PCV_HAVE_CUDA).
#pragma once

#include <cstdint>
#include <string>

namespace pcv::detail {

// nullptr when the device or the memory is not available; last_cuda_error() then says why.
void* cuda_allocate(std::int32_t device_id, std::uint64_t bytes);
// Returns the bytes that were allocated at ptr (for the accounting).
std::uint64_t cuda_free(void* ptr) noexcept;
std::string last_cuda_error();

}  // namespace pcv::detail
