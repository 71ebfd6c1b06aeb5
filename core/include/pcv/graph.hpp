// A model's computation graph: named tensors flowing through op nodes. Pure data; the runtime
// (pcv/runtime.hpp) checks it against the loaded plugins and runs it.
#pragma once

#include <pcv/attr.hpp>
#include <pcv/tensor.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace pcv {

// A tensor the caller provides at run time. A dimension of -1 takes any size (the batch, say).
struct GraphInput {
  std::string name;
  pcv_dtype dtype = kFloat32;
  Shape shape;
};

// One op application. inputs/outputs name tensors; an empty input name leaves an optional
// input out. Every tensor name is produced once: by a graph input, a stored tensor (a
// parameter or state in the model file) or one node output.
struct GraphNode {
  std::string name;
  std::string op;  // "<plugin>.<op>", e.g. "nn.conv2d"
  AttrMap attrs;
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
};

struct Graph {
  std::vector<GraphInput> inputs;
  std::vector<std::string> outputs;
  std::vector<GraphNode> nodes;
  // Stored tensors the optimiser must leave alone (besides state inputs and integer tensors).
  std::vector<std::string> frozen;

  // Parses the JSON form; errors name `where` (the model file, say) and the offending node.
  static Graph from_json(std::string_view json, const std::string& where);
  std::string to_json() const;

  // Names of tensors the nodes read that nothing in the graph produces: they must be stored.
  std::vector<std::string> stored_tensor_names() const;
};

// An attribute value written as JSON: 3, 0.5, true, "mean", [1, 2], [0.5, 1.0].
AttrValue parse_attr_value(std::string_view json);

}  // namespace pcv
