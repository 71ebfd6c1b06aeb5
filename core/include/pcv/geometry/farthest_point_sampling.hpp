// Farthest point sampling (FPS): k well-spread indices of an N×3 cloud.
//
// Header-only and dependent on the standard library alone, so that op plugins (which cannot link
// libpcv) and the host's preprocessing pick exactly the same points.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

namespace pcv {

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
  // A chosen point gets distance -1: below every real distance, so it is never the maximum again.
  std::vector<T> nearest(static_cast<std::size_t>(n), std::numeric_limits<T>::infinity());
  std::int64_t current = start_index;
  for (std::int64_t step = 0;; ++step) {
    chosen.push_back(current);
    nearest[static_cast<std::size_t>(current)] = T(-1);
    if (step + 1 == k) break;
    const T cx = xyz[3 * current], cy = xyz[3 * current + 1], cz = xyz[3 * current + 2];
    std::int64_t best = -1;
    T best_distance = T(-1);
    for (std::int64_t i = 0; i < n; ++i) {
      const T dx = xyz[3 * i] - cx, dy = xyz[3 * i + 1] - cy, dz = xyz[3 * i + 2] - cz;
      const T d = dx * dx + dy * dy + dz * dz;
      T& m = nearest[static_cast<std::size_t>(i)];
      if (d < m) m = d;
      if (m > best_distance) {  // strict: the lowest index wins a tie
        best_distance = m;
        best = i;
      }
    }
    current = best;
  }
  return chosen;
}

}  // namespace pcv
