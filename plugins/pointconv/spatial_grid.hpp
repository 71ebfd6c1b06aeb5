// A uniform grid over one cloud for neighbour searches: points bucketed by the cubic cell of edge
// `cell` they fall in. Radius searches (cell ≥ radius) look at the 27 cells around a query; k-nearest
// searches grow shells of cells until no unvisited cell can hold a closer point. Cells are a dense
// table when the cloud's box has few enough of them, else a sorted list of the occupied ones, so
// memory is O(N) whatever the cloud's extent.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <utility>
#include <vector>

namespace pcv::pointconv {

template <class T>
class SpatialGrid {
 public:
  // xyz: n points, row-major [n, 3], finite. cell > 0.
  SpatialGrid(const T* xyz, std::int64_t n, double cell) {
    if (n == 0) return;
    double lo[3], hi[3];
    for (int a = 0; a < 3; ++a) {
      lo[a] = hi[a] = xyz[a];
      for (std::int64_t i = 1; i < n; ++i) {
        lo[a] = std::min(lo[a], double(xyz[i * 3 + a]));
        hi[a] = std::max(hi[a], double(xyz[i * 3 + a]));
      }
      origin_[a] = lo[a];
      // Cell coordinates must fit kBits bits: a cloud wider than that many cells gets larger
      // cells, which only means more candidates to check.
      cell = std::max(cell, (hi[a] - lo[a]) / double(kMaxCell - 2));
    }
    cell_ = cell;
    double cells = 1;
    for (int a = 0; a < 3; ++a) {
      extent_[a] = std::int64_t(std::floor((hi[a] - lo[a]) / cell_)) + 1;
      cells *= double(extent_[a]);
    }
    dense_ = cells <= double(4 * n + 64);
    std::vector<std::uint64_t> point_keys(static_cast<std::size_t>(n));
    for (std::int64_t i = 0; i < n; ++i) {
      std::int64_t c[3];
      for (int a = 0; a < 3; ++a) c[a] = cell_coordinate(xyz[i * 3 + a], a);
      point_keys[std::size_t(i)] = key(c[0], c[1], c[2]);
    }
    order_.resize(std::size_t(n));
    std::iota(order_.begin(), order_.end(), std::int64_t{0});
    // Stable: inside a cell the points stay in index order.
    std::stable_sort(order_.begin(), order_.end(), [&](std::int64_t a, std::int64_t b) {
      return point_keys[std::size_t(a)] < point_keys[std::size_t(b)];
    });
    if (dense_) {
      starts_.assign(std::size_t(cells) + 1, 0);
      for (std::uint64_t k : point_keys) ++starts_[std::size_t(k) + 1];
      std::partial_sum(starts_.begin(), starts_.end(), starts_.begin());
      return;
    }
    for (std::size_t j = 0; j < order_.size(); ++j) {
      const std::uint64_t k = point_keys[std::size_t(order_[j])];
      if (keys_.empty() || keys_.back() != k) {
        keys_.push_back(k);
        starts_.push_back(std::int64_t(j));
      }
    }
    starts_.push_back(n);
  }

  bool empty() const { return order_.empty(); }
  double cell() const { return cell_; }
  std::int64_t extent(int axis) const { return extent_[axis]; }
  // q's position in cell units from the grid's origin (not clamped).
  double local(const T* q, int axis) const { return (double(q[axis]) - origin_[axis]) / cell_; }
  // Cell coordinate along an axis, clamped to one cell beyond the grid (-1 or extent).
  std::int64_t cell_coordinate(T v, int axis) const {
    const double c = std::floor((double(v) - origin_[axis]) / cell_);
    return std::int64_t(std::clamp(c, -1.0, double(extent_[axis])));
  }

  // Calls visit(i) for each point of cell (x, y, z), in index order; nothing outside the grid.
  template <class Visit>
  void for_each_in_cell(std::int64_t x, std::int64_t y, std::int64_t z, Visit&& visit) const {
    if (x < 0 || y < 0 || z < 0 || x >= extent_[0] || y >= extent_[1] || z >= extent_[2]) return;
    const std::uint64_t k = key(x, y, z);
    std::int64_t begin, end;
    if (dense_) {
      begin = starts_[std::size_t(k)], end = starts_[std::size_t(k) + 1];
    } else {
      const auto it = std::lower_bound(keys_.begin(), keys_.end(), k);
      if (it == keys_.end() || *it != k) return;
      const std::size_t j = std::size_t(it - keys_.begin());
      begin = starts_[j], end = starts_[j + 1];
    }
    for (std::int64_t j = begin; j < end; ++j) visit(order_[std::size_t(j)]);
  }

