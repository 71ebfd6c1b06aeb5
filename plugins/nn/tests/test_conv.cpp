// nn.conv1d/2d/3d against the PyTorch golden file, backward against finite differences, the
// oneDNN float32 path against the reference (vol2col + GEMM) path, and error messages.
#include <pcv/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"
#include "support/test_tensors.hpp"

namespace pcv {
namespace {

Kernel conv_kernel(const std::string& op, const AttrMap& attrs = {}) {
  return test::builtin_plugins().create_kernel(op, attrs);
}

using test::error_of;

// ------------------------------------------------------------------ golden files

TEST(NnConv, Conv1dMatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/conv.json", test::kFloat64Tolerance, "nn.conv1d"), 0);
}
TEST(NnConv, Conv1dMatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/conv.json", test::kFloat32Tolerance, "nn.conv1d"), 0);
}
TEST(NnConv, Conv2dMatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/conv.json", test::kFloat64Tolerance, "nn.conv2d"), 0);
}
TEST(NnConv, Conv2dMatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/conv.json", test::kFloat32Tolerance, "nn.conv2d"), 0);
}
TEST(NnConv, Conv3dMatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/conv.json", test::kFloat64Tolerance, "nn.conv3d"), 0);
}
TEST(NnConv, Conv3dMatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/conv.json", test::kFloat32Tolerance, "nn.conv3d"), 0);
}

// ------------------------------------------------------------------ finite differences

TEST(NnConv, Conv1dBackwardMatchesFiniteDifferencesWithGroupsStrideDilation) {
  std::mt19937 rng(1);
  const Kernel conv = conv_kernel("nn.conv1d", {{"stride", std::vector<std::int64_t>{2}},
                                                {"padding", std::vector<std::int64_t>{2}},
                                                {"dilation", std::vector<std::int64_t>{2}},
                                                {"groups", std::int64_t{2}}});
  test::expect_backward_matches_differences(
      conv, {test::uniform_tensor(kFloat64, {2, 4, 9}, rng), test::uniform_tensor(kFloat64, {6, 2, 3}, rng),
             test::uniform_tensor(kFloat64, {6}, rng)});
}

TEST(NnConv, Conv2dBackwardMatchesFiniteDifferencesWithGroupsAndStride) {
  std::mt19937 rng(2);
  const Kernel conv = conv_kernel("nn.conv2d", {{"stride", std::vector<std::int64_t>{2, 1}},
                                                {"padding", std::vector<std::int64_t>{1, 0}},
                                                {"groups", std::int64_t{2}}});
  test::expect_backward_matches_differences(
      conv, {test::uniform_tensor(kFloat64, {2, 4, 5, 6}, rng),
             test::uniform_tensor(kFloat64, {4, 2, 3, 2}, rng), test::uniform_tensor(kFloat64, {4}, rng)});
}

TEST(NnConv, Conv3dBackwardMatchesFiniteDifferencesWithGroupsAndStride) {
  std::mt19937 rng(3);
  const Kernel conv = conv_kernel("nn.conv3d", {{"stride", std::vector<std::int64_t>{2, 1, 2}},
                                                {"padding", std::vector<std::int64_t>{1}},
                                                {"groups", std::int64_t{2}}});
  test::expect_backward_matches_differences(
      conv, {test::uniform_tensor(kFloat64, {1, 4, 4, 3, 5}, rng),
             test::uniform_tensor(kFloat64, {2, 2, 2, 2, 3}, rng), test::uniform_tensor(kFloat64, {2}, rng)});
}

TEST(NnConv, Conv2dBackwardMatchesFiniteDifferencesWithoutBias) {
  std::mt19937 rng(4);
  const Kernel conv = conv_kernel("nn.conv2d", {{"dilation", std::vector<std::int64_t>{1, 2}}});
  test::expect_backward_matches_differences(conv, {test::uniform_tensor(kFloat64, {2, 3, 4, 6}, rng),
                                                   test::uniform_tensor(kFloat64, {2, 3, 2, 2}, rng)});
}

// ------------------------------------------------------------------ oneDNN vs reference path

// The float32 reference path runs only in kernels created while PCV_NN_CONV_REFERENCE is set.
Kernel reference_kernel(const std::string& op, const AttrMap& attrs) {
  setenv("PCV_NN_CONV_REFERENCE", "1", 1);
  Kernel k = conv_kernel(op, attrs);
  unsetenv("PCV_NN_CONV_REFERENCE");
  return k;
}

struct CrossCheckCase {
  std::string op;
  Shape x, weight;
  AttrMap attrs;
  bool bias;
};

void expect_onednn_matches_reference(const CrossCheckCase& c, int threads) {
  SCOPED_TRACE(c.op + " x " + shape_string(c.x) + " weight " + shape_string(c.weight) + " threads " +
               std::to_string(threads));
  std::mt19937 rng(11);
  const std::vector<Tensor> inputs{test::uniform_tensor(kFloat32, c.x, rng),
                                   test::uniform_tensor(kFloat32, c.weight, rng),
                                   c.bias ? test::uniform_tensor(kFloat32, {c.weight[0]}, rng) : Tensor()};
  const Kernel fast = conv_kernel(c.op, c.attrs);
  const Kernel reference = reference_kernel(c.op, c.attrs);
  RunOptions options;
  options.num_threads = threads;
  for (int call = 0; call < 2; ++call) {  // the second call runs on cached primitives
    const auto y = fast.forward(inputs, options);
    const auto y_ref = reference.forward(inputs, options);
    EXPECT_LE(test::relative_error(test::as_doubles(y[0]), test::as_doubles(y_ref[0])), 1e-5);
    const std::vector<Tensor> dy{test::uniform_tensor(kFloat32, y[0].shape(), rng)};
    const std::vector<bool> wanted{true, true, c.bias};
    const auto grads = fast.backward(inputs, y, dy, wanted, options);
    const auto grads_ref = reference.backward(inputs, y_ref, dy, wanted, options);
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (!wanted[i]) continue;
      EXPECT_LE(test::relative_error(test::as_doubles(grads[i]), test::as_doubles(grads_ref[i])), 1e-5)
          << "gradient of input " << i;
    }
  }
}

TEST(NnConv, OnednnMatchesReferencePathOnRandomShapes) {
  using Ints = std::vector<std::int64_t>;
  const std::vector<CrossCheckCase> cases{
      {"nn.conv1d",
       {3, 6, 17},
       {8, 3, 4},
       {{"stride", Ints{3}}, {"padding", Ints{2}}, {"groups", std::int64_t{2}}},
       true},
      {"nn.conv2d", {2, 5, 13, 11}, {7, 5, 3, 3}, {{"padding", Ints{1}}}, true},
      {"nn.conv2d",
       {2, 8, 9, 10},
       {8, 1, 3, 3},
       {{"groups", std::int64_t{8}}, {"dilation", Ints{2, 1}}},
       false},
      {"nn.conv2d", {1, 16, 7, 7}, {24, 16, 1, 1}, {}, true},
      {"nn.conv3d", {2, 1, 12, 12, 12}, {8, 1, 5, 5, 5}, {{"stride", Ints{2}}}, true},
      {"nn.conv3d",
       {2, 8, 7, 6, 5},
       {8, 8, 3, 3, 3},
       {{"padding", Ints{1, 0, 1}}, {"stride", Ints{1, 2, 1}}},
       true},
      {"nn.conv3d",
       {1, 6, 5, 6, 7},
       {9, 2, 2, 3, 2},
       {{"groups", std::int64_t{3}}, {"dilation", Ints{2}}},
       false},
  };
  for (const auto& c : cases) {
    expect_onednn_matches_reference(c, 1);
    expect_onednn_matches_reference(c, 2);
  }
}

TEST(NnConv, SkipsGradientsThatAreNotWanted) {
  std::mt19937 rng(5);
  const Kernel conv = conv_kernel("nn.conv2d");
  const std::vector<Tensor> inputs{test::uniform_tensor(kFloat32, {1, 2, 5, 5}, rng),
                                   test::uniform_tensor(kFloat32, {3, 2, 3, 3}, rng),
                                   test::uniform_tensor(kFloat32, {3}, rng)};
  const auto y = conv.forward(inputs);
  const std::vector<Tensor> dy{test::uniform_tensor(kFloat32, y[0].shape(), rng)};
  const auto all = conv.backward(inputs, y, dy);
  const auto bias_only = conv.backward(inputs, y, dy, {false, false, true});
  EXPECT_FALSE(bias_only[0].defined());
  EXPECT_FALSE(bias_only[1].defined());
  EXPECT_LE(test::relative_error(test::as_doubles(bias_only[2]), test::as_doubles(all[2])), 1e-6);
  const auto weights_only = conv.backward(inputs, y, dy, {false, true, false});
  EXPECT_LE(test::relative_error(test::as_doubles(weights_only[1]), test::as_doubles(all[1])), 1e-6);
}

TEST(NnConv, EmptyBatchGivesEmptyOutputAndZeroWeightGradient) {
  std::mt19937 rng(6);
  for (pcv_dtype dtype : {kFloat32, kFloat64}) {
    const Kernel conv = conv_kernel("nn.conv1d");
    const std::vector<Tensor> inputs{Tensor(dtype, {0, 2, 5}), test::uniform_tensor(dtype, {3, 2, 3}, rng),
                                     test::uniform_tensor(dtype, {3}, rng)};
    const auto y = conv.forward(inputs);
    EXPECT_EQ(y[0].shape(), (Shape{0, 3, 3}));
    const auto grads = conv.backward(inputs, y, {Tensor(dtype, {0, 3, 3})});
    EXPECT_EQ(test::as_doubles(grads[1]), std::vector<double>(18, 0.0));
    EXPECT_EQ(test::as_doubles(grads[2]), std::vector<double>(3, 0.0));
  }
}

TEST(NnConv, ConcurrentCallsOnOneKernelMatchSequentialOnes) {
  std::mt19937 rng(7);
  const Kernel conv = conv_kernel("nn.conv2d", {{"padding", std::vector<std::int64_t>{1}}});
  // Two shapes, so the threads also race to create cached primitives.
  const std::vector<std::vector<Tensor>> inputs{
      {test::uniform_tensor(kFloat32, {2, 4, 9, 9}, rng), test::uniform_tensor(kFloat32, {8, 4, 3, 3}, rng),
       test::uniform_tensor(kFloat32, {8}, rng)},
      {test::uniform_tensor(kFloat32, {1, 4, 6, 11}, rng), test::uniform_tensor(kFloat32, {8, 4, 3, 3}, rng),
       Tensor()}};
  std::vector<std::vector<Tensor>> concurrent(inputs.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < inputs.size(); ++i)
    threads.emplace_back([&, i] {
      for (int call = 0; call < 5; ++call) concurrent[i] = conv.forward(inputs[i]);
    });
  for (auto& t : threads) t.join();
  for (std::size_t i = 0; i < inputs.size(); ++i)
    EXPECT_EQ(test::as_doubles(concurrent[i][0]), test::as_doubles(conv.forward(inputs[i])[0]))
        << "shape " << i;
}

// ------------------------------------------------------------------ errors

TEST(NnConv, RejectsInputOfWrongRank) {
  const Kernel conv = conv_kernel("nn.conv2d");
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {2, 3, 5}), Tensor(kFloat32, {4, 3, 3, 3})});
              }),
              ::testing::HasSubstr("input 'x' has 3 dims, expected 4 ([N, C, H, W])"));
}

