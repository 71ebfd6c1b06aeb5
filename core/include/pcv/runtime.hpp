// The graph runtime: checks a graph against the loaded plugins, infers shapes, plans memory,
// runs forward, and in training mode runs the ops' backward in reverse to get gradients.
#pragma once

#include <pcv/graph.hpp>
#include <pcv/kernel.hpp>
#include <pcv/registry.hpp>
#include <pcv/tensor.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pcv {

using TensorMap = std::map<std::string, Tensor, std::less<>>;

class GraphRuntime {
 public:
  // Creates a kernel per node. Refuses, naming `where` and the node: an op no loaded plugin
  // provides, a wrong number of inputs or outputs, bad attributes, a stored tensor that is
  // missing or has the wrong dtype. `stored` holds parameters and state; training changes them
  // in place, so pass clones of memory-mapped weights when training.
  GraphRuntime(const Registry& registry, Graph graph, TensorMap stored, std::string where = "graph");
  ~GraphRuntime();
  GraphRuntime(const GraphRuntime&) = delete;
  GraphRuntime& operator=(const GraphRuntime&) = delete;

  const Graph& graph() const { return graph_; }

  // Output dtypes and shapes for inputs of these shapes, without computing anything.
  TensorMap infer_shapes(const TensorMap& inputs) const;

  // Inference: eval mode, intermediate buffers planned and reused (the plan is kept per input
  // shape). Returns the graph outputs. Calls on one runtime take turns.
  TensorMap run(const TensorMap& inputs, const RunOptions& options = {});

  // Training forward: keeps every tensor backward needs until backward() or the next call.
  // options.training is set; options.seed makes dropout reproducible.
  TensorMap forward_for_training(const TensorMap& inputs, RunOptions options);

  // Backward from the gradients of some outputs (for a scalar loss: a tensor holding 1).
  // Adds the parameters' gradients into gradients(); frees the recorded forward.
  void backward(const TensorMap& output_gradients);

  // Trainable tensors: stored ones that are floating point, not state inputs, not frozen.
  const std::vector<std::string>& parameter_names() const { return parameters_; }
  TensorMap& stored() { return stored_; }
  const TensorMap& stored() const { return stored_; }
  // Accumulated gradients of the parameters (present after the first backward).
  TensorMap& gradients() { return gradients_; }
  void zero_gradients();

  // Peak bytes of the planned intermediate buffers of the last run() (inputs, weights and
  // returned outputs not included).
  std::uint64_t planned_bytes() const;
  // Wall-clock seconds of each node (graph().nodes order) in the last run().
  const std::vector<double>& node_seconds() const { return node_seconds_; }

 private:
  struct Node;
  struct Plan;
  struct Tape;
  const Plan& plan_for(const TensorMap& inputs);
  std::vector<Tensor> gather_inputs(const Node& node, const TensorMap& values) const;
  void check_inputs(const TensorMap& inputs) const;

  Graph graph_;
  std::string where_;
  TensorMap stored_;
  std::vector<Node> nodes_;
  std::vector<std::string> parameters_;
  TensorMap gradients_;
  std::map<std::string, std::unique_ptr<Plan>> plans_;  // by input-shape signature
  std::unique_ptr<Tape> tape_;
  const Plan* last_plan_ = nullptr;
  std::vector<double> node_seconds_;
  std::mutex mutex_;
};

}  // namespace pcv
