// PCV_SIMD_CLONES: compile a hot loop for three x86-64 levels and pick the best for the CPU when
// the plugin loads (GCC function multiversioning, an ifunc). pcv builds for baseline x86-64 (SSE2),
// where `omp simd` loops run at a quarter of their AVX-512 width. Each clone is deterministic;
// which one runs depends on the CPU only.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define PCV_SIMD_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define PCV_SIMD_CLONES
#endif
