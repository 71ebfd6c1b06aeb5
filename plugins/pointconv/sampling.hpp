// Sampling and neighbour search of the pointconv plugin: farthest_point_sample, knn and ball_query,
// batched,
// with the reference's tie rules (official PyTorch code, ../shared/reference/pointconv.md §1.1-1.2).
// They return indices, so they have no backward.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>

namespace pcv::pointconv {

// xyz [B, N, 3] → indices [B, S] (int64): start at point 0, then repeatedly the point farthest
// from those chosen, the lowest index on ties.
class FarthestPointSample {
 public:
  static sdk::OpSpec spec();
  explicit FarthestPointSample(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  std::int64_t samples_;
};

// xyz [B, N, 3] and centres [B, S, 3] → indices [B, S, K] (int64) of each centre's K nearest
// points, sorted by (squared distance, index); a centre that is one of the points finds itself.
class Knn {
 public:
  static sdk::OpSpec spec();
  explicit Knn(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  std::int64_t k_;
};

// xyz [B, N, 3] and centres [B, S, 3] → indices [B, S, k] and counts [B, S] (int64): the first k
// points in index order strictly within `radius` of each centre (PointNet++'s query_ball_point),
// padded with the first one found; a centre with no point in its ball gets its nearest point.
class BallQuery {
 public:
  static sdk::OpSpec spec();
  explicit BallQuery(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  double radius_;
  std::int64_t k_;
};

}  // namespace pcv::pointconv
