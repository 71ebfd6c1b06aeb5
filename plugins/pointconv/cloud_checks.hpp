// What the pointconv ops share about clouds: checks of shapes, finite coordinates and neighbour
// indices (every message names the op and the input, and for bad values the cloud and the point),
// and the coordinate-column layout their vectorised loops read.
#pragma once

#include <pcv/sdk.hpp>

#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace pcv::pointconv {

// Input i's shape from any context: shape inference, forward or backward.
inline std::span<const std::int64_t> shape_at(const sdk::ShapeContext& ctx, std::size_t i) {
  return ctx.input_shape(i);
}
template <class Ctx>
std::span<const std::int64_t> shape_at(const Ctx& ctx, std::size_t i) {
  return sdk::shape_of(ctx.raw_input(i));
}

// A [B, n, 3] cloud tensor's n, or an error naming the input.
inline std::int64_t points_of(std::span<const std::int64_t> shape, const char* op, const char* name) {
  if (shape.size() != 3 || shape[2] != 3)
    sdk::fail(PCV_ERR_SHAPE, op, ": input '", name, "' is ", sdk::shape_string(shape),
              ", expected [B, N, 3]");
  return shape[1];
}

// Inputs a and b must hold the same number of clouds (their dim 0).
inline void require_same_clouds(std::span<const std::int64_t> a, const char* a_name,
                                std::span<const std::int64_t> b, const char* b_name, const char* op) {
  if (a[0] != b[0])
    sdk::fail(PCV_ERR_SHAPE, op, ": input '", a_name, "' ", sdk::shape_string(a), " has ", a[0],
              " clouds but input '", b_name, "' ", sdk::shape_string(b), " has ", b[0]);
}

// Refuses NaN or infinite coordinates, naming the cloud and the point: distances to them would
// silently decide every comparison.
template <class T>
void require_finite(const T* xyz, std::int64_t clouds, std::int64_t n, const char* op, const char* name) {
  for (std::int64_t b = 0; b < clouds; ++b)
    for (std::int64_t i = 0; i < n; ++i)
      for (int c = 0; c < 3; ++c)
        if (!std::isfinite(xyz[(b * n + i) * 3 + c]))
          sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": input '", name,
                    "' has a non-finite coordinate at cloud ", b, ", point ", i);
}

// Every entry of idx, [B, rest...] with `per_cloud` entries per cloud, must index a point in [0, n).
inline void require_indices(const std::int64_t* idx, std::int64_t clouds, std::int64_t per_cloud,
                            std::int64_t n, const char* op, const char* name) {
  for (std::int64_t b = 0; b < clouds; ++b)
    for (std::int64_t j = 0; j < per_cloud; ++j) {
      const std::int64_t i = idx[b * per_cloud + j];
      if (i < 0 || i >= n)
        sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": input '", name, "' holds index ", i, " at cloud ", b,
                  ", entry ", j, ", outside the cloud's ", n, " points");
    }
}

// Clouds [clouds, n, 3] as coordinate columns: cloud b's x, y and z at b·3n, b·3n + n and
// b·3n + 2n, so that loops over a cloud's points read contiguous arrays (and vectorise).
template <class T>
std::vector<T> coordinate_columns(const T* xyz, std::int64_t clouds, std::int64_t n) {
  std::vector<T> columns(static_cast<std::size_t>(3 * clouds * n));
  for (std::int64_t p = 0; p < clouds * n; ++p)
    for (int a = 0; a < 3; ++a)
      columns[static_cast<std::size_t>(((p / n) * 3 + a) * n + p % n)] = xyz[p * 3 + a];
  return columns;
}

}  // namespace pcv::pointconv
