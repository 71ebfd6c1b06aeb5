#include "tensor/allocator.hpp"

#ifdef PCV_HAVE_CUDA
#include "tensor/cuda_memory.hpp"
#endif

#include <pcv/memory.hpp>

#include <sys/mman.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>

namespace pcv::detail {
namespace {

std::atomic<std::uint64_t> live_bytes{0}, peak_bytes{0}, allocation_count{0};

// Each block starts with a header, `alignment` bytes long, that records what free must know.
struct Header {
  std::uint64_t bytes;
  std::uint64_t alignment;
};
static_assert(sizeof(Header) <= kDefaultAlignment);

void note_allocated(std::uint64_t bytes) {
  allocation_count.fetch_add(1, std::memory_order_relaxed);
  const std::uint64_t now = live_bytes.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  std::uint64_t peak = peak_bytes.load(std::memory_order_relaxed);
  while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

// Large blocks ask for transparent huge pages (where the kernel leaves that to madvise, as
// Debian's does): filling a fresh 32 MB output otherwise takes 8,192 page faults, which cost more
// than a memory-bound op's own work (measured: interpolate ×2 on 8×64×64×64 went from 60 to 10
// ms per call with a new output each time).
constexpr std::uint64_t kHugePageThreshold = std::uint64_t{4} << 20;

void advise_huge_pages(char* block, std::uint64_t bytes) {
#ifdef MADV_HUGEPAGE
  constexpr std::uintptr_t kPage = 4096;
  const auto start = (reinterpret_cast<std::uintptr_t>(block) + kPage - 1) & ~(kPage - 1);
  const auto end = reinterpret_cast<std::uintptr_t>(block) + bytes;
  if (end > start)
    madvise(reinterpret_cast<void*>(start), end - start, MADV_HUGEPAGE);  // a hint: errors are harmless
#else
  (void)block;
  (void)bytes;
#endif
}

}  // namespace

void* allocate(pcv_device device, std::uint64_t bytes, std::uint64_t alignment) {
  if (device.device_type == PCV_DEVICE_CUDA) {
#ifdef PCV_HAVE_CUDA
    void* p = cuda_allocate(device.device_id, bytes);
    if (p != nullptr) note_allocated(bytes);
    return p;
#else
    return nullptr;  // this libpcv was built without CUDA
#endif
  }
  if (device.device_type != PCV_DEVICE_CPU) return nullptr;
  if (alignment == 0) alignment = kDefaultAlignment;
  if ((alignment & (alignment - 1)) != 0) return nullptr;
  if (alignment < sizeof(Header)) alignment = sizeof(Header);
  if (bytes > (std::uint64_t{1} << 52)) return nullptr;  // surely a corrupt size, not a request
  // aligned_alloc wants a multiple of the alignment; the header takes one alignment unit.
  const std::uint64_t rounded = (bytes + alignment - 1) / alignment * alignment + alignment;
  auto* block = static_cast<char*>(std::aligned_alloc(alignment, rounded));
  if (block == nullptr) return nullptr;
  if (rounded >= kHugePageThreshold) advise_huge_pages(block, rounded);
  char* user = block + alignment;
  auto* header = reinterpret_cast<Header*>(user - sizeof(Header));
  header->bytes = bytes;
  header->alignment = alignment;
  note_allocated(bytes);
  return user;
}

void deallocate(pcv_device device, void* ptr) noexcept {
  if (ptr == nullptr) return;
#ifdef PCV_HAVE_CUDA
  if (device.device_type == PCV_DEVICE_CUDA) {
    live_bytes.fetch_sub(cuda_free(ptr), std::memory_order_relaxed);
    return;
  }
#else
  (void)device;
#endif
  auto* user = static_cast<char*>(ptr);
  const Header header = *reinterpret_cast<Header*>(user - sizeof(Header));
  live_bytes.fetch_sub(header.bytes, std::memory_order_relaxed);
  std::free(user - header.alignment);
}

std::string allocation_failure(pcv_device device) {
  if (device.device_type == PCV_DEVICE_CUDA) {
#ifdef PCV_HAVE_CUDA
    return last_cuda_error();
#else
    return "this libpcv was built without CUDA (configure with nvcc available and PCV_WITH_CUDA=ON)";
#endif
  }
  if (device.device_type != PCV_DEVICE_CPU) return "pcv has no allocator for this device type";
  return "out of memory";
}

}  // namespace pcv::detail

namespace pcv {

MemoryStats memory_stats() {
  return {detail::live_bytes.load(), detail::peak_bytes.load(), detail::allocation_count.load()};
}

void reset_peak_memory() { detail::peak_bytes.store(detail::live_bytes.load()); }

}  // namespace pcv
