#include "tensor/cuda_memory.hpp"

#include <cuda_runtime_api.h>

#include <mutex>
#include <unordered_map>

namespace pcv::detail {
namespace {

// Device memory has no room for a size header, so sizes are kept here.
std::mutex sizes_mutex;
std::unordered_map<void*, std::uint64_t>& sizes() {
  static std::unordered_map<void*, std::uint64_t> m;
  return m;
}
thread_local std::string last_error;

}  // namespace

void* cuda_allocate(std::int32_t device_id, std::uint64_t bytes) {
  int previous = 0;
  cudaError_t status = cudaGetDevice(&previous);
  if (status == cudaSuccess) status = cudaSetDevice(device_id);
  void* ptr = nullptr;
  if (status == cudaSuccess) status = cudaMalloc(&ptr, bytes == 0 ? 1 : bytes);
  if (status != cudaSuccess) {
    last_error = "CUDA device " + std::to_string(device_id) + ": " + cudaGetErrorString(status);
    cudaGetLastError();  // clear the sticky error for the next call
    return nullptr;
  }
  cudaSetDevice(previous);
  std::lock_guard lock(sizes_mutex);
  sizes()[ptr] = bytes;
  return ptr;
}

std::uint64_t cuda_free(void* ptr) noexcept {
  std::uint64_t bytes = 0;
  {
    std::lock_guard lock(sizes_mutex);
    auto it = sizes().find(ptr);
    if (it == sizes().end()) return 0;
    bytes = it->second;
    sizes().erase(it);
  }
  cudaFree(ptr);
  return bytes;
}

std::string last_cuda_error() { return last_error; }

}  // namespace pcv::detail
