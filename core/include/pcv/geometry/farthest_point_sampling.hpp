// Farthest point sampling (FPS): k well-spread indices of an N×3 cloud.
//
// Header-only and dependent on the standard library alone, so that op plugins (which cannot link
// libpcv) and the host's preprocessing pick exactly the same points.
#pragma once

#include <pcv/simd_clones.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace pcv {
namespace detail {

// Points per block of the FPS step: the block maxima let the first index of the largest value be
// found without a second full scan.
constexpr std::int64_t kFpsBlock = 256;

// One FPS step: lowers nearest[i] to the squared distance from point i to point `chosen` (columns
// x, y, z of n points each) and returns the first index of the largest value. block_max holds
// (n + kFpsBlock - 1) / kFpsBlock values of scratch.
template <class T>
PCV_SIMD_CLONES std::int64_t farthest_after(const T* columns, std::int64_t n, std::int64_t chosen, T* nearest,
                                            T* block_max) {
  const T *x = columns, *y = columns + n, *z = columns + 2 * n;
  const T cx = x[chosen], cy = y[chosen], cz = z[chosen];
  T best = T(-1);
  for (std::int64_t b0 = 0; b0 < n; b0 += kFpsBlock) {
    const std::int64_t end = std::min(n, b0 + kFpsBlock);
    T block = T(-1);
#pragma omp simd reduction(max : block)
    for (std::int64_t i = b0; i < end; ++i) {
      const T dx = x[i] - cx, dy = y[i] - cy, dz = z[i] - cz;
      const T d = dx * dx + dy * dy + dz * dz;
      const T m = nearest[i] < d ? nearest[i] : d;  // a chosen point's -1 stays
      nearest[i] = m;
      block = block > m ? block : m;
    }
    block_max[b0 / kFpsBlock] = block;
    best = best > block ? best : block;
  }
  std::int64_t i = 0;
  while (block_max[i / kFpsBlock] != best) i += kFpsBlock;
  while (nearest[i] != best) ++i;  // the lowest index wins a tie
  return i;
}

}  // namespace detail

// The standard iterative algorithm: start at start_index; keep, for every point, the squared distance
// to the nearest point chosen so far; repeatedly choose the point where that distance is largest,
// the lowest index on ties. O(n·k) time, O(n) memory.
//
// xyz is row-major n×3 (float or double). Distances are computed in that type as dx*dx + dy*dy +
// dz*dz, summed left to right, which is what GPU kernels do too; only a compiler that contracts this
// into FMAs could change the last bit and with it a near-tie.
//
// Returns k distinct indices (chosen points are never chosen again, even where the cloud has
// duplicate points), the first being start_index. Throws std::invalid_argument if k > n (callers
// decide how to up-sample), if k or n is negative, or if start_index is not in [0, n) while k > 0.
template <class T>
std::vector<std::int64_t> farthest_point_sampling(const T* xyz, std::int64_t n, std::int64_t k,
                                                  std::int64_t start_index = 0) {
  if (n < 0 || k < 0)
    throw std::invalid_argument("farthest_point_sampling: negative size (n = " + std::to_string(n) +
                                ", k = " + std::to_string(k) + ")");
  if (k > n)
    throw std::invalid_argument("farthest_point_sampling: cannot choose " + std::to_string(k) +
                                " distinct points from " + std::to_string(n));
  std::vector<std::int64_t> chosen;
  if (k == 0) return chosen;
  if (start_index < 0 || start_index >= n)
    throw std::invalid_argument("farthest_point_sampling: start_index " + std::to_string(start_index) +
                                " is not in [0, " + std::to_string(n) + ")");
  chosen.reserve(static_cast<std::size_t>(k));
  // Coordinate columns keep the per-step loop contiguous, so it vectorises.
  std::vector<T> columns(static_cast<std::size_t>(3 * n));
  for (std::int64_t i = 0; i < n; ++i)
    for (int a = 0; a < 3; ++a) columns[static_cast<std::size_t>(a * n + i)] = xyz[3 * i + a];
  // A chosen point gets distance -1: below every real distance, so it is never the maximum again.
  std::vector<T> nearest(static_cast<std::size_t>(n), std::numeric_limits<T>::infinity());
  std::vector<T> block_max(static_cast<std::size_t>((n + detail::kFpsBlock - 1) / detail::kFpsBlock));
  std::int64_t current = start_index;
  for (std::int64_t step = 0;; ++step) {
    chosen.push_back(current);
    nearest[static_cast<std::size_t>(current)] = T(-1);
    if (step + 1 == k) break;
    current = detail::farthest_after(columns.data(), n, current, nearest.data(), block_max.data());
  }
  return chosen;
}

}  // namespace pcv
