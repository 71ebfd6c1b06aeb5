// Rewrites of a graph for inference.
#pragma once

#include <pcv/graph.hpp>
#include <pcv/registry.hpp>
#include <pcv/runtime.hpp>

namespace pcv {

// Folds each eval-mode nn.batch_norm that directly follows an nn.conv1d/2d/3d or nn.linear (whose
// output nothing else reads) into that node's weight and bias:
//   s = gamma / sqrt(running_var + eps),  W' = s·W (per output channel),  b' = s·(b − mean) + beta.
// The folded tensors are added to `stored` as "<node>.folded_weight" / "<node>.folded_bias".
// Returns the rewritten graph and how many batch norms were folded. Only for inference: the
// folded graph has no batch norm left to train.
std::pair<Graph, int> fold_batch_norm(const Registry& registry, const Graph& graph, TensorMap& stored);

}  // namespace pcv
