// The whole PointConv neighbourhood computation in one inference op: grouping, the feature MLP,
// WeightNet, DensityNet and the efficient product, a tile of centres at a time, so that the
// [B, S, K, C] tensors of the layer-by-layer graph never exist. Batch norms must already be
// folded into the layers (libpcv's fold_batch_norm); libpcv's fuse_pointconv pass rewrites a
// folded layer-by-layer graph into this op. No backward: training runs the layer-by-layer graph.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <vector>

namespace pcv::pointconv {

class FusedPointConv {
 public:
  static sdk::OpSpec spec();
  explicit FusedPointConv(const sdk::Attributes& attrs);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;

 private:
  std::vector<std::int64_t> mlp_, weightnet_, densitynet_;
  std::int64_t linear_;
  bool density_sigmoid_;
};

}  // namespace pcv::pointconv
