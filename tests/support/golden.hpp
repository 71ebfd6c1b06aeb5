// Reading golden test data (JSON written by the tools/gen_golden_*.py scripts) into tensors.
#pragma once

#include <pcv/tensor.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pcv::test {

inline nlohmann::json read_json(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::runtime_error("cannot open golden file " + file.string());
  return nlohmann::json::parse(in);
}

// {"shape": [...], "data": [...]} as a tensor of element type T.
template <class T>
Tensor tensor_from_json(const nlohmann::json& j) {
  const auto values = j.at("data").get<std::vector<double>>();
  std::vector<T> converted(values.begin(), values.end());
  return Tensor::from<T>(j.at("shape").get<Shape>(), std::span<const T>(converted));
}

template <class T>
std::vector<Tensor> tensors_from_json(const nlohmann::json& list) {
  std::vector<Tensor> out;
  for (const auto& j : list) out.push_back(tensor_from_json<T>(j));
  return out;
}

}  // namespace pcv::test
