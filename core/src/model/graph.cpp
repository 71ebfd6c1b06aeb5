#include <pcv/error.hpp>
#include <pcv/graph.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

namespace pcv {
namespace {

using nlohmann::json;

[[noreturn]] void bad_graph(const std::string& where, const std::string& what) {
  throw Error(where + ": invalid graph: " + what, PCV_ERR_INVALID_ARGUMENT);
}

AttrValue attr_from_json(const json& v, const std::string& what) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_float()) return v.get<double>();
  if (v.is_string()) return v.get<std::string>();
  if (v.is_array()) {
    if (std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number_integer(); }))
      return v.get<std::vector<std::int64_t>>();
    if (std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number(); }))
      return v.get<std::vector<double>>();
  }
  throw Error(what + " is " + v.dump() + ": not a number, bool, string or list of numbers",
              PCV_ERR_INVALID_ARGUMENT);
}

json attr_to_json(const AttrValue& v) {
  return std::visit([](const auto& x) { return json(x); }, v);
}

pcv_dtype dtype_from_name(const std::string& name, const std::string& where) {
  for (pcv_dtype d : {kFloat32, kFloat64, kInt32, kInt64, kUInt8})
    if (dtype_name(d) == name) return d;
  bad_graph(where, "unknown dtype '" + name + "'");
}

std::vector<std::string> strings(const json& j, const std::string& key, const std::string& where) {
  if (!j.contains(key)) return {};
  if (!j.at(key).is_array()) bad_graph(where, "'" + key + "' must be a list of names");
  std::vector<std::string> out;
  for (const json& e : j.at(key)) {
    if (!e.is_string()) bad_graph(where, "'" + key + "' must be a list of names, has " + e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

GraphNode node_from_json(const json& j, std::size_t index, const std::string& where) {
  const std::string at = where + " node #" + std::to_string(index);
  if (!j.is_object()) bad_graph(at, "a node must be an object");
  GraphNode n;
  n.name = j.value("name", "node" + std::to_string(index));
  const std::string named = where + " node '" + n.name + "'";
  if (!j.contains("op") || !j.at("op").is_string()) bad_graph(named, "'op' (\"plugin.op\") is missing");
  n.op = j.at("op").get<std::string>();
  if (n.op.find('.') == std::string::npos) bad_graph(named, "op '" + n.op + "' must be written plugin.op");
  n.inputs = strings(j, "inputs", named);
  n.outputs = strings(j, "outputs", named);
  if (n.outputs.empty()) bad_graph(named, "has no outputs");
  if (j.contains("attrs")) {
    if (!j.at("attrs").is_object()) bad_graph(named, "'attrs' must be an object");
    for (const auto& [key, value] : j.at("attrs").items())
      n.attrs[key] = attr_from_json(value, named + " attribute '" + key + "'");
  }
  for (const auto& [key, value] : j.items())
    if (key != "name" && key != "op" && key != "inputs" && key != "outputs" && key != "attrs")
      bad_graph(named, "unknown key '" + key + "'");
  return n;
}

// Every tensor is produced once, and only read after it is produced.
void check_names(const Graph& g, const std::string& where) {
  std::set<std::string> produced;
  for (const GraphInput& in : g.inputs)
    if (!produced.insert(in.name).second) bad_graph(where, "input '" + in.name + "' is declared twice");
  std::set<std::string> node_names;
  std::set<std::string> outputs_so_far;
  for (const GraphNode& n : g.nodes) {
    if (!node_names.insert(n.name).second) bad_graph(where, "two nodes are named '" + n.name + "'");
    for (const std::string& out : n.outputs) {
      if (out.empty()) bad_graph(where, "node '" + n.name + "' has an output with an empty name");
      if (produced.count(out) || !outputs_so_far.insert(out).second)
        bad_graph(where, "tensor '" + out + "' (an output of node '" + n.name + "') is produced twice");
    }
  }
  std::set<std::string> available(produced);
  for (const GraphNode& n : g.nodes) {
    for (const std::string& in : n.inputs)
      if (!in.empty() && outputs_so_far.count(in) && !available.count(in))
        bad_graph(where, "node '" + n.name + "' reads '" + in + "' before the node that produces it");
    available.insert(n.outputs.begin(), n.outputs.end());
  }
  for (const std::string& out : g.outputs)
    if (!available.count(out))
      bad_graph(where, "graph output '" + out + "' is not produced by any node or input");
}

}  // namespace

Graph Graph::from_json(std::string_view text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    bad_graph(where, std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) bad_graph(where, "the graph must be a JSON object");
  Graph g;
  try {
    if (!j.contains("inputs") || !j.at("inputs").is_array()) bad_graph(where, "'inputs' (a list) is missing");
    for (const json& in : j.at("inputs")) {
      if (!in.is_object() || !in.contains("name")) bad_graph(where, "each input needs a name");
      GraphInput gi;
      gi.name = in.at("name").get<std::string>();
      gi.dtype = dtype_from_name(in.value("dtype", "float32"), where + " input '" + gi.name + "'");
      gi.shape = in.value("shape", Shape{});
      g.inputs.push_back(std::move(gi));
    }
    g.outputs = strings(j, "outputs", where);
    if (g.outputs.empty()) bad_graph(where, "'outputs' (a non-empty list of tensor names) is missing");
    if (!j.contains("nodes") || !j.at("nodes").is_array()) bad_graph(where, "'nodes' (a list) is missing");
    for (std::size_t i = 0; i < j.at("nodes").size(); ++i)
      g.nodes.push_back(node_from_json(j.at("nodes")[i], i, where));
    g.frozen = strings(j, "frozen", where);
  } catch (const json::exception& e) {
    bad_graph(where, e.what());
  }
  check_names(g, where);
  return g;
}

std::string Graph::to_json() const {
  json j;
  j["inputs"] = json::array();
  for (const GraphInput& in : inputs)
    j["inputs"].push_back({{"name", in.name}, {"dtype", dtype_name(in.dtype)}, {"shape", in.shape}});
  j["outputs"] = outputs;
  j["nodes"] = json::array();
  for (const GraphNode& n : nodes) {
    json node{{"name", n.name}, {"op", n.op}, {"inputs", n.inputs}, {"outputs", n.outputs}};
    if (!n.attrs.empty()) {
      json attrs = json::object();
      for (const auto& [key, value] : n.attrs) attrs[key] = attr_to_json(value);
      node["attrs"] = attrs;
    }
    j["nodes"].push_back(std::move(node));
  }
  if (!frozen.empty()) j["frozen"] = frozen;
  return j.dump();
}

std::vector<std::string> Graph::stored_tensor_names() const {
  std::set<std::string> produced;
  for (const GraphInput& in : inputs) produced.insert(in.name);
  for (const GraphNode& n : nodes) produced.insert(n.outputs.begin(), n.outputs.end());
  std::vector<std::string> stored;
  for (const GraphNode& n : nodes)
    for (const std::string& in : n.inputs)
      if (!in.empty() && !produced.count(in) && std::find(stored.begin(), stored.end(), in) == stored.end())
        stored.push_back(in);
  return stored;
}

AttrValue parse_attr_value(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception&) {
    return std::string(text);  // a bare word is a string: --attr reduction=sum
  }
  return attr_from_json(j, "value '" + std::string(text) + "'");
}

}  // namespace pcv
