// Accounting of the host's tensor memory (every pcv::Tensor and every host->alloc).
#pragma once

#include <cstdint>

namespace pcv {

struct MemoryStats {
  std::uint64_t current_bytes = 0;  // live now
  std::uint64_t peak_bytes = 0;     // most live at once since start or the last reset_peak_memory()
  std::uint64_t allocations = 0;    // calls so far
};

MemoryStats memory_stats();
// Starts a new peak measurement from the current live bytes.
void reset_peak_memory();

}  // namespace pcv
