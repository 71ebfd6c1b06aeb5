#include <pcv/graph_passes.hpp>

#include <algorithm>
#include <map>
#include <set>

// A host rewrite rule about pcv's own pointconv plugin: the layer-by-layer PointConv neighbourhood
// (group → MLP, WeightNet, density_scale → DensityNet → aggregate) becomes one
// pointconv.pointconv node, which never stores the [B, S, K, C] tensors.
namespace pcv {
namespace {

struct Layer {
  std::size_t linear, activation;  // node indices
  std::string weight, bias;
  bool sigmoid;
};

class Matcher {
 public:
  Matcher(const Graph& graph, const TensorMap& stored) : graph_(graph), stored_(stored) {
    for (std::size_t k = 0; k < graph.nodes.size(); ++k)
      for (const std::string& out : graph.nodes[k].outputs) producer_[out] = k;
    for (const GraphNode& n : graph.nodes)
      for (const std::string& in : n.inputs) ++readers_[in];
    for (const std::string& out : graph.outputs) ++readers_[out];
  }

  const GraphNode* producer(const std::string& tensor) const {
    auto it = producer_.find(tensor);
    return it == producer_.end() ? nullptr : &graph_.nodes[it->second];
  }
  std::size_t index(const GraphNode* n) const { return std::size_t(n - graph_.nodes.data()); }
  bool read_once(const std::string& tensor) const {
    auto it = readers_.find(tensor);
    return it != readers_.end() && it->second == 1;
  }

  // Walks back from `tensor` through (nn.linear with stored weight and bias → nn.relu|nn.sigmoid)
  // pairs whose outputs are read once; returns the tensor the chain starts from, or "" if the
  // chain is malformed. Layers come out first to last.
  std::string chain(std::string tensor, std::vector<Layer>& layers) const {
    for (;;) {
      const GraphNode* act = producer(tensor);
      if (!act || (act->op != "nn.relu" && act->op != "nn.sigmoid")) return tensor;
      if (!read_once(tensor) || act->inputs.size() != 1) return "";
      const GraphNode* lin = producer(act->inputs[0]);
      if (!lin || lin->op != "nn.linear" || lin->inputs.size() != 3 || !read_once(act->inputs[0]) ||
          !stored_.contains(lin->inputs[1]) || !stored_.contains(lin->inputs[2]))
        return "";
      layers.insert(layers.begin(),
                    {index(lin), index(act), lin->inputs[1], lin->inputs[2], act->op == "nn.sigmoid"});
      tensor = lin->inputs[0];
    }
  }

  // The one node reading `tensor`, or null when none or several do (or it is a graph output).
  const GraphNode* consumer(const std::string& tensor) const {
    if (!read_once(tensor)) return nullptr;
    for (const GraphNode& n : graph_.nodes)
      if (std::find(n.inputs.begin(), n.inputs.end(), tensor) != n.inputs.end()) return &n;
    return nullptr;
  }

  std::int64_t width(const Layer& l) const { return stored_.at(l.weight).shape()[0]; }

