// A uniform grid over one cloud for radius searches: points bucketed by the cell of edge `cell`
// they fall in, so that every point within `cell` of a query lies in the 27 cells around it.
// Only occupied cells are stored (sorted keys), so memory is O(N) whatever the cloud's extent.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace pcv::pointconv {

template <class T>
class SpatialGrid {
 public:
  // xyz: n points, row-major [n, 3], finite. cell > 0.
  SpatialGrid(const T* xyz, std::int64_t n, double cell) {
    if (n == 0) return;
    for (int a = 0; a < 3; ++a) {
      double lo = xyz[a], hi = xyz[a];
      for (std::int64_t i = 1; i < n; ++i) {
        lo = std::min(lo, double(xyz[i * 3 + a]));
        hi = std::max(hi, double(xyz[i * 3 + a]));
      }
      origin_[a] = lo;
      // Cell coordinates must fit kBits bits: a cloud wider than that many cells gets larger
      // cells, which only means more candidates to check.
      cell = std::max(cell, (hi - lo) / double(kMaxCell - 2));
    }
    cell_ = cell;
    std::vector<std::uint64_t> point_keys(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) point_keys[std::size_t(i)] = key_of(xyz + i * 3);
    order_.resize(std::size_t(n));
    std::iota(order_.begin(), order_.end(), std::int64_t{0});
    // Stable: inside a cell the points stay in index order.
    std::stable_sort(order_.begin(), order_.end(), [&](std::int64_t a, std::int64_t b) {
      return point_keys[std::size_t(a)] < point_keys[std::size_t(b)];
    });
    for (std::size_t j = 0; j < order_.size(); ++j) {
      const std::uint64_t k = point_keys[std::size_t(order_[j])];
      if (keys_.empty() || keys_.back() != k) {
        keys_.push_back(k);
        starts_.push_back(std::int64_t(j));
      }
    }
    starts_.push_back(n);
  }

  // Calls visit(i) once for every point i in the 27 cells around q: a superset of the points
  // within `cell` of q. Cells are visited in key order, points in index order within a cell.
  template <class Visit>
  void for_each_near(const T* q, Visit&& visit) const {
    if (keys_.empty()) return;
    std::int64_t c[3];
    for (int a = 0; a < 3; ++a) c[a] = cell_coordinate(q[a], a);
    for (std::int64_t dx = -1; dx <= 1; ++dx)
      for (std::int64_t dy = -1; dy <= 1; ++dy)
        for (std::int64_t dz = -1; dz <= 1; ++dz) {
          const std::int64_t x = c[0] + dx, y = c[1] + dy, z = c[2] + dz;
          if (x < 0 || y < 0 || z < 0 || x >= kMaxCell || y >= kMaxCell || z >= kMaxCell) continue;
          const std::uint64_t k = pack(x, y, z);
          const auto it = std::lower_bound(keys_.begin(), keys_.end(), k);
          if (it == keys_.end() || *it != k) continue;
          const std::size_t cell = std::size_t(it - keys_.begin());
          for (std::int64_t j = starts_[cell]; j < starts_[cell + 1]; ++j) visit(order_[std::size_t(j)]);
        }
  }

 private:
  static constexpr int kBits = 21;
  static constexpr std::int64_t kMaxCell = std::int64_t{1} << kBits;

  // Queries outside the cloud's box clamp to one cell beyond it (-1 or past the last cell).
  std::int64_t cell_coordinate(T v, int axis) const {
    const double c = std::floor((double(v) - origin_[axis]) / cell_);
    return std::int64_t(std::clamp(c, -1.0, double(kMaxCell - 1)));
  }
  static std::uint64_t pack(std::int64_t x, std::int64_t y, std::int64_t z) {
    return (std::uint64_t(x) << (2 * kBits)) | (std::uint64_t(y) << kBits) | std::uint64_t(z);
  }
  std::uint64_t key_of(const T* p) const {
    return pack(cell_coordinate(p[0], 0), cell_coordinate(p[1], 1), cell_coordinate(p[2], 2));
  }

  double origin_[3] = {0, 0, 0};
  double cell_ = 1;
  std::vector<std::int64_t> order_;   // point indices sorted by cell
  std::vector<std::uint64_t> keys_;   // occupied cells, sorted
  std::vector<std::int64_t> starts_;  // cell j's points: order_[starts_[j] .. starts_[j+1])
};

}  // namespace pcv::pointconv

namespace pcv::pointconv {

// The first k points (lowest indices) strictly within sqrt(r2) of c, ascending, into `found`
// (cleared first): the set PointNet++'s query_ball_point keeps, which scans points in index
// order and stops at k. The grid's cell must be at least the radius.
template <class T>
void first_within(const SpatialGrid<T>& grid, const T* points, const T* c, T r2, std::int64_t k,
                  std::vector<std::int64_t>& found) {
  found.clear();
  grid.for_each_near(c, [&](std::int64_t i) {
    const T dx = points[3 * i] - c[0], dy = points[3 * i + 1] - c[1], dz = points[3 * i + 2] - c[2];
    if (dx * dx + dy * dy + dz * dz < r2) found.push_back(i);
  });
  const std::size_t kept = std::min(found.size(), std::size_t(k));
  std::partial_sort(found.begin(), found.begin() + std::ptrdiff_t(kept), found.end());
  found.resize(kept);
}

}  // namespace pcv::pointconv
