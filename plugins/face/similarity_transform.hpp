// The least-squares 2-D similarity (rotation, uniform scale, translation; never a reflection) taking
// source points onto destination points: Umeyama (1991) without reflection, in its closed 2-D form,
// which equals scikit-image's SimilarityTransform.estimate (insightface's alignment) except where
// every source point coincides (no fit exists: `ok` is false).
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <span>

namespace pcv::face {

struct Point {
  double x = 0, y = 0;
};

struct Similarity {
  // Row-major 2x3 [[a, -b, tx], [b, a, ty]]: destination = M · (x, y, 1).
  std::array<double, 6> m{};
  double scale = 0;         // sqrt(a² + b²)
  double rms_residual = 0;  // RMS distance of the mapped sources from their destinations
  bool ok = false;
};

inline Point apply(const Similarity& s, Point p) {
  return {s.m[0] * p.x + s.m[1] * p.y + s.m[2], s.m[3] * p.x + s.m[4] * p.y + s.m[5]};
}

// With centred sources s_i and destinations d_i: a = Σ s·d / Σ|s|², b = Σ (s_x d_y − s_y d_x) / Σ|s|²,
// t = mean(d) − [[a, −b], [b, a]] mean(s). `src` and `dst` have the same size.
inline Similarity fit_similarity(std::span<const Point> src, std::span<const Point> dst) {
  Similarity s;
  const std::size_t n = src.size();
  if (n == 0 || dst.size() != n) return s;
  Point ms, md;
  for (std::size_t i = 0; i < n; ++i) {
    ms.x += src[i].x, ms.y += src[i].y;
    md.x += dst[i].x, md.y += dst[i].y;
  }
  ms.x /= double(n), ms.y /= double(n), md.x /= double(n), md.y /= double(n);
  double norm = 0, dot = 0, cross = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double sx = src[i].x - ms.x, sy = src[i].y - ms.y, dx = dst[i].x - md.x, dy = dst[i].y - md.y;
    norm += sx * sx + sy * sy;
    dot += sx * dx + sy * dy;
    cross += sx * dy - sy * dx;
  }
  if (!(norm > 0)) return s;  // every source point coincides (or one is NaN)
  const double a = dot / norm, b = cross / norm;
  s.m = {a, -b, md.x - (a * ms.x - b * ms.y), b, a, md.y - (b * ms.x + a * ms.y)};
  s.scale = std::hypot(a, b);
  double sq = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Point p = apply(s, src[i]);
    sq += (p.x - dst[i].x) * (p.x - dst[i].x) + (p.y - dst[i].y) * (p.y - dst[i].y);
  }
  s.rms_residual = std::sqrt(sq / double(n));
  s.ok = std::isfinite(s.rms_residual);
  return s;
}

}  // namespace pcv::face
