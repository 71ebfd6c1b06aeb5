// nn.add and nn.mul against the PyTorch golden file, and backward against finite differences.
#include <gtest/gtest.h>

#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

TEST(NnElementwise, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/elementwise.json", test::kFloat64Tolerance), 0);
}
TEST(NnElementwise, MatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/elementwise.json", test::kFloat32Tolerance), 0);
}

TEST(NnElementwise, AddBackwardMatchesFiniteDifferencesWhenBroadcasting) {
  const Tensor a = Tensor::from<double>({2, 1, 3}, {0.1, -0.2, 0.3, 1.4, -1.5, 2.6});
  const Tensor b = Tensor::from<double>({4, 1}, {1.0, -2.0, 0.5, 3.0});
  test::expect_backward_matches_differences(test::builtin_plugins().create_kernel("nn.add"), {a, b});
}

TEST(NnElementwise, MulBackwardMatchesFiniteDifferencesWhenBroadcasting) {
  const Tensor a = Tensor::from<double>({2, 1, 3}, {0.1, -0.2, 0.3, 1.4, -1.5, 2.6});
  const Tensor b = Tensor::from<double>({4, 1}, {1.0, -2.0, 0.5, 3.0});
  test::expect_backward_matches_differences(test::builtin_plugins().create_kernel("nn.mul"), {a, b});
}

TEST(NnElementwise, AddSkipsGradientsThatAreNotWanted) {
  Kernel add = test::builtin_plugins().create_kernel("nn.add");
  const Tensor a = Tensor::from<float>({2}, {1, 2});
  const Tensor b = Tensor::from<float>({}, {10});
  const auto y = add.forward({a, b});
  EXPECT_EQ(y[0].to_vector<float>(), (std::vector<float>{11, 12}));
  const auto grads = add.backward({a, b}, y, {Tensor::from<float>({2}, {1, 3})}, {false, true});
  EXPECT_FALSE(grads[0].defined());
  EXPECT_EQ(grads[1].to_vector<float>(), std::vector<float>{4});
}

}  // namespace
}  // namespace pcv