  // Calls visit(i) once for every point i in the 27 cells around q: a superset of the points
  // within `cell` of q.
  template <class Visit>
  void for_each_near(const T* q, Visit&& visit) const {
    if (empty()) return;
    const std::int64_t x = cell_coordinate(q[0], 0), y = cell_coordinate(q[1], 1),
                       z = cell_coordinate(q[2], 2);
    for (std::int64_t dx = -1; dx <= 1; ++dx)
      for (std::int64_t dy = -1; dy <= 1; ++dy)
        for (std::int64_t dz = -1; dz <= 1; ++dz) for_each_in_cell(x + dx, y + dy, z + dz, visit);
  }

 private:
  static constexpr int kBits = 21;
  static constexpr std::int64_t kMaxCell = std::int64_t{1} << kBits;

  std::uint64_t key(std::int64_t x, std::int64_t y, std::int64_t z) const {
    if (dense_) return std::uint64_t((x * extent_[1] + y) * extent_[2] + z);
    return (std::uint64_t(x) << (2 * kBits)) | (std::uint64_t(y) << kBits) | std::uint64_t(z);
  }

  double origin_[3] = {0, 0, 0};
  double cell_ = 1;
  std::int64_t extent_[3] = {0, 0, 0};  // cells along each axis
  bool dense_ = false;
  std::vector<std::int64_t> order_;   // point indices sorted by cell
  std::vector<std::uint64_t> keys_;   // sparse grids: the occupied cells, sorted
  std::vector<std::int64_t> starts_;  // cell j's points: order_[starts_[j] .. starts_[j+1])
};

// A cell edge that puts about `per_cell` points in each cell of the cloud's bounding box (a flat
// or straight cloud counts its thin dims as a thousandth of its widest).
template <class T>
double cell_for_density(const T* xyz, std::int64_t n, double per_cell) {
  double extent[3], widest = 0;
  for (int a = 0; a < 3; ++a) {
    double lo = xyz[a], hi = xyz[a];
    for (std::int64_t i = 1; i < n; ++i) {
      lo = std::min(lo, double(xyz[i * 3 + a]));
      hi = std::max(hi, double(xyz[i * 3 + a]));
    }
    extent[a] = hi - lo;
    widest = std::max(widest, extent[a]);
  }
  if (widest == 0) return 1;  // every point at one place
  double volume = 1;
  for (double e : extent) volume *= std::max(e, widest * 1e-3);
  return std::cbrt(volume * per_cell / double(std::max<std::int64_t>(n, 1)));
}

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

// The k nearest points of q by (squared distance, index) into `best`, ascending; k ≤ the cloud's
// size. Visits shells of cells at Chebyshev distance r = 0, 1, 2, ... from q's cell and stops once
// the k-th best squared distance lies below that of q to the searched block's boundary (with a
// margin for float rounding), or once the block covers the grid.
template <class T>
void k_nearest(const SpatialGrid<T>& grid, const T* points, const T* q, std::int64_t k,
               std::vector<std::pair<T, std::int64_t>>& best) {
  best.clear();
  const auto offer = [&](std::int64_t i) {
    const T dx = points[3 * i] - q[0], dy = points[3 * i + 1] - q[1], dz = points[3 * i + 2] - q[2];
    const std::pair<T, std::int64_t> candidate{dx * dx + dy * dy + dz * dz, i};
    if (std::int64_t(best.size()) < k) {
      best.push_back(candidate);
      std::push_heap(best.begin(), best.end());
    } else if (candidate < best.front()) {
      std::pop_heap(best.begin(), best.end());
      best.back() = candidate;
      std::push_heap(best.begin(), best.end());
    }
  };
  std::int64_t c[3];
  double margin = std::numeric_limits<double>::infinity();  // q's distance to its cell's faces, in cells
  for (int a = 0; a < 3; ++a) {
    c[a] = grid.cell_coordinate(q[a], a);
    const double u = grid.local(q, a) - double(c[a]);
    margin = std::min(margin, std::min(u, 1 - u));
  }
  std::int64_t reach = 0;  // shells needed to cover the whole grid
  for (int a = 0; a < 3; ++a) reach = std::max({reach, c[a], grid.extent(a) - 1 - c[a]});
  for (std::int64_t r = 0; r <= reach; ++r) {
    for (std::int64_t dx = -r; dx <= r; ++dx)
      for (std::int64_t dy = -r; dy <= r; ++dy) {
        const bool face = dx == -r || dx == r || dy == -r || dy == r;
        for (std::int64_t dz = -r; dz <= r; dz += face ? 1 : std::max<std::int64_t>(2 * r, 1))
          grid.for_each_in_cell(c[0] + dx, c[1] + dy, c[2] + dz, offer);
      }
    if (std::int64_t(best.size()) < k) continue;
    const double bound =
        (double(r) + std::max(margin, 0.0)) * grid.cell();  // every unvisited point is farther
    if (double(best.front().first) < bound * bound * (1 - 1e-5)) break;
  }
  std::sort_heap(best.begin(), best.end());
}

}  // namespace pcv::pointconv
