// The graph runtime: validation against the plugins' schemas, forward with planned memory, and
// backward through a graph (gradients summed over a tensor's readers), checked against finite
// differences.
#include <pcv/error.hpp>
#include <pcv/runtime.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "support/errors.hpp"
#include "support/tensor_matchers.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;

Tensor random_tensor(Shape shape, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = normal(rng);
  return t;
}

// y = (x + a) * (x * b): x is read twice, so its gradient sums two paths.
Graph two_path_graph() {
  return Graph::from_json(R"({
    "inputs": [{"name": "x", "dtype": "float64", "shape": [-1, 3]}],
    "outputs": ["y"],
    "nodes": [
      {"name": "shift", "op": "nn.add", "inputs": ["x", "a"], "outputs": ["xa"]},
      {"name": "scale", "op": "nn.mul", "inputs": ["x", "b"], "outputs": ["xb"]},
      {"name": "product", "op": "nn.mul", "inputs": ["xa", "xb"], "outputs": ["y"]}
    ]})",
                          "test graph");
}

TensorMap two_path_weights() { return {{"a", random_tensor({3}, 1)}, {"b", random_tensor({1, 3}, 2)}}; }

using test::error_of;

TEST(GraphRuntime, RunsForwardWithBroadcastWeights) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(), two_path_weights());
  const Tensor x = random_tensor({2, 3}, 3);
  const Tensor y = rt.run({{"x", x}}).at("y");
  const TensorMap w = two_path_weights();
  Tensor want(kFloat64, {2, 3});
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j) {
      const double v = x.data<double>()[i * 3 + j];
      want.data<double>()[i * 3 + j] = (v + w.at("a").data<double>()[j]) * (v * w.at("b").data<double>()[j]);
    }
  EXPECT_TRUE(test::tensors_near<double>(y, want, 1e-12));
  // A second run reuses the plan and gives the same values; the first result is not overwritten.
  const Tensor y2 = rt.run({{"x", x}}).at("y");
  EXPECT_TRUE(test::tensors_near<double>(y2, want, 1e-12));
  EXPECT_TRUE(test::tensors_near<double>(y, want, 1e-12));
}

TEST(GraphRuntime, ReusesBuffersOfDeadIntermediates) {
  // A chain x -> t1 -> t2 -> ... -> y: at most two intermediates are alive at once.
  std::string nodes;
  const int n = 6;
  for (int i = 0; i < n; ++i) {
    const std::string in = i == 0 ? "x" : "t" + std::to_string(i);
    const std::string out = i == n - 1 ? "y" : "t" + std::to_string(i + 1);
    nodes += std::string(i ? "," : "") + R"({"name": "n)" + std::to_string(i) +
             R"(", "op": "nn.add", "inputs": [")" + in + R"(", "one"], "outputs": [")" + out + R"("]})";
  }
  const Graph g = Graph::from_json(
      R"({"inputs": [{"name": "x", "dtype": "float64"}], "outputs": ["y"], "nodes": [)" + nodes + "]}",
      "chain");
  GraphRuntime rt(test::builtin_plugins(), g, {{"one", Tensor::from<double>({}, {1.0})}});
  const Tensor x = random_tensor({1000}, 4);
  const Tensor y = rt.run({{"x", x}}).at("y");
  for (int i = 0; i < 1000; ++i) ASSERT_DOUBLE_EQ(y.data<double>()[i], x.data<double>()[i] + n);
  EXPECT_EQ(rt.planned_bytes(), 2u * 8000u);  // two slots of 1000 doubles, not five
}

