// nn.linear and nn.matmul against the PyTorch golden file, backward against finite differences,
// and error messages.
#include <pcv/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <random>
#include <string>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

Tensor random_doubles(Shape shape, std::mt19937& rng) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = uniform(rng);
  return t;
}

using test::error_of;

Kernel kernel(const std::string& op) { return test::builtin_plugins().create_kernel(op); }

TEST(NnDense, LinearMatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/linear_matmul.json", test::kFloat64Tolerance, "nn.linear"),
            0);
}
TEST(NnDense, LinearMatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/linear_matmul.json", test::kFloat32Tolerance, "nn.linear"),
            0);
}
TEST(NnDense, MatmulMatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/linear_matmul.json", test::kFloat64Tolerance, "nn.matmul"),
            0);
}
TEST(NnDense, MatmulMatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/linear_matmul.json", test::kFloat32Tolerance, "nn.matmul"),
            0);
}

TEST(NnDense, LinearBackwardMatchesFiniteDifferences) {
  std::mt19937 rng(1);
  test::expect_backward_matches_differences(
      kernel("nn.linear"),
      {random_doubles({2, 3, 5}, rng), random_doubles({4, 5}, rng), random_doubles({4}, rng)});
  test::expect_backward_matches_differences(kernel("nn.linear"),
                                            {random_doubles({5}, rng), random_doubles({3, 5}, rng)});
}

TEST(NnDense, MatmulBackwardMatchesFiniteDifferencesWithBroadcastBatchDims) {
  std::mt19937 rng(2);
  const Kernel matmul = kernel("nn.matmul");
  test::expect_backward_matches_differences(
      matmul, {random_doubles({2, 1, 3, 4}, rng), random_doubles({3, 4, 2}, rng)});
  test::expect_backward_matches_differences(matmul,
                                            {random_doubles({3, 5}, rng), random_doubles({2, 1, 5, 2}, rng)});
  test::expect_backward_matches_differences(matmul,
                                            {random_doubles({2, 3, 4}, rng), random_doubles({4, 2}, rng)});
}

TEST(NnDense, MatmulBackwardMatchesFiniteDifferencesWithVectors) {
  std::mt19937 rng(3);
  const Kernel matmul = kernel("nn.matmul");
  test::expect_backward_matches_differences(matmul,
                                            {random_doubles({4}, rng), random_doubles({2, 4, 3}, rng)});
  test::expect_backward_matches_differences(matmul,
                                            {random_doubles({2, 3, 4}, rng), random_doubles({4}, rng)});
  test::expect_backward_matches_differences(matmul, {random_doubles({4}, rng), random_doubles({4}, rng)});
}

TEST(NnDense, MatmulOfVectorsIsAScalar) {
  const auto y =
      kernel("nn.matmul").forward({Tensor::from<float>({3}, {1, 2, 3}), Tensor::from<float>({3}, {4, 5, 6})});
  EXPECT_EQ(y[0].shape(), Shape{});
  EXPECT_EQ(y[0].to_vector<float>(), std::vector<float>{32});
}

TEST(NnDense, LinearWithEmptyBatchGivesZeroWeightGradient) {
  const Kernel linear = kernel("nn.linear");
  const std::vector<Tensor> inputs{Tensor(kFloat32, {0, 3}), Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6}),
                                   Tensor::from<float>({2}, {1, 2})};
  const auto y = linear.forward(inputs);
  EXPECT_EQ(y[0].shape(), (Shape{0, 2}));
  const auto grads = linear.backward(inputs, y, {Tensor(kFloat32, {0, 2})});
  EXPECT_EQ(grads[1].to_vector<float>(), std::vector<float>(6, 0));
  EXPECT_EQ(grads[2].to_vector<float>(), std::vector<float>(2, 0));
}

TEST(NnDense, LinearRejectsFeatureMismatch) {
  EXPECT_THAT(error_of([] {
                kernel("nn.linear").forward({Tensor(kFloat32, {2, 3}), Tensor(kFloat32, {4, 5})});
              }),
              ::testing::HasSubstr("has 3 features but 'weight' [4, 5] expects 5"));
}

TEST(NnDense, LinearRejectsBadWeightAndBias) {
  EXPECT_THAT(error_of([] {
                kernel("nn.linear").forward({Tensor(kFloat32, {2, 3}), Tensor(kFloat32, {3})});
              }),
              ::testing::HasSubstr("input 'weight' has 1 dims, expected 2"));
  EXPECT_THAT(error_of([] {
                kernel("nn.linear")
                    .forward({Tensor(kFloat32, {2, 3}), Tensor(kFloat32, {4, 3}), Tensor(kFloat32, {3})});
              }),
              ::testing::HasSubstr("input 'bias' must be [4]"));
}

TEST(NnDense, MatmulRejectsInnerDimensionMismatch) {
  EXPECT_THAT(error_of([] {
                kernel("nn.matmul").forward({Tensor(kFloat32, {2, 3}), Tensor(kFloat32, {4, 5})});
              }),
              ::testing::HasSubstr("3 columns of 'a' vs 4 rows of 'b'"));
}

TEST(NnDense, MatmulRejectsBatchDimsThatDoNotBroadcast) {
  EXPECT_THAT(error_of([] {
                kernel("nn.matmul").forward({Tensor(kFloat32, {2, 2, 3}), Tensor(kFloat32, {3, 3, 4})});
              }),
              ::testing::HasSubstr("batch dimensions: shapes [2] and [3] do not broadcast"));
  EXPECT_THAT(error_of([] {
                kernel("nn.matmul").forward({Tensor(kFloat32, {}), Tensor(kFloat32, {3})});
              }),
              ::testing::HasSubstr("both operands need at least 1 dim"));
}

}  // namespace
}  // namespace pcv
