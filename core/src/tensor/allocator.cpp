#include "tensor/allocator.hpp"

#include <cstdlib>

namespace pcv::detail {

void* allocate(pcv_device device, std::uint64_t bytes, std::uint64_t alignment) {
  if (device.device_type != PCV_DEVICE_CPU) return nullptr;  // CUDA arena: a later issue
  if (alignment == 0) alignment = kDefaultAlignment;
  if ((alignment & (alignment - 1)) != 0) return nullptr;
  if (alignment < sizeof(void*)) alignment = sizeof(void*);
  // aligned_alloc wants a multiple of the alignment, and a zero-byte tensor still gets a pointer.
  std::uint64_t rounded = (bytes + alignment - 1) / alignment * alignment;
  if (rounded == 0) rounded = alignment;
  return std::aligned_alloc(alignment, rounded);
}

void deallocate(pcv_device /*device*/, void* ptr) noexcept { std::free(ptr); }

}  // namespace pcv::detail