TEST(GraphRuntime, BackwardMatchesFiniteDifferences) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(), two_path_weights());
  EXPECT_EQ(rt.parameter_names(), (std::vector<std::string>{"a", "b"}));
  const Tensor x = random_tensor({4, 3}, 5);
  const Tensor dy = random_tensor({4, 3}, 6);
  rt.forward_for_training({{"x", x}}, {});
  rt.backward({{"y", dy}});
  const auto loss = [&] {
    const Tensor y = rt.run({{"x", x}}).at("y");
    double s = 0;
    for (std::int64_t i = 0; i < y.numel(); ++i) s += y.data<double>()[i] * dy.data<double>()[i];
    return s;
  };
  for (const std::string& name : rt.parameter_names()) {
    Tensor& w = rt.stored().at(name);
    const Tensor& g = rt.gradients().at(name);
    ASSERT_EQ(g.shape(), w.shape());
    for (std::int64_t i = 0; i < w.numel(); ++i) {
      const double saved = w.data<double>()[i], eps = 1e-6;
      w.data<double>()[i] = saved + eps;
      const double up = loss();
      w.data<double>()[i] = saved - eps;
      const double down = loss();
      w.data<double>()[i] = saved;
      EXPECT_NEAR(g.data<double>()[i], (up - down) / (2 * eps), 1e-6) << name << "[" << i << "]";
    }
  }
}

TEST(GraphRuntime, GradientsAccumulateUntilZeroed) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(), two_path_weights());
  const Tensor x = random_tensor({2, 3}, 7), dy = random_tensor({2, 3}, 8);
  rt.forward_for_training({{"x", x}}, {});
  rt.backward({{"y", dy}});
  const Tensor once = rt.gradients().at("a").clone();
  rt.forward_for_training({{"x", x}}, {});
  rt.backward({{"y", dy}});
  for (int i = 0; i < 3; ++i)
    EXPECT_DOUBLE_EQ(rt.gradients().at("a").data<double>()[i], 2 * once.data<double>()[i]);
  rt.zero_gradients();
  EXPECT_TRUE(rt.gradients().empty());
  EXPECT_THAT(error_of([&] { rt.backward({{"y", dy}}); }), HasSubstr("needs a forward_for_training() first"));
}

TEST(GraphRuntime, RefusesAnUnknownOpNamingNodeAndOp) {
  Graph g = two_path_graph();
  g.nodes[1].op = "nn.mull";
  const std::string e =
      error_of([&] { GraphRuntime(test::builtin_plugins(), g, two_path_weights(), "m.safetensors"); });
  EXPECT_THAT(e, HasSubstr("m.safetensors"));
  EXPECT_THAT(e, HasSubstr("node 'scale'"));
  EXPECT_THAT(e, HasSubstr("no loaded plugin provides op 'nn.mull'"));
}

TEST(GraphRuntime, RefusesAMissingStoredTensor) {
  const std::string e = error_of([&] {
    GraphRuntime(test::builtin_plugins(), two_path_graph(), {{"a", random_tensor({3}, 1)}});
  });
  EXPECT_THAT(e, HasSubstr("tensor 'b' is read by the graph but neither stored nor produced"));
}

TEST(GraphRuntime, RefusesWrongArityAndBadAttributes) {
  Graph g = two_path_graph();
  g.nodes[0].inputs.push_back("b");
  EXPECT_THAT(error_of([&] { GraphRuntime(test::builtin_plugins(), g, two_path_weights()); }),
              HasSubstr("node 'shift' (nn.add): has 3 inputs; the op takes 2"));
  g = two_path_graph();
  g.nodes[0].attrs["alpha"] = 2.0;
  EXPECT_THAT(error_of([&] { GraphRuntime(test::builtin_plugins(), g, two_path_weights()); }),
              HasSubstr("has no attribute 'alpha'"));
}

TEST(GraphRuntime, RefusesInputsThatDoNotFitTheGraph) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(), two_path_weights(), "model.safetensors");
  EXPECT_THAT(error_of([&] { rt.run({}); }), HasSubstr("input 'x' is missing"));
  EXPECT_THAT(error_of([&] {
                rt.run({{"x", random_tensor({2, 4}, 1)}});
              }),
              HasSubstr("input 'x' is float64[2, 4], the graph expects float64[-1, 3]"));
  EXPECT_THAT(error_of([&] {
                rt.run({{"x", random_tensor({2, 3}, 1)}, {"z", random_tensor({1}, 1)}});
              }),
              HasSubstr("the graph has no input 'z'"));
}

