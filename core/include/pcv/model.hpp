// A model file: one .safetensors file holding the weights, with the graph, label names, input
// preprocessing and format version in its __metadata__ (keys below).
#pragma once

#include <pcv/graph.hpp>
#include <pcv/tensor.hpp>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace pcv {

// __metadata__ keys of a model file. Other keys are kept as they are (checkpoints use some).
inline constexpr const char* kFormatKey = "pcv.format";                // "1"
inline constexpr const char* kGraphKey = "pcv.graph";                  // Graph::to_json()
inline constexpr const char* kLabelsKey = "pcv.labels";                // JSON list of class names
inline constexpr const char* kPreprocessingKey = "pcv.preprocessing";  // JSON object, see datasets
inline constexpr const char* kTaskKey = "pcv.task";  // "segmentation"; absent for classifiers
// JSON written by pcv train into the best model: the validation result it was chosen by.
inline constexpr const char* kValidationKey = "pcv.validation";
// JSON written by pcv eval --record: the latest evaluation of the model on named data.
inline constexpr const char* kEvaluationKey = "pcv.evaluation";
inline constexpr int kModelFormatVersion = 1;

struct Model {
  Graph graph;
  std::map<std::string, Tensor> tensors;  // parameters, state and anything else stored, by name
  std::vector<std::string> labels;
  std::string preprocessing = "{}";             // JSON object
  std::map<std::string, std::string> metadata;  // other __metadata__ entries

  // Reads and checks a model file: format version, graph, and that every tensor the graph
  // reads but does not produce is stored. Weights are memory-mapped, not copied (read-only:
  // clone a tensor before changing it). Errors name the file and what is wrong.
  static Model load(const std::filesystem::path& path);

  // Writes the model atomically: the old file stays whole if anything fails.
  void save(const std::filesystem::path& path) const;

  // The checks load() makes, for a model built in memory; `where` names it in errors.
  void check(const std::string& where) const;
};

}  // namespace pcv
