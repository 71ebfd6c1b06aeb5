// Rewrites of a graph for inference.
#pragma once

#include <pcv/graph.hpp>
#include <pcv/registry.hpp>
#include <pcv/runtime.hpp>

namespace pcv {

// Folds each eval-mode nn.batch_norm into the nn.conv1d/2d/3d or nn.linear it directly follows
// (when nothing else reads that layer's output) if it normalises the layer's output channels:
// dim 1 of a conv's output (batch_norm's default dim), the last dim of a linear's output (dim -1,
// or dim 1 for a 2-d [N, out]). A channels-last batch_norm (dim -1) after a conv normalises a
// spatial dim and stays. The folded weight and bias:
//   s = gamma / sqrt(running_var + eps),  W' = s·W (per output channel),  b' = s·(b − mean) + beta.
// The folded tensors are added to `stored` as "<node>.folded_weight" / "<node>.folded_bias".
// With in_place, a weight no other node reads is scaled in its own memory instead (whoever else
// holds that tensor sees the change): inference then holds one copy of the weights, not two.
// Returns the rewritten graph and how many batch norms were folded. Only for inference: the
// folded graph has no batch norm left to train.
std::pair<Graph, int> fold_batch_norm(const Registry& registry, const Graph& graph, TensorMap& stored,
                                      bool in_place = false);

// Replaces each PointConv neighbourhood of the layer-by-layer graph (tools/models/pointconv_graphs.py)
// with one pointconv.pointconv node: pointconv.group whose outputs feed only the feature MLP and
// WeightNet, chains of nn.linear (stored weight and bias, batch norms already folded) each followed
// by nn.relu (the last DensityNet layer: relu or sigmoid), an optional pointconv.density_scale →
// DensityNet chain, and the pointconv.aggregate they end in. Every intermediate must be read by
// the next node only. Leaves the graph as it is when the pointconv plugin is not loaded. Returns
// the rewritten graph and the number of fused neighbourhoods. Inference only.
std::pair<Graph, int> fuse_pointconv(const Registry& registry, const Graph& graph, const TensorMap& stored);

// What inference runs: fold_batch_norm (in place), then fuse_pointconv; stored tensors the
// result no longer reads are dropped.
Graph prepare_for_inference(const Registry& registry, const Graph& graph, TensorMap& stored);

}  // namespace pcv
