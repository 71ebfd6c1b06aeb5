// Sub-pixel rearrangements of the upsample plugin: pixel_shuffle / pixel_unshuffle (2 spatial
// dims, F.pixel_shuffle / F.pixel_unshuffle) and their 3-D analogues voxel_shuffle /
// voxel_unshuffle, forward and backward. Each is a permutation of elements; the backward of a
// shuffle is the matching unshuffle.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>

namespace pcv::upsample {

// S spatial dims; Unshuffle false: (*, C·r^S, D, H, W) → (*, C, D·r, H·r, W·r), with
// out[…, c, d·r+a, h·r+i, w·r+j] = in[…, c·r^S + (a·r + i)·r + j, d, h, w] (for S = 2 drop d, a).
// Unshuffle true is the inverse.
template <int S, bool Unshuffle>
class SubpixelShuffle {
 public:
  static sdk::OpSpec spec();
  explicit SubpixelShuffle(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  sdk::Shape output_shape(std::span<const std::int64_t> x) const;

  std::int64_t factor_;
};

using PixelShuffle = SubpixelShuffle<2, false>;
using PixelUnshuffle = SubpixelShuffle<2, true>;
using VoxelShuffle = SubpixelShuffle<3, false>;
using VoxelUnshuffle = SubpixelShuffle<3, true>;

}  // namespace pcv::upsample
