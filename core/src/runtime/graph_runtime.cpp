#include <pcv/error.hpp>
#include <pcv/random.hpp>
#include <pcv/runtime.hpp>

#include <algorithm>
#include <set>

#include "runtime/memory_plan.hpp"
#include "runtime/tensor_math.hpp"

namespace pcv {

struct GraphRuntime::Node {
  const GraphNode* spec;
  const OpInfo* op;
  Kernel kernel;
  std::vector<bool> no_grad;  // per input slot: state, or not differentiated by the op
};

struct GraphRuntime::Plan {
  detail::MemoryPlan memory;
  std::vector<std::vector<Tensor>> shapes;  // per node: placeholder outputs (dtype and shape)
};

// What a training forward keeps for backward: every node's input and output tensors.
struct GraphRuntime::Tape {
  RunOptions options;
  std::vector<std::vector<Tensor>> inputs, outputs;  // per node
  std::set<std::string> needs_grad;                  // tensors on a path from a parameter
};

namespace {

// Messages from inside a node name the graph and the node.
template <class F>
auto in_node(const std::string& where, const GraphNode& n, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const Error& e) {
    throw Error(where + ": node '" + n.name + "' (" + n.op + "): " + e.what(), e.code());
  }
}

bool is_float(pcv_dtype d) { return d.code == PCV_DTYPE_FLOAT; }

// A different seed per node and call, so two dropout layers never share a mask.
std::uint64_t node_seed(std::uint64_t seed, std::size_t node) { return detail::mix_seed(seed, node); }

std::string signature(const TensorMap& inputs) {
  std::string s;
  for (const auto& [name, t] : inputs)
    s += name + ":" + dtype_name(t.dtype()) + shape_string(t.shape()) + ";";
  return s;
}

}  // namespace

GraphRuntime::GraphRuntime(const Registry& registry, Graph graph, TensorMap stored, std::string where)
    : graph_(std::move(graph)), where_(std::move(where)), stored_(std::move(stored)) {
  std::set<std::string> not_trained, trained;  // stored tensors by how nodes read them
  for (const GraphNode& n : graph_.nodes) {
    Node node = in_node(where_, n, [&] {
      const OpInfo* op = registry.find_op(n.op);
      if (op == nullptr) {
        std::string loaded;
        for (const PluginInfo* p : registry.plugins()) loaded += (loaded.empty() ? "" : ", ") + p->name;
        throw Error("no loaded plugin provides op '" + n.op +
                    "' (loaded plugins: " + (loaded.empty() ? "none" : loaded) + ")");
      }
      const bool variadic = !op->inputs.empty() && op->inputs.back().variadic;
      if (n.inputs.size() > op->inputs.size() && !variadic)
        throw Error("has " + std::to_string(n.inputs.size()) + " inputs; the op takes " +
                    std::to_string(op->inputs.size()));
      if (n.outputs.size() != op->outputs.size())
        throw Error("names " + std::to_string(n.outputs.size()) + " outputs; the op has " +
                    std::to_string(op->outputs.size()));
      return Node{&n, op, registry.create_kernel(n.op, n.attrs), {}};
    });
    for (std::size_t i = 0; i < n.inputs.size(); ++i) {
      const ArgInfo& arg = node.op->inputs[std::min(i, node.op->inputs.size() - 1)];
      node.no_grad.push_back(arg.state || arg.no_grad);
      if (n.inputs[i].empty()) continue;
      (node.no_grad.back() ? not_trained : trained).insert(n.inputs[i]);
    }
    nodes_.push_back(std::move(node));
  }
  for (const std::string& name : graph_.stored_tensor_names()) {
    auto it = stored_.find(name);
    if (it == stored_.end())
      throw Error(where_ + ": tensor '" + name + "' is read by the graph but neither stored nor produced");
    const bool frozen = std::find(graph_.frozen.begin(), graph_.frozen.end(), name) != graph_.frozen.end();
    if (trained.count(name) && !frozen && is_float(it->second.dtype())) parameters_.push_back(name);
  }
}

GraphRuntime::~GraphRuntime() = default;

