// Grouping of the pointconv plugin: gathering points by index, building each centre's
// neighbourhood (relative coordinates, then features), and the centroid used by group_all.
// Coordinates and indices are data: only features are differentiated.
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::pointconv {

// x [B, N, C] and indices [B, *] → [B, *, C]: the official code's index_points.
class GatherPoints {
 public:
  static sdk::OpSpec spec();
  explicit GatherPoints(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

// xyz [B, N, 3], centres [B, S, 3], indices [B, S, K] (absent: all N points), features [B, N, D]
// (optional) → rel [B, S, K, 3] = xyz[idx] - centre and grouped [B, S, K, 3 + D] = [rel, features[idx]].
class Group {
 public:
  static sdk::OpSpec spec();
  explicit Group(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

// xyz [B, N, 3] → [B, 1, 3], the mean point of each cloud (the official group_all centre).
class Centroid {
 public:
  static sdk::OpSpec spec();
  explicit Centroid(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
};

}  // namespace pcv::pointconv
