// Folding eval-mode batch norm into the preceding conv/linear gives the same outputs with one
// node less per fold; a batch norm over other channels than the layer's output channels stays.
#include <pcv/graph_passes.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "support/tensor_matchers.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

Tensor random_tensor(Shape shape, std::uint64_t seed, double offset = 0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = offset + normal(rng);
  return t;
}

Tensor positive(Shape shape, std::uint64_t seed) {
  Tensor t = random_tensor(std::move(shape), seed);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = 0.5 + std::abs(t.data<double>()[i]);
  return t;
}

TEST(FoldBatchNorm, ConvAndLinearGiveTheSameOutputs) {
  const Graph g = Graph::from_json(R"({
    "inputs": [{"name": "x", "dtype": "float64"}],
    "outputs": ["y"],
    "nodes": [
      {"name": "conv", "op": "nn.conv2d", "inputs": ["x", "conv.weight"], "outputs": ["c"], "attrs": {"padding": [1]}},
      {"name": "bn1", "op": "nn.batch_norm", "inputs": ["c", "bn1.weight", "bn1.bias", "bn1.mean", "bn1.var"],
       "outputs": ["c_bn"], "attrs": {"eps": 0.001}},
      {"name": "pool", "op": "nn.global_avg_pool", "inputs": ["c_bn"], "outputs": ["f"]},
      {"name": "fc", "op": "nn.linear", "inputs": ["f", "fc.weight", "fc.bias"], "outputs": ["l"]},
      {"name": "bn2", "op": "nn.batch_norm", "inputs": ["l", "", "", "bn2.mean", "bn2.var"], "outputs": ["y"]}
    ]})",
                                   "fold test");
  TensorMap stored{{"conv.weight", random_tensor({4, 3, 3, 3}, 1)},
                   {"bn1.weight", random_tensor({4}, 2)},
                   {"bn1.bias", random_tensor({4}, 3)},
                   {"bn1.mean", random_tensor({4}, 4)},
                   {"bn1.var", positive({4}, 5)},
                   {"fc.weight", random_tensor({5, 4}, 6)},
                   {"fc.bias", random_tensor({5}, 7)},
                   {"bn2.mean", random_tensor({5}, 8)},
                   {"bn2.var", positive({5}, 9)}};
  const Tensor x = random_tensor({2, 3, 7, 6}, 10);
  GraphRuntime plain(test::builtin_plugins(), g, stored);
  const Tensor want = plain.run({{"x", x}}).at("y");

  TensorMap folded_stored = stored;
  const auto [folded, count] = fold_batch_norm(test::builtin_plugins(), g, folded_stored);
  EXPECT_EQ(count, 2);
  EXPECT_EQ(folded.nodes.size(), 3u);
  GraphRuntime fast(test::builtin_plugins(), folded, folded_stored);
  EXPECT_TRUE(test::tensors_near<double>(fast.run({{"x", x}}).at("y"), want, 1e-10, 1e-10));
}

TEST(FoldBatchNorm, InPlaceScalesOnlyWeightsNoOtherNodeReads) {
  // Two linears share "shared.weight"; "own.weight" is read by one of them alone.
  const Graph g = Graph::from_json(R"({
    "inputs": [{"name": "x", "dtype": "float64"}],
    "outputs": ["y1", "y2", "y3"],
    "nodes": [
      {"name": "a", "op": "nn.linear", "inputs": ["x", "shared.weight"], "outputs": ["la"]},
      {"name": "bna", "op": "nn.batch_norm", "inputs": ["la", "", "", "m", "v"], "outputs": ["y1"]},
      {"name": "b", "op": "nn.linear", "inputs": ["x", "shared.weight"], "outputs": ["y2"]},
      {"name": "c", "op": "nn.linear", "inputs": ["x", "own.weight"], "outputs": ["lc"]},
      {"name": "bnc", "op": "nn.batch_norm", "inputs": ["lc", "", "", "m", "v"], "outputs": ["y3"]}
    ]})",
                                   "fold test");
  const TensorMap original{{"shared.weight", random_tensor({3, 2}, 1)},
                           {"own.weight", random_tensor({3, 2}, 2)},
                           {"m", random_tensor({3}, 3)},
                           {"v", positive({3}, 4)}};
  const Tensor x = random_tensor({4, 2}, 5);
  const TensorMap want = GraphRuntime(test::builtin_plugins(), g, original).run({{"x", x}});
  TensorMap stored;
  for (const auto& [key, t] : original) stored[key] = t.clone();
  const Tensor own = stored.at("own.weight"), shared = stored.at("shared.weight");
  const auto [folded, count] = fold_batch_norm(test::builtin_plugins(), g, stored, /*in_place=*/true);
  EXPECT_EQ(count, 2);
  EXPECT_TRUE(test::tensors_near<double>(shared, original.at("shared.weight"), 0, 0));   // untouched
  EXPECT_FALSE(test::tensors_near<double>(own, original.at("own.weight"), 1e-6, 1e-6));  // scaled in place
  const TensorMap got = GraphRuntime(test::builtin_plugins(), folded, stored).run({{"x", x}});
  for (const char* y : {"y1", "y2", "y3"})
    EXPECT_TRUE(test::tensors_near<double>(got.at(y), want.at(y), 1e-10, 1e-10)) << y;
}