void GraphRuntime::check_inputs(const TensorMap& inputs) const {
  for (const auto& [name, t] : inputs)
    if (std::none_of(graph_.inputs.begin(), graph_.inputs.end(),
                     [&](const GraphInput& g) { return g.name == name; }))
      throw Error(where_ + ": the graph has no input '" + name + "'");
  for (const GraphInput& g : graph_.inputs) {
    auto it = inputs.find(g.name);
    if (it == inputs.end()) throw Error(where_ + ": input '" + g.name + "' is missing");
    const Tensor& t = it->second;
    bool fits = same_dtype(t.dtype(), g.dtype) && (g.shape.empty() || t.shape().size() == g.shape.size());
    for (std::size_t d = 0; fits && d < g.shape.size(); ++d)
      fits = g.shape[d] < 0 || g.shape[d] == t.shape()[d];
    if (!fits)
      throw Error(where_ + ": input '" + g.name + "' is " + dtype_name(t.dtype()) + shape_string(t.shape()) +
                      ", the graph expects " + dtype_name(g.dtype) + shape_string(g.shape) +
                      " (-1: any size)",
                  PCV_ERR_SHAPE);
  }
}

std::vector<Tensor> GraphRuntime::gather_inputs(const Node& node, const TensorMap& values) const {
  std::vector<Tensor> out;
  for (const std::string& name : node.spec->inputs) {
    if (name.empty()) {
      out.emplace_back();
      continue;
    }
    auto it = values.find(name);
    if (it == values.end()) it = stored_.find(name);
    if (it == stored_.end())
      throw Error(where_ + ": node '" + node.spec->name + "' reads '" + name +
                  "', which does not exist (yet)");
    out.push_back(it->second);
  }
  return out;
}

TensorMap GraphRuntime::infer_shapes(const TensorMap& inputs) const {
  check_inputs(inputs);
  TensorMap values;
  for (const auto& [name, t] : inputs) values[name] = Tensor::placeholder(t.dtype(), t.shape());
  for (const Node& node : nodes_) {
    const auto shapes =
        in_node(where_, *node.spec, [&] { return node.kernel.infer_shapes(gather_inputs(node, values)); });
    for (std::size_t i = 0; i < shapes.size(); ++i)
      values[node.spec->outputs[i]] = Tensor::placeholder(shapes[i].first, shapes[i].second);
  }
  TensorMap out;
  for (const std::string& name : graph_.outputs)
    out[name] = values.count(name) ? values[name] : stored_.at(name);
  return out;
}

const GraphRuntime::Plan& GraphRuntime::plan_for(const TensorMap& inputs) {
  auto& slot = plans_[signature(inputs)];
  if (slot) return *slot;
  auto plan = std::make_unique<Plan>();
  TensorMap values;
  for (const auto& [name, t] : inputs) values[name] = Tensor::placeholder(t.dtype(), t.shape());
  std::vector<detail::PlannedNode> planned;
  for (const Node& node : nodes_) {
    const auto shapes =
        in_node(where_, *node.spec, [&] { return node.kernel.infer_shapes(gather_inputs(node, values)); });
    std::vector<Tensor> outs;
    for (std::size_t i = 0; i < shapes.size(); ++i) {
      outs.push_back(Tensor::placeholder(shapes[i].first, shapes[i].second));
      values[node.spec->outputs[i]] = outs.back();
    }
    plan->shapes.push_back(outs);
    planned.push_back({node.spec->inputs, node.spec->outputs, outs});
  }
  plan->memory = detail::MemoryPlan(planned, graph_.outputs);
  slot = std::move(plan);
  return *slot;
}

TensorMap GraphRuntime::run(const TensorMap& inputs, const RunOptions& options) {
  std::lock_guard lock(mutex_);
  check_inputs(inputs);
  RunOptions eval = options;
  eval.training = false;
  const Plan& plan = plan_for(inputs);
  last_plan_ = &plan;
  node_seconds_.assign(nodes_.size(), 0.0);
  TensorMap values(inputs.begin(), inputs.end());
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const Node& node = nodes_[k];
    std::vector<Tensor> outs = plan.memory.outputs(k, plan.shapes[k]);
    const auto start = std::chrono::steady_clock::now();
    in_node(where_, *node.spec, [&] { node.kernel.forward_into(gather_inputs(node, values), outs, eval); });
    node_seconds_[k] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (std::size_t i = 0; i < outs.size(); ++i) values[node.spec->outputs[i]] = std::move(outs[i]);
    for (const std::string& name : plan.memory.released_after(k)) values.erase(name);
  }
  TensorMap result;
  for (const std::string& name : graph_.outputs) {
    auto it = values.find(name);
    result[name] = it != values.end() ? it->second : stored_.at(name);
  }
  return result;
}

std::uint64_t GraphRuntime::planned_bytes() const {
  return last_plan_ ? last_plan_->memory.arena_bytes() : 0;
}

