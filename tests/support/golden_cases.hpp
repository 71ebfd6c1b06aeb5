// Replays golden files written by tools/golden (format: tools/golden/README.md) through the ops'
// kernels: forward outputs, state updates and input gradients, in float64 or float32.
#pragma once

#include <pcv/attr.hpp>
#include <pcv/kernel.hpp>
#include <pcv/registry.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "golden.hpp"
#include "test_plugins.hpp"

namespace pcv::test {

inline const std::filesystem::path kGoldenDir = PCV_GOLDEN_DIR;

// Largest absolute difference over the largest expected magnitude (or absolute when that is tiny).
inline double relative_error(const std::vector<double>& actual, const std::vector<double>& expected) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < actual.size(); ++i) {
    diff = std::max(diff, std::abs(actual[i] - expected[i]));
    if (std::isnan(actual[i]) != std::isnan(expected[i])) return INFINITY;
    scale = std::max(scale, std::abs(expected[i]));
  }
  return diff / std::max(scale, 1e-6);
}

inline std::vector<double> as_doubles(const Tensor& t) {
  std::vector<double> out(static_cast<std::size_t>(t.numel()));
  const auto copy = [&](auto* p) { std::copy(p, p + t.numel(), out.begin()); };
  if (same_dtype(t.dtype(), kFloat32))
    copy(t.data<float>());
  else if (same_dtype(t.dtype(), kFloat64))
    copy(t.data<double>());
  else if (same_dtype(t.dtype(), kInt64))
    copy(t.data<std::int64_t>());
  else if (same_dtype(t.dtype(), kInt32))
    copy(t.data<std::int32_t>());
  else
    copy(t.data<std::uint8_t>());
  return out;
}

// A golden tensor: float data as Float, integer dtypes as written. null gives an absent tensor.
template <class Float>
Tensor golden_tensor(const nlohmann::json& j) {
  if (j.is_null()) return {};
  const std::string dtype = j.value("dtype", "float64");
  if (dtype == "int64") return tensor_from_json<std::int64_t>(j);
  if (dtype == "int32") return tensor_from_json<std::int32_t>(j);
  if (dtype == "uint8") return tensor_from_json<std::uint8_t>(j);
  return tensor_from_json<Float>(j);
}

template <class Float>
std::vector<Tensor> golden_tensors(const nlohmann::json& list) {
  std::vector<Tensor> out;
  for (const auto& j : list) out.push_back(golden_tensor<Float>(j));
  return out;
}

// JSON attribute values converted to the types the op declares.
inline AttrMap golden_attrs(const OpInfo& op, const nlohmann::json& attrs) {
  AttrMap out;
  for (const auto& [name, v] : attrs.items()) {
    const auto spec =
        std::find_if(op.attrs.begin(), op.attrs.end(), [&](const AttrInfo& a) { return a.name == name; });
    if (spec == op.attrs.end()) throw std::runtime_error(op.full_name + " has no attribute '" + name + "'");
    switch (spec->type) {
      case PCV_ATTR_INT:
        out[name] = v.get<std::int64_t>();
        break;
      case PCV_ATTR_FLOAT:
        out[name] = v.get<double>();
        break;
      case PCV_ATTR_BOOL:
        out[name] = v.get<bool>();
        break;
      case PCV_ATTR_STRING:
        out[name] = v.get<std::string>();
        break;
      case PCV_ATTR_INTS:
        out[name] = v.get<std::vector<std::int64_t>>();
        break;
      default:
        out[name] = v.get<std::vector<double>>();
        break;
    }
  }
  return out;
}

struct GoldenTolerance {
  double forward;   // relative error of outputs and state updates
  double gradient;  // relative error of input gradients
};

// Runs every case of `file` (relative to tests/data/golden) whose op starts with `op_prefix`;
// returns how many ran, so a test can insist that it checked something.
template <class Float>
int expect_golden_cases(const std::string& file, GoldenTolerance tol, const std::string& op_prefix = "") {
  const nlohmann::json golden = read_json(kGoldenDir / file);
  int ran = 0;
  for (const auto& c : golden.at("cases")) {
    const std::string op_name = c.at("op").get<std::string>();
    if (op_name.rfind(op_prefix, 0) != 0) continue;
    SCOPED_TRACE(file + ": " + c.value("name", op_name));
    const OpInfo& op = builtin_plugins().op(op_name);
    const Kernel kernel = builtin_plugins().create_kernel(
        op_name, golden_attrs(op, c.value("attrs", nlohmann::json::object())));
    RunOptions options;
    options.training = c.value("training", false);

    std::vector<Tensor> inputs = golden_tensors<Float>(c.at("inputs"));
    std::vector<Tensor> forward_inputs;  // state inputs are updated in place: keep the originals
    for (const Tensor& t : inputs) forward_inputs.push_back(t.defined() ? t.clone() : t);
    const std::vector<Tensor> outputs = kernel.forward(forward_inputs, options);
    const std::vector<Tensor> expected = golden_tensors<Float>(c.at("outputs"));
    EXPECT_EQ(outputs.size(), expected.size());
    for (std::size_t i = 0; i < std::min(outputs.size(), expected.size()); ++i) {
      EXPECT_EQ(outputs[i].shape(), expected[i].shape()) << "output " << i;
      EXPECT_TRUE(same_dtype(outputs[i].dtype(), expected[i].dtype())) << "output " << i;
      if (outputs[i].shape() != expected[i].shape()) continue;
      EXPECT_LE(relative_error(as_doubles(outputs[i]), as_doubles(expected[i])), tol.forward)
          << "output " << i;
    }
    if (c.contains("state_after"))
      for (const auto& [index, t] : c.at("state_after").items()) {
        const Tensor& updated = forward_inputs.at(std::stoul(index));
        EXPECT_LE(relative_error(as_doubles(updated), as_doubles(golden_tensor<Float>(t))), tol.forward)
            << "state input " << index << " after forward";
      }

    const auto& grad_json = c.at("grad_inputs");
    std::vector<bool> wanted;
    for (const auto& g : grad_json) wanted.push_back(!g.is_null());
    if (std::none_of(wanted.begin(), wanted.end(), [](bool w) { return w; })) {
      ++ran;
      continue;
    }
    // Backward sees the inputs as forward left them, as in the graph runtime (state updated).
    const std::vector<Tensor> grads = kernel.backward(
        forward_inputs, outputs, golden_tensors<Float>(c.at("grad_outputs")), wanted, options);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (!wanted[i]) continue;
      const Tensor want = golden_tensor<Float>(grad_json[i]);
      if (!grads.at(i).defined() || grads[i].shape() != want.shape()) {
        ADD_FAILURE() << "gradient of input " << i << " is missing or has the wrong shape";
        continue;
      }
      EXPECT_LE(relative_error(as_doubles(grads[i]), as_doubles(want)), tol.gradient)
          << "gradient of input " << i;
    }
    ++ran;
  }
  return ran;
}

// The tolerances of the acceptance criteria: float32 forward 1e-5, gradients 1e-4; float64 tight.
inline constexpr GoldenTolerance kFloat32Tolerance{1e-5, 1e-4};
inline constexpr GoldenTolerance kFloat64Tolerance{1e-10, 1e-10};

}  // namespace pcv::test