TEST(FoldBatchNorm, LeavesALayerWhoseOutputIsReadElsewhere) {
  const Graph g = Graph::from_json(R"({
    "inputs": [{"name": "x", "dtype": "float64"}],
    "outputs": ["y", "l"],
    "nodes": [
      {"name": "fc", "op": "nn.linear", "inputs": ["x", "fc.weight"], "outputs": ["l"]},
      {"name": "bn", "op": "nn.batch_norm", "inputs": ["l", "", "", "m", "v"], "outputs": ["y"]}
    ]})",
                                   "fold test");
  TensorMap stored{
      {"fc.weight", random_tensor({3, 2}, 1)}, {"m", random_tensor({3}, 2)}, {"v", positive({3}, 3)}};
  const auto [folded, count] = fold_batch_norm(test::builtin_plugins(), g, stored);
  EXPECT_EQ(count, 0);
  EXPECT_EQ(folded.nodes.size(), 2u);
}

// PointConv-style features [B, S, K, C]: nn.linear over C, then a channels-last batch norm.
TEST(FoldBatchNorm, ChannelsLastBatchNormFoldsIntoLinear) {
  const Graph g = Graph::from_json(R"({
    "inputs": [{"name": "x", "dtype": "float64"}],
    "outputs": ["y"],
    "nodes": [
      {"name": "fc", "op": "nn.linear", "inputs": ["x", "fc.weight", "fc.bias"], "outputs": ["l"]},
      {"name": "bn", "op": "nn.batch_norm", "inputs": ["l", "bn.weight", "bn.bias", "bn.mean", "bn.var"],
       "outputs": ["y"], "attrs": {"dim": -1, "eps": 0.01}}
    ]})",
                                   "fold test");
  TensorMap stored{{"fc.weight", random_tensor({5, 3}, 1)}, {"fc.bias", random_tensor({5}, 2)},
                   {"bn.weight", random_tensor({5}, 3)},    {"bn.bias", random_tensor({5}, 4)},
                   {"bn.mean", random_tensor({5}, 5)},      {"bn.var", positive({5}, 6)}};
  const Tensor x = random_tensor({2, 4, 6, 3}, 7);
  GraphRuntime plain(test::builtin_plugins(), g, stored);
  const Tensor want = plain.run({{"x", x}}).at("y");

  TensorMap folded_stored = stored;
  const auto [folded, count] = fold_batch_norm(test::builtin_plugins(), g, folded_stored);
  EXPECT_EQ(count, 1);
  ASSERT_EQ(folded.nodes.size(), 1u);
  EXPECT_EQ(folded.nodes[0].op, "nn.linear");
  GraphRuntime fast(test::builtin_plugins(), folded, folded_stored);
  EXPECT_TRUE(test::tensors_near<double>(fast.run({{"x", x}}).at("y"), want, 1e-10, 1e-10));
}

// nn.conv1d, then nn.batch_norm over dim `dim` of the conv's output [N, C, L].
Graph conv_then_batch_norm(int dim) {
  std::string json = R"({
    "inputs": [{"name": "x", "dtype": "float64"}],
    "outputs": ["y"],
    "nodes": [
      {"name": "conv", "op": "nn.conv1d", "inputs": ["x", "conv.weight", "conv.bias"], "outputs": ["c"]},
      {"name": "bn", "op": "nn.batch_norm", "inputs": ["c", "bn.weight", "bn.bias", "bn.mean", "bn.var"],
       "outputs": ["y"], "attrs": {"dim": DIM}}
    ]})";
  json.replace(json.find("DIM"), 3, std::to_string(dim));
  return Graph::from_json(json, "fold test");
}

// After a conv, dim -1 is a spatial dim: here the conv's output [2, 4, 4] has as many positions as
// channels, so only the dim tells that the batch norm's statistics are not the conv's channels'.
// dim -2 names dim 1 of that output and folds.
TEST(FoldBatchNorm, ChannelsLastBatchNormAfterConvStays) {
  const TensorMap stored{{"conv.weight", random_tensor({4, 3, 3}, 1)}, {"conv.bias", random_tensor({4}, 2)},
                         {"bn.weight", random_tensor({4}, 3)},         {"bn.bias", random_tensor({4}, 4)},
                         {"bn.mean", random_tensor({4}, 5)},           {"bn.var", positive({4}, 6)}};
  const Tensor x = random_tensor({2, 3, 6}, 7);
  for (const int dim : {-1, -2}) {
    SCOPED_TRACE("dim " + std::to_string(dim));
    const Graph g = conv_then_batch_norm(dim);
    GraphRuntime plain(test::builtin_plugins(), g, stored);
    const Tensor want = plain.run({{"x", x}}).at("y");
    TensorMap folded_stored = stored;
    const auto [folded, count] = fold_batch_norm(test::builtin_plugins(), g, folded_stored);
    EXPECT_EQ(count, dim == -1 ? 0 : 1);
    EXPECT_EQ(folded.nodes.size(), dim == -1 ? 2u : 1u);
    GraphRuntime fast(test::builtin_plugins(), folded, folded_stored);
    EXPECT_TRUE(test::tensors_near<double>(fast.run({{"x", x}}).at("y"), want, 1e-10, 1e-10));
  }
}

}  // namespace
}  // namespace pcv