TensorMap GraphRuntime::forward_for_training(const TensorMap& inputs, RunOptions options) {
  std::lock_guard lock(mutex_);
  check_inputs(inputs);
  options.training = true;
  auto tape = std::make_unique<Tape>();
  tape->options = options;
  tape->needs_grad.insert(parameters_.begin(), parameters_.end());
  TensorMap values(inputs.begin(), inputs.end());
  for (std::size_t k = 0; k < nodes_.size(); ++k) {
    const Node& node = nodes_[k];
    RunOptions node_options = options;
    node_options.seed = node_seed(options.seed, k);
    std::vector<Tensor> ins = gather_inputs(node, values);
    std::vector<Tensor> outs =
        in_node(where_, *node.spec, [&] { return node.kernel.forward(ins, node_options); });
    bool differentiable = false;
    for (std::size_t i = 0; i < ins.size(); ++i)
      differentiable |= !node.no_grad[i] && tape->needs_grad.count(node.spec->inputs[i]) > 0;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      if (differentiable && is_float(outs[i].dtype())) tape->needs_grad.insert(node.spec->outputs[i]);
      values[node.spec->outputs[i]] = outs[i];
    }
    tape->inputs.push_back(std::move(ins));
    tape->outputs.push_back(std::move(outs));
  }
  tape_ = std::move(tape);
  TensorMap result;
  for (const std::string& name : graph_.outputs) {
    auto it = values.find(name);
    result[name] = it != values.end() ? it->second : stored_.at(name);
  }
  return result;
}

void GraphRuntime::backward(const TensorMap& output_gradients) {
  std::lock_guard lock(mutex_);
  if (!tape_) throw Error(where_ + ": backward() needs a forward_for_training() first");
  const std::unique_ptr<Tape> tape = std::move(tape_);
  TensorMap grads;  // gradient of each tensor, summed over its readers
  for (const auto& [name, g] : output_gradients) {
    if (std::find(graph_.outputs.begin(), graph_.outputs.end(), name) == graph_.outputs.end())
      throw Error(where_ + ": a gradient was given for '" + name + "', which is not a graph output");
    grads[name] = g;
  }
  for (std::size_t k = nodes_.size(); k-- > 0;) {
    const Node& node = nodes_[k];
    const GraphNode& spec = *node.spec;
    std::vector<Tensor>& outs = tape->outputs[k];
    std::vector<bool> wanted(spec.inputs.size(), false);
    bool any_wanted = false;
    for (std::size_t i = 0; i < spec.inputs.size(); ++i) {
      wanted[i] = !spec.inputs[i].empty() && !node.no_grad[i] && tape->needs_grad.count(spec.inputs[i]) > 0;
      any_wanted |= wanted[i];
    }
    const bool has_grad = std::any_of(spec.outputs.begin(), spec.outputs.end(),
                                      [&](const std::string& o) { return grads.count(o) > 0; });
    if (!any_wanted || !has_grad) continue;
    std::vector<Tensor> grad_outs;
    for (std::size_t i = 0; i < outs.size(); ++i) {
      auto it = grads.find(spec.outputs[i]);
      grad_outs.push_back(it != grads.end() ? it->second : Tensor(outs[i].dtype(), outs[i].shape()));
      if (!same_dtype(grad_outs.back().dtype(), outs[i].dtype()) ||
          grad_outs.back().shape() != outs[i].shape())
        throw Error(where_ + ": the gradient of '" + spec.outputs[i] + "' is " +
                        dtype_name(grad_outs.back().dtype()) + shape_string(grad_outs.back().shape()) +
                        ", the tensor is " + dtype_name(outs[i].dtype()) + shape_string(outs[i].shape()),
                    PCV_ERR_SHAPE);
    }
    RunOptions options = tape->options;
    options.seed = node_seed(options.seed, k);
    const std::vector<Tensor> grad_ins = in_node(where_, spec, [&] {
      return node.kernel.backward(tape->inputs[k], outs, grad_outs, wanted, options);
    });
    for (const std::string& o : spec.outputs) grads.erase(o);  // this node was their only producer
    for (std::size_t i = 0; i < grad_ins.size() && i < wanted.size(); ++i) {
      if (!wanted[i] || !grad_ins[i].defined()) continue;
      auto [it, fresh] = grads.try_emplace(spec.inputs[i], grad_ins[i]);
      if (!fresh) it->second = detail::add(it->second, grad_ins[i]);
    }
    tape->inputs[k].clear();
    tape->outputs[k].clear();
  }
  for (const std::string& name : parameters_) {
    auto g = grads.find(name);
    if (g == grads.end()) continue;
    auto [it, fresh] = gradients_.try_emplace(name, g->second);
    if (!fresh) detail::add_into(it->second, g->second);
  }
}

void GraphRuntime::zero_gradients() { gradients_.clear(); }

}  // namespace pcv