TEST(GraphRuntime, ShapeErrorsNameTheNode) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(),
                  {{"a", random_tensor({5}, 1)}, {"b", random_tensor({3}, 2)}});
  EXPECT_THAT(error_of([&] {
                rt.run({{"x", random_tensor({2, 3}, 1)}});
              }),
              HasSubstr("node 'shift' (nn.add)"));
}

TEST(GraphRuntime, InfersOutputShapesWithoutComputing) {
  GraphRuntime rt(test::builtin_plugins(), two_path_graph(), two_path_weights());
  const TensorMap shapes = rt.infer_shapes({{"x", Tensor::placeholder(kFloat64, {7, 3})}});
  EXPECT_EQ(shapes.at("y").shape(), (Shape{7, 3}));
}

TEST(Graph, RoundTripsThroughJson) {
  Graph g = two_path_graph();
  g.nodes[0].attrs["k"] = std::vector<std::int64_t>{1, 2};
  g.frozen = {"b"};
  const Graph back = Graph::from_json(g.to_json(), "round trip");
  EXPECT_EQ(back.to_json(), g.to_json());
  EXPECT_EQ(back.nodes[0].attrs.at("k"), AttrValue(std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(back.stored_tensor_names(), (std::vector<std::string>{"a", "b"}));
}

TEST(Graph, RefusesBrokenGraphs) {
  EXPECT_THAT(error_of([] { Graph::from_json("{", "g.json"); }),
              HasSubstr("g.json: invalid graph: not valid JSON"));
  EXPECT_THAT(error_of([] {
                Graph::from_json(R"({"inputs": [], "outputs": ["y"], "nodes": [
      {"name": "a", "op": "nn.add", "inputs": ["x", "x"], "outputs": ["y"]},
      {"name": "b", "op": "nn.add", "inputs": ["x", "x"], "outputs": ["y"]}]})",
                                 "g");
              }),
              HasSubstr("tensor 'y' (an output of node 'b') is produced twice"));
  EXPECT_THAT(error_of([] {
                Graph::from_json(R"({"inputs": [], "outputs": ["z"], "nodes": [
      {"name": "a", "op": "nn.add", "inputs": ["y", "w"], "outputs": ["z"]},
      {"name": "b", "op": "nn.add", "inputs": ["w", "w"], "outputs": ["y"]}]})",
                                 "g");
              }),
              HasSubstr("node 'a' reads 'y' before the node that produces it"));
  EXPECT_THAT(error_of([] {
                Graph::from_json(R"({"inputs": [], "outputs": ["y"], "nodes": [
      {"name": "a", "inputs": ["w"], "outputs": ["y"]}]})",
                                 "g");
              }),
              HasSubstr("node 'a': invalid graph: 'op' (\"plugin.op\") is missing"));
  EXPECT_THAT(error_of([] { Graph::from_json(R"({"inputs": [], "outputs": ["q"], "nodes": []})", "g"); }),
              HasSubstr("graph output 'q' is not produced"));
}

TEST(AttrValues, ParseFromCommandLineText) {
  EXPECT_EQ(parse_attr_value("3"), AttrValue(std::int64_t{3}));
  EXPECT_EQ(parse_attr_value("0.5"), AttrValue(0.5));
  EXPECT_EQ(parse_attr_value("true"), AttrValue(true));
  EXPECT_EQ(parse_attr_value("[1, 2]"), AttrValue(std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(parse_attr_value("sum"), AttrValue(std::string("sum")));
  EXPECT_EQ(parse_attr_value("\"3\""), AttrValue(std::string("3")));
}

}  // namespace
}  // namespace pcv
