// Memory planning for inference: intermediate tensors share buffers once their last reader ran.
#pragma once

#include <pcv/tensor.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace pcv::detail {

// A node as the planner sees it: what it reads, what it writes, and the output shapes.
struct PlannedNode {
  std::vector<std::string> inputs, outputs;
  std::vector<Tensor> output_shapes;  // placeholders; a -1 dimension: allocated by the op
};

class MemoryPlan {
 public:
  MemoryPlan() = default;
  // Assigns each intermediate output a slot of one arena. A slot is reused by a later output
  // once every reader of the tensor in it has run. Graph outputs, and outputs whose size is
  // known only after computing, get memory of their own at run time.
  MemoryPlan(const std::vector<PlannedNode>& nodes, const std::vector<std::string>& graph_outputs);

  // Node k's output tensors for one run: views into the arena, new tensors for graph outputs,
  // and absent tensors where the op allocates.
  std::vector<Tensor> outputs(std::size_t k, const std::vector<Tensor>& shapes) const;
  // Tensors no node reads after node k.
  const std::vector<std::string>& released_after(std::size_t k) const { return released_[k]; }

  std::uint64_t arena_bytes() const { return arena_bytes_; }
  std::size_t slot_count() const { return slot_offsets_.size(); }

 private:
  std::vector<std::vector<int>> slot_of_;  // per node, per output: slot index or -1
  std::vector<std::vector<std::string>> released_;
  std::vector<std::uint64_t> slot_offsets_;
  std::uint64_t arena_bytes_ = 0;
  Tensor arena_;
};

}  // namespace pcv::detail
