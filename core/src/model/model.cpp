#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/safetensors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <optional>

namespace pcv {
namespace {

[[noreturn]] void bad_model(const std::string& where, const std::string& what) {
  throw Error(where + ": " + what, PCV_ERR_INVALID_ARGUMENT);
}

std::vector<std::string> labels_from_json(const std::string& text, const std::string& where) {
  try {
    return nlohmann::json::parse(text).get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception&) {
    bad_model(where, std::string("metadata '") + kLabelsKey + "' must be a JSON list of strings");
  }
}

}  // namespace

Model Model::load(const std::filesystem::path& path) {
  const std::string where = path.string();
  const SafetensorsFile file = SafetensorsFile::open(path);
  std::map<std::string, std::string> meta = file.metadata();
  const auto take = [&](const char* key) -> std::optional<std::string> {
    auto it = meta.find(key);
    if (it == meta.end()) return std::nullopt;
    std::string value = std::move(it->second);
    meta.erase(it);
    return value;
  };
  const auto format = take(kFormatKey);
  if (!format)
    bad_model(where, std::string("not a pcv model: the metadata has no '") + kFormatKey +
                         "' entry (a plain safetensors file holds weights but no graph)");
  if (*format != std::to_string(kModelFormatVersion))
    bad_model(where, "model format version " + *format + " is not supported; this pcv reads version " +
                         std::to_string(kModelFormatVersion));
  const auto graph = take(kGraphKey);
  if (!graph) bad_model(where, std::string("the metadata has no '") + kGraphKey + "' entry");

  Model m;
  m.graph = Graph::from_json(*graph, where);
  if (auto labels = take(kLabelsKey)) m.labels = labels_from_json(*labels, where);
  if (auto pre = take(kPreprocessingKey)) m.preprocessing = *pre;
  m.metadata = std::move(meta);
  for (const std::string& name : file.names()) m.tensors.emplace(name, file.tensor(name));
  m.check(where);
  return m;
}

void Model::check(const std::string& where) const {
  for (const std::string& name : graph.stored_tensor_names())
    if (!tensors.count(name)) {
      std::string reader;
      for (const GraphNode& n : graph.nodes)
        if (std::find(n.inputs.begin(), n.inputs.end(), name) != n.inputs.end()) {
          reader = n.name;
          break;
        }
      bad_model(where, "tensor '" + name + "' (read by node '" + reader +
                           "') is neither a graph input, a node output nor stored in the file");
    }
  for (const std::string& name : graph.frozen)
    if (!tensors.count(name)) bad_model(where, "frozen tensor '" + name + "' is not stored in the file");
  if (!nlohmann::json::accept(preprocessing))
    bad_model(where, std::string("metadata '") + kPreprocessingKey + "' is not valid JSON");
}

void Model::save(const std::filesystem::path& path) const {
  check(path.string());
  std::map<std::string, std::string> meta = metadata;
  meta[kFormatKey] = std::to_string(kModelFormatVersion);
  meta[kGraphKey] = graph.to_json();
  meta[kLabelsKey] = nlohmann::json(labels).dump();
  meta[kPreprocessingKey] = preprocessing;
  std::vector<std::pair<std::string, Tensor>> list(tensors.begin(), tensors.end());
  write_safetensors(path, list, meta);
}

}  // namespace pcv
