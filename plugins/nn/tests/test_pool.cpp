// nn.max_pool1d/2d/3d, nn.avg_pool1d/2d/3d, nn.global_max_pool and nn.global_avg_pool against
// the PyTorch golden file, backward against finite differences, and their errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <pcv/error.hpp>

#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;

const std::vector<std::string> kPoolOps = {"nn.max_pool1d",      "nn.max_pool2d",     "nn.max_pool3d",
                                           "nn.avg_pool1d",      "nn.avg_pool2d",     "nn.avg_pool3d",
                                           "nn.global_max_pool", "nn.global_avg_pool"};

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Pairwise distinct values, 0.1 apart in shuffled order: every window has a unique maximum that
// a finite-difference step cannot change.
Tensor distinct_tensor(Shape shape, std::uint64_t seed) {
  Tensor t(kFloat64, std::move(shape));
  std::vector<std::int64_t> order(static_cast<std::size_t>(t.numel()));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), std::mt19937_64(seed));
  for (std::int64_t i = 0; i < t.numel(); ++i)
    t.data<double>()[i] = 0.1 * static_cast<double>(order[static_cast<std::size_t>(i)]) - 2.0;
  return t;
}

Kernel kernel(const std::string& op, AttrMap attrs) {
  return test::builtin_plugins().create_kernel(op, attrs);
}

TEST(NnPool, MatchesGoldenInFloat64) {
  for (const std::string& op : kPoolOps) {
    SCOPED_TRACE(op);
    EXPECT_GT(test::expect_golden_cases<double>("nn/pool.json", test::kFloat64Tolerance, op), 0);
  }
}

TEST(NnPool, MatchesGoldenInFloat32) {
  for (const std::string& op : kPoolOps) {
    SCOPED_TRACE(op);
    EXPECT_GT(test::expect_golden_cases<float>("nn/pool.json", test::kFloat32Tolerance, op), 0);
  }
}

TEST(NnPool, MaxPoolBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(
      kernel("nn.max_pool1d", {{"kernel_size", Ints{3}}, {"stride", Ints{2}}, {"padding", Ints{1}}}),
      {distinct_tensor({2, 2, 9}, 1)});
  test::expect_backward_matches_differences(
      kernel("nn.max_pool2d", {{"kernel_size", Ints{3, 2}}, {"stride", Ints{1}}, {"ceil_mode", true}}),
      {distinct_tensor({1, 2, 5, 6}, 2)});
  test::expect_backward_matches_differences(
      kernel("nn.max_pool2d",
             {{"kernel_size", Ints{3}}, {"stride", Ints{2}}, {"padding", Ints{1}}, {"dilation", Ints{2, 1}}}),
      {distinct_tensor({1, 2, 7, 6}, 3)});
  test::expect_backward_matches_differences(
      kernel("nn.max_pool3d", {{"kernel_size", Ints{2}}, {"stride", Ints{1, 2, 2}}, {"ceil_mode", true}}),
      {distinct_tensor({1, 2, 3, 4, 5}, 4)});
}

TEST(NnPool, AvgPoolBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(
      kernel("nn.avg_pool1d", {{"kernel_size", Ints{3}}, {"stride", Ints{2}}, {"padding", Ints{1}}}),
      {distinct_tensor({2, 2, 9}, 5)});
  test::expect_backward_matches_differences(kernel("nn.avg_pool2d", {{"kernel_size", Ints{3}},
                                                                     {"stride", Ints{2}},
                                                                     {"padding", Ints{1}},
                                                                     {"ceil_mode", true},
                                                                     {"count_include_pad", false}}),
                                            {distinct_tensor({1, 2, 6, 7}, 6)});
  test::expect_backward_matches_differences(
      kernel("nn.avg_pool3d",
             {{"kernel_size", Ints{2, 3, 2}}, {"padding", Ints{0, 1, 1}}, {"ceil_mode", true}}),
      {distinct_tensor({1, 2, 3, 4, 5}, 7)});
}

TEST(NnPool, GlobalPoolBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.global_max_pool", {}),
                                            {distinct_tensor({2, 3, 7}, 8)});
  test::expect_backward_matches_differences(kernel("nn.global_max_pool", {{"keepdim", true}}),
                                            {distinct_tensor({2, 2, 3, 4}, 9)});
  test::expect_backward_matches_differences(kernel("nn.global_avg_pool", {}),
                                            {distinct_tensor({2, 3, 2, 2, 3}, 10)});
}

TEST(NnPool, MaxPoolBackwardSendsTiesToTheFirstMaximum) {
  const Kernel pool = kernel("nn.max_pool1d", {{"kernel_size", Ints{4}}, {"stride", Ints{2}}});
  const Tensor x = Tensor::from<double>({1, 1, 6}, {1, 3, 3, 2, 3, 0});
  const auto y = pool.forward({x});
  EXPECT_EQ(y[0].to_vector<double>(), (std::vector<double>{3, 3}));
  // Window [0, 4) picks index 1, window [2, 6) index 2: the first maximum of each.
  const auto dx = pool.backward({x}, y, {Tensor::from<double>({1, 1, 2}, {10, 100})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{0, 10, 100, 0, 0, 0}));
}