TEST(NnConv, RejectsEmptySpatialDims) {
  const Kernel conv = conv_kernel("nn.conv1d", {{"padding", std::vector<std::int64_t>{2}}});
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {1, 2, 0}), Tensor(kFloat32, {4, 2, 3})});
              }),
              ::testing::HasSubstr("has an empty channel or spatial dim"));
}

TEST(NnConv, RejectsChannelMismatch) {
  const Kernel conv = conv_kernel("nn.conv1d");
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {1, 3, 8}), Tensor(kFloat32, {4, 2, 3})});
              }),
              ::testing::HasSubstr("has 3 channels"));
}

TEST(NnConv, RejectsGroupsThatDoNotDivideChannels) {
  const Kernel conv = conv_kernel("nn.conv1d", {{"groups", std::int64_t{2}}});
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {1, 4, 8}), Tensor(kFloat32, {3, 2, 3})});
              }),
              ::testing::HasSubstr("groups = 2 must divide"));
}

TEST(NnConv, RejectsBiasOfWrongSize) {
  const Kernel conv = conv_kernel("nn.conv1d");
  EXPECT_THAT(
      error_of([&] {
        conv.forward({Tensor(kFloat32, {1, 2, 8}), Tensor(kFloat32, {3, 2, 3}), Tensor(kFloat32, {4})});
      }),
      ::testing::HasSubstr("input 'bias' has 4 entries, expected C_out = 3"));
}

