#include <pcv/error.hpp>
#include <pcv/graph_passes.hpp>

#include <algorithm>
#include <cmath>
#include <map>

// The one place where the host names ops: this rewrite rule is about the nn plugin's layers.
namespace pcv {
namespace {

bool is_affine_layer(const std::string& op) {
  return op == "nn.conv1d" || op == "nn.conv2d" || op == "nn.conv3d" || op == "nn.linear";
}

// The node's value of a number attribute, else the op's default, as a double.
double attr_or_default(const Registry& registry, const GraphNode& node, const std::string& name) {
  const auto number = [](const AttrValue& v) {
    return std::holds_alternative<double>(v) ? std::get<double>(v) : double(std::get<std::int64_t>(v));
  };
  if (auto it = node.attrs.find(name); it != node.attrs.end()) return number(it->second);
  for (const AttrInfo& a : registry.op(node.op).attrs)
    if (a.name == name && a.default_value) return number(*a.default_value);
  throw Error("node '" + node.name + "' has no attribute '" + name + "'");
}

// Whether batch norm `bn` normalises the channels that `layer` writes, so that it can fold
// into them: dim 1 of a conv's output [N, C, *S]; the last dim of a linear's output [*, out],
// which bn names as dim -1, or as dim 1 for the usual 2-d [N, out] (bn's default). Channels
// last after a conv (dim -1) normalise a spatial dim instead and stay.
bool normalises_layer_channels(const Registry& registry, const GraphNode& layer, const GraphNode& bn) {
  const double dim = attr_or_default(registry, bn, "dim");
  if (layer.op == "nn.linear") return dim == -1 || dim == 1;
  const int rank = 2 + (layer.op[layer.op.size() - 2] - '0');  // nn.conv1d/2d/3d: N, C and 1 to 3 dims
  return dim == 1 || dim == 1 - rank;
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  if (same_dtype(t.dtype(), kFloat64))
    std::copy_n(t.data<double>(), t.numel(), v.begin());
  else
    std::copy_n(t.data<float>(), t.numel(), v.begin());
  return v;
}

Tensor like(const Tensor& model, const Shape& shape, const std::vector<double>& v) {
  Tensor t(model.dtype(), shape);
  if (same_dtype(t.dtype(), kFloat64))
    std::copy(v.begin(), v.end(), t.data<double>());
  else
    std::transform(v.begin(), v.end(), t.data<float>(), [](double x) { return static_cast<float>(x); });
  return t;
}

// W' = s·W per output channel (row o of W seen as [channels, per_channel]), into `out` (which may
// be w itself), computed in double one element at a time: a weight of 16 M entries needs no
// 128 MB double copy.
void scale_rows(const Tensor& w, const std::vector<double>& s, Tensor& out) {
  const std::size_t per_channel = static_cast<std::size_t>(w.numel()) / s.size();
  const auto scale = [&](const auto* in, auto* to) {
    for (std::size_t o = 0; o < s.size(); ++o)
      for (std::size_t i = 0; i < per_channel; ++i)
        to[o * per_channel + i] =
            static_cast<std::remove_cvref_t<decltype(*to)>>(in[o * per_channel + i] * s[o]);
  };
  if (same_dtype(w.dtype(), kFloat64))
    scale(w.data<double>(), out.data<double>());
  else
    scale(w.data<float>(), out.data<float>());
}

const Tensor* stored_input(const GraphNode& n, std::size_t i, const TensorMap& stored) {
  if (i >= n.inputs.size() || n.inputs[i].empty()) return nullptr;
  auto it = stored.find(n.inputs[i]);
  return it == stored.end() ? nullptr : &it->second;
}

}  // namespace

std::pair<Graph, int> fold_batch_norm(const Registry& registry, const Graph& graph, TensorMap& stored,
                                      bool in_place) {
  std::map<std::string, int> readers;
  for (const GraphNode& n : graph.nodes)
    for (const std::string& in : n.inputs) ++readers[in];
  for (const std::string& out : graph.outputs) ++readers[out];

  Graph folded = graph;
  folded.nodes.clear();
  int count = 0;
  for (std::size_t k = 0; k < graph.nodes.size(); ++k) {
    const GraphNode& layer = graph.nodes[k];
    const GraphNode* bn = k + 1 < graph.nodes.size() ? &graph.nodes[k + 1] : nullptr;
    const bool candidate = bn && is_affine_layer(layer.op) && bn->op == "nn.batch_norm" &&
                           !bn->inputs.empty() && bn->inputs[0] == layer.outputs[0] &&
                           readers[layer.outputs[0]] == 1 && normalises_layer_channels(registry, layer, *bn);
    const Tensor* w = candidate ? stored_input(layer, 1, stored) : nullptr;
    const Tensor* mean = candidate ? stored_input(*bn, 3, stored) : nullptr;
    const Tensor* var = candidate ? stored_input(*bn, 4, stored) : nullptr;
    if (!w || !mean || !var ||
        (layer.inputs.size() > 2 && !layer.inputs[2].empty() && !stored_input(layer, 2, stored))) {
      folded.nodes.push_back(layer);
      continue;
    }
    const double eps = attr_or_default(registry, *bn, "eps");
    const auto channels = static_cast<std::size_t>(w->shape()[0]);
    const std::vector<double> m = values(*mean), v = values(*var);
    const Tensor* gamma = stored_input(*bn, 1, stored);
    const Tensor* beta = stored_input(*bn, 2, stored);
    const Tensor* bias = stored_input(layer, 2, stored);
    if (m.size() != channels || v.size() != channels) {
      folded.nodes.push_back(layer);
      continue;
    }
    const std::vector<double> g = gamma ? values(*gamma) : std::vector<double>(channels, 1.0);
    const std::vector<double> be = beta ? values(*beta) : std::vector<double>(channels, 0.0);
    const std::vector<double> b = bias ? values(*bias) : std::vector<double>(channels, 0.0);
    std::vector<double> scale(channels), new_bias(channels);
    for (std::size_t o = 0; o < channels; ++o) {
      scale[o] = g[o] / std::sqrt(v[o] + eps);
      new_bias[o] = scale[o] * (b[o] - m[o]) + be[o];
    }
    GraphNode merged = layer;
    merged.name = layer.name;
    merged.inputs.resize(3);
    const bool reuse = in_place && readers[layer.inputs[1]] == 1;
    merged.inputs[1] = reuse ? layer.inputs[1] : layer.name + ".folded_weight";
    merged.inputs[2] = layer.name + ".folded_bias";
    merged.outputs[0] = bn->outputs[0];
    Tensor folded_weight = reuse ? *w : Tensor(w->dtype(), w->shape());
    scale_rows(*w, scale, folded_weight);
    stored[merged.inputs[1]] = folded_weight;
    stored[merged.inputs[2]] = like(*w, {static_cast<std::int64_t>(channels)}, new_bias);
    folded.nodes.push_back(std::move(merged));
    ++k;  // the batch norm is gone
    ++count;
  }
  return {folded, count};
}

}  // namespace pcv