TEST(NnPool, MaxPool2dBackwardSendsTiesToTheFirstMaximumInScanOrder) {
  const Kernel pool = kernel("nn.max_pool2d", {{"kernel_size", Ints{2, 2}}, {"stride", Ints{1, 1}}});
  // Window (0, 0) holds 2 at (0, 1) and (1, 0): scan order (rows, then columns) picks (0, 1).
  const Tensor x = Tensor::from<double>({1, 1, 3, 3}, {0, 2, 2, 2, 0, 1, 0, 2, 2});
  const auto y = pool.forward({x});
  EXPECT_EQ(y[0].to_vector<double>(), (std::vector<double>{2, 2, 2, 2}));
  const auto dx = pool.backward({x}, y, {Tensor::from<double>({1, 1, 2, 2}, {1, 10, 100, 1000})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{0, 11, 0, 100, 0, 0, 0, 1000, 0}));
}

TEST(NnPool, MaxPoolPropagatesNaNInItsPlaneOnly) {
  const Kernel pool = kernel("nn.max_pool2d", {{"kernel_size", Ints{2, 2}}});
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const Tensor x = Tensor::from<double>({1, 2, 2, 4}, {1, nan, 5, 6, 3, 4, 7, 8,  //
                                                       1, 2, 5, 6, 3, 4, 7, 8});
  const auto y = pool.forward({x});
  const auto v = y[0].to_vector<double>();
  ASSERT_EQ(v.size(), 4u);
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ((std::vector<double>{v[1], v[2], v[3]}), (std::vector<double>{8, 4, 8}));
  // The gradient of a NaN window goes to the NaN, as PyTorch's does.
  const auto dx = pool.backward({x}, y, {Tensor::from<double>({1, 2, 1, 2}, {1, 2, 3, 4})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{0, 1, 0, 0, 0, 0, 0, 2,  //
                                                            0, 0, 0, 0, 0, 3, 0, 4}));
}

TEST(NnPool, CeilModeKeepsAWindowThatOverhangsAShortInput) {
  const Tensor x = Tensor::from<double>({1, 1, 2}, {1, 2});
  const AttrMap ceil = {{"kernel_size", Ints{3}}, {"stride", Ints{2}}, {"ceil_mode", true}};
  EXPECT_EQ(kernel("nn.max_pool1d", ceil).forward({x})[0].to_vector<double>(), std::vector<double>{2});
  // PyTorch's divisor: the window clipped to input plus padding, here 2.
  EXPECT_EQ(kernel("nn.avg_pool1d", ceil).forward({x})[0].to_vector<double>(), std::vector<double>{1.5});
  EXPECT_THAT(error_message([&] {
                kernel("nn.avg_pool1d", {{"kernel_size", Ints{3}}}).forward({x});
              }),
              HasSubstr("no window fits in spatial dim 0"));
}

TEST(NnPool, GlobalMaxPoolSplitsTheGradientAmongTies) {
  const Kernel pool = kernel("nn.global_max_pool", {});
  const Tensor x = Tensor::from<double>({1, 1, 4}, {2, 1, 2, 0});
  const auto y = pool.forward({x});
  const auto dx = pool.backward({x}, y, {Tensor::from<double>({1, 1}, {6})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{3, 0, 3, 0}));
}

TEST(NnPool, ResultsDoNotDependOnTheThreadCount) {
  const Kernel pool =
      kernel("nn.max_pool2d", {{"kernel_size", Ints{3}}, {"stride", Ints{1}}, {"padding", Ints{1}}});
  const Tensor x = distinct_tensor({2, 8, 40, 40}, 11);
  const auto run = [&](int threads) {
    RunOptions o;
    o.num_threads = threads;
    const auto y = pool.forward({x}, o);
    return pool.backward({x}, y, y, {}, o)[0].to_vector<double>();
  };
  EXPECT_EQ(run(1), run(2));
}

TEST(NnPool, RefusesBadAttributes) {
  EXPECT_THAT(error_message([] {
                kernel("nn.max_pool2d", {{"kernel_size", Ints{3}}, {"padding", Ints{2}}});
              }),
              HasSubstr("nn.max_pool2d: padding [2, 2] is more than half of kernel_size [3, 3]"));
  EXPECT_THAT(error_message([] {
                kernel("nn.avg_pool3d", {{"kernel_size", Ints{2, 2}}});
              }),
              HasSubstr("nn.avg_pool3d: attribute 'kernel_size' has 2 entries, expected 1 or 3"));
  EXPECT_THAT(error_message([] {
                kernel("nn.max_pool1d", {{"kernel_size", Ints{2}}, {"stride", Ints{0}}});
              }),
              HasSubstr("nn.max_pool1d: attribute 'stride' has entry 0, expected positive values"));
  EXPECT_THAT(error_message([] {
                kernel("nn.max_pool1d", {{"kernel_size", Ints{}}});
              }),
              HasSubstr("nn.max_pool1d: attribute 'kernel_size' has 0 entries"));
  EXPECT_THAT(error_message([] { kernel("nn.avg_pool1d", {}); }), HasSubstr("kernel_size"));
}

TEST(NnPool, RefusesBadShapes) {
  const Kernel pool = kernel("nn.max_pool2d", {{"kernel_size", Ints{3}}});
  EXPECT_THAT(error_message([&] {
                pool.forward({distinct_tensor({2, 3, 5}, 12)});
              }),
              HasSubstr("nn.max_pool2d: input 'x' has 3 dims, expected 4 ([N, C, H, W])"));
  EXPECT_THAT(error_message([&] {
                pool.forward({distinct_tensor({1, 1, 2, 5}, 13)});
              }),
              HasSubstr("is too small for kernel_size [3, 3]"));
  EXPECT_THAT(error_message([] {
                kernel("nn.global_avg_pool", {}).forward({distinct_tensor({2, 3}, 14)});
              }),
              HasSubstr("nn.global_avg_pool: input 'x' has 2 dims, expected at least 3"));
}

}  // namespace
}  // namespace pcv