 private:
  const Graph& graph_;
  const TensorMap& stored_;
  std::map<std::string, std::size_t> producer_;
  std::map<std::string, int> readers_;
};

std::string input_or_empty(const GraphNode& n, std::size_t i) {
  return i < n.inputs.size() ? n.inputs[i] : "";
}

}  // namespace

std::pair<Graph, int> fuse_pointconv(const Registry& registry, const Graph& graph, const TensorMap& stored) {
  if (!registry.find_op("pointconv.pointconv")) return {graph, 0};
  const Matcher m(graph, stored);
  std::set<std::size_t> removed;
  std::map<std::size_t, GraphNode> replacement;  // by the index of the aggregate node it replaces
  for (std::size_t k = 0; k < graph.nodes.size(); ++k) {
    const GraphNode& agg = graph.nodes[k];
    if (agg.op != "pointconv.aggregate" || agg.inputs.size() < 2) continue;
    std::vector<Layer> mlp, weightnet, densitynet;
    const std::string grouped = m.chain(agg.inputs[0], mlp), rel = m.chain(agg.inputs[1], weightnet);
    const GraphNode* group = m.producer(grouped);
    if (grouped.empty() || rel.empty() || weightnet.empty() || !group || group->op != "pointconv.group" ||
        group->outputs.size() != 2 || group->outputs[1] != grouped || group->outputs[0] != rel ||
        !m.read_once(grouped) || !m.read_once(rel))
      continue;
    const auto relu_only = [](const std::vector<Layer>& ls, std::size_t upto) {
      return std::all_of(ls.begin(), ls.begin() + std::ptrdiff_t(upto),
                         [](const Layer& l) { return !l.sigmoid; });
    };
    if (!relu_only(mlp, mlp.size()) || !relu_only(weightnet, weightnet.size())) continue;
    const GraphNode* scale = nullptr;
    const std::string scale_in = input_or_empty(agg, 2);
    if (!scale_in.empty()) {
      const std::string source = m.chain(scale_in, densitynet);
      scale = source.empty() ? nullptr : m.producer(source);
      if (!scale || scale->op != "pointconv.density_scale" || densitynet.empty() || !m.read_once(source) ||
          !relu_only(densitynet, densitynet.size() - 1) ||
          input_or_empty(*scale, 1) != input_or_empty(*group, 2) || m.width(densitynet.back()) != 1)
        continue;
    }
    GraphNode fused;
    fused.name = agg.name;
    fused.op = "pointconv.pointconv";
    fused.inputs = {group->inputs[0], group->inputs[1], input_or_empty(*group, 2), input_or_empty(*group, 3),
                    scale ? scale->inputs[0] : ""};
    const auto add_layers = [&](const std::vector<Layer>& ls, const char* attr) {
      std::vector<std::int64_t> widths;
      for (const Layer& l : ls) {
        fused.inputs.push_back(l.weight);
        fused.inputs.push_back(l.bias);
        widths.push_back(m.width(l));
        removed.insert(l.linear);
        removed.insert(l.activation);
      }
      fused.attrs[attr] = widths;
    };
    add_layers(mlp, "mlp");
    add_layers(weightnet, "weightnet");
    if (scale) {
      add_layers(densitynet, "densitynet");
      fused.attrs["density_activation"] = std::string(densitynet.back().sigmoid ? "sigmoid" : "relu");
      removed.insert(m.index(scale));
    }
    fused.outputs = agg.outputs;
    // The layer's final linear + ReLU, when it reads the products alone.
    const GraphNode* lin = m.consumer(agg.outputs[0]);
    const GraphNode* act = lin ? m.consumer(lin->outputs[0]) : nullptr;
    if (lin && act && lin->op == "nn.linear" && lin->inputs.size() == 3 && lin->inputs[0] == agg.outputs[0] &&
        stored.contains(lin->inputs[1]) && stored.contains(lin->inputs[2]) && act->op == "nn.relu") {
      fused.inputs.push_back(lin->inputs[1]);
      fused.inputs.push_back(lin->inputs[2]);
      fused.attrs["linear"] = stored.at(lin->inputs[1]).shape()[0];
      fused.outputs = act->outputs;
      removed.insert(m.index(lin));
      removed.insert(m.index(act));
    }
    removed.insert(m.index(group));
    removed.insert(k);
    replacement[k] = std::move(fused);
  }
  Graph out = graph;
  out.nodes.clear();
  for (std::size_t k = 0; k < graph.nodes.size(); ++k) {
    if (auto it = replacement.find(k); it != replacement.end())
      out.nodes.push_back(it->second);
    else if (!removed.contains(k))
      out.nodes.push_back(graph.nodes[k]);
  }
  return {out, int(replacement.size())};
}

Graph prepare_for_inference(const Registry& registry, const Graph& graph, TensorMap& stored) {
  const Graph folded = fold_batch_norm(registry, graph, stored, /*in_place=*/true).first;
  Graph fused = fuse_pointconv(registry, folded, stored).first;
  std::set<std::string> read;
  for (const GraphNode& n : fused.nodes) read.insert(n.inputs.begin(), n.inputs.end());
  read.insert(fused.outputs.begin(), fused.outputs.end());
  std::erase_if(stored, [&](const auto& entry) { return !read.contains(entry.first); });
  return fused;
}

}  // namespace pcv