TEST(NnConv, RejectsKernelLargerThanPaddedInput) {
  const Kernel conv = conv_kernel("nn.conv2d", {{"padding", std::vector<std::int64_t>{1}}});
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {1, 1, 8, 2}), Tensor(kFloat32, {1, 1, 3, 5})});
              }),
              ::testing::HasSubstr("output would be empty in spatial dim 1"));
}

TEST(NnConv, RejectsMixedDtypes) {
  const Kernel conv = conv_kernel("nn.conv1d");
  EXPECT_THAT(error_of([&] {
                conv.forward({Tensor(kFloat32, {1, 2, 8}), Tensor(kFloat64, {3, 2, 3})});
              }),
              ::testing::HasSubstr("is float64 but input 'x' is float32"));
}

TEST(NnConv, RejectsBadAttributes) {
  using Ints = std::vector<std::int64_t>;
  EXPECT_THAT(error_of([] {
                conv_kernel("nn.conv2d", {{"stride", Ints{1, 2, 3}}});
              }),
              ::testing::HasSubstr("attribute 'stride' has 3 entries, expected 1 or 2"));
  EXPECT_THAT(error_of([] {
                conv_kernel("nn.conv3d", {{"stride", Ints{0}}});
              }),
              ::testing::HasSubstr("attribute 'stride' = 0 in dim 0, must be positive"));
  EXPECT_THAT(error_of([] {
                conv_kernel("nn.conv1d", {{"padding", Ints{-1}}});
              }),
              ::testing::HasSubstr("attribute 'padding' = -1 in dim 0, must not be negative"));
  EXPECT_THAT(error_of([] {
                conv_kernel("nn.conv2d", {{"dilation", Ints{1, 0}}});
              }),
              ::testing::HasSubstr("attribute 'dilation' = 0 in dim 1, must be positive"));
  EXPECT_THAT(error_of([] {
                conv_kernel("nn.conv2d", {{"groups", std::int64_t{0}}});
              }),
              ::testing::HasSubstr("attribute 'groups' = 0, must be positive"));
}

}  // namespace
}  // namespace pcv
