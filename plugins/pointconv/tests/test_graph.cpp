// Whole PointConv layers as pcv graphs (tools/models/pointconv_graphs.py, the graph the shipped
// networks use) against the float64 reference layer (tools/golden/pointconv_graph.py): both
// DensityNet conventions, xyz-only input and group_all; in float64 and float32, layer by layer and
// fused for inference (pointconv.pointconv); and the training-mode gradient of the whole layer by finite
// differences.
#include <pcv/graph_passes.hpp>
#include <pcv/model.hpp>
#include <pcv/runtime.hpp>
#include <pcv/safetensors.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "support/golden_cases.hpp"
#include "support/tensor_matchers.hpp"
#include "support/test_tensors.hpp"

namespace pcv {
namespace {

struct LayerCase {
  Model model;
  TensorMap inputs, expected;
};

LayerCase load_case(const std::string& name) {
  LayerCase c{Model::load(test::kGoldenDir / ("pointconv/graph_" + name + ".safetensors")), {}, {}};
  const SafetensorsFile file =
      SafetensorsFile::open(test::kGoldenDir / ("pointconv/graph_" + name + ".expected.safetensors"));
  for (const auto& [key, tensor] : file.tensors())
    (key == "xyz" || key == "feats" ? c.inputs : c.expected)[key] = tensor.clone();
  return c;
}

TensorMap to_float32(const TensorMap& m) {
  TensorMap out;
  for (const auto& [key, t] : m) out[key] = test::as_float32(t);
  return out;
}

// Largest |a - b| / (|b| + 1e-3) over the elements.
double relative_error(const Tensor& a, const Tensor& b) {
  const auto values = [](const Tensor& t) {
    if (same_dtype(t.dtype(), kFloat64)) return t.to_vector<double>();
    const auto f = t.to_vector<float>();
    return std::vector<double>(f.begin(), f.end());
  };
  const auto x = values(a), y = values(b);
  EXPECT_EQ(x.size(), y.size());
  double worst = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
    worst = std::max(worst, std::abs(x[i] - y[i]) / (std::abs(y[i]) + 1e-3));
  return worst;
}

class PointconvGraph : public ::testing::TestWithParam<const char*> {};

TEST_P(PointconvGraph, MatchesTheReferenceLayer) {
  const LayerCase c = load_case(GetParam());
  const Registry& registry = test::builtin_plugins();
  for (bool fold : {false, true})
    for (bool single : {false, true}) {
      TensorMap stored;  // copies: inference folds batch norms into the weights in place
      for (const auto& [key, t] : c.model.tensors) stored[key] = t.clone();
      if (single) stored = to_float32(stored);
      Graph graph = c.model.graph;
      for (GraphInput& in : graph.inputs) in.dtype = single ? kFloat32 : kFloat64;
      if (fold) {  // what inference runs: batch norms folded, the neighbourhood fused into one op
        graph = prepare_for_inference(registry, graph, stored);
        EXPECT_EQ(std::count_if(graph.nodes.begin(), graph.nodes.end(),
                                [](const GraphNode& n) { return n.op == "pointconv.pointconv"; }),
                  1);
        EXPECT_EQ(graph.nodes.size(), std::string(GetParam()) == "pytorch_group_all" ? 5u : 7u);
      }
      GraphRuntime runtime(registry, graph, stored, GetParam());
      const TensorMap out = runtime.run(single ? to_float32(c.inputs) : c.inputs);
      const double tol = single ? 1e-4 : 1e-9;
      SCOPED_TRACE(std::string(single ? "float32" : "float64") + (fold ? ", prepared for inference" : ""));
      EXPECT_LT(relative_error(out.at("new_xyz"), c.expected.at("new_xyz")), tol);
      EXPECT_LT(relative_error(out.at("out"), c.expected.at("out")), tol);
    }
}

// L = Σ out · w for fixed w; the gradient of a few elements of every parameter from backward()
// against central differences, in training mode (batch statistics, as training runs it).
TEST_P(PointconvGraph, TrainingGradientMatchesFiniteDifferences) {
  const LayerCase c = load_case(GetParam());
  const Registry& registry = test::builtin_plugins();
  TensorMap stored;
  for (const auto& [key, t] : c.model.tensors) stored[key] = t.clone();
  GraphRuntime runtime(registry, c.model.graph, stored, GetParam());
  std::mt19937 rng(3);
  const Tensor out_shape = runtime.infer_shapes(c.inputs).at("out");
  const Tensor w = test::uniform_tensor(kFloat64, out_shape.shape(), rng);
  RunOptions options;
  options.training = true;
  const auto loss = [&] {
    // Running statistics move in training mode: restore them so every evaluation sees the same.
    TensorMap saved;
    for (const auto& [key, t] : runtime.stored()) saved[key] = t.clone();
    const Tensor y = runtime.forward_for_training(c.inputs, options).at("out");
    for (auto& [key, t] : runtime.stored()) std::memcpy(t.raw_data(), saved.at(key).raw_data(), t.nbytes());
    double sum = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) sum += y.data<double>()[i] * w.data<double>()[i];
    return sum;
  };
  loss();
  runtime.zero_gradients();
  runtime.backward({{"out", w}});
  int checked = 0;
  for (const std::string& name : runtime.parameter_names()) {
    Tensor& p = runtime.stored().at(name);
    const Tensor grad = runtime.gradients().at(name).clone();
    for (std::int64_t i = 0; i < p.numel(); i += std::max<std::int64_t>(1, p.numel() / 2)) {
      const double x0 = p.data<double>()[i], eps = 1e-6;
      p.data<double>()[i] = x0 + eps;
      const double up = loss();
      p.data<double>()[i] = x0 - eps;
      const double down = loss();
      p.data<double>()[i] = x0;
      const double numeric = (up - down) / (2 * eps), analytic = grad.data<double>()[i];
      EXPECT_NEAR(analytic, numeric, 1e-5 * (1 + std::abs(numeric))) << name << "[" << i << "]";
      ++checked;
    }
  }
  EXPECT_GT(checked, 30);
}

INSTANTIATE_TEST_SUITE_P(Layers, PointconvGraph,
                         ::testing::Values("pytorch_normals", "pytorch_xyz_only", "pytorch_group_all",
                                           "tf_ball"));

}  // namespace
}  // namespace pcv
