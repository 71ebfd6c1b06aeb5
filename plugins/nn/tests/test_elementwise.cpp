// nn.relu and nn.add against the float64 NumPy golden file, in float64 and float32, and
// backward against finite differences.
#include <pcv/registry.hpp>

#include <gtest/gtest.h>

#include "support/golden.hpp"
#include "support/gradcheck.hpp"
#include "support/tensor_matchers.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

const nlohmann::json& golden() {
  static const nlohmann::json j = test::read_json(PCV_NN_GOLDEN_DIR "/elementwise.json");
  return j;
}

template <class T>
void check_against_golden(double tol) {
  ASSERT_FALSE(golden().at("cases").empty());
  for (const auto& c : golden().at("cases")) {
    SCOPED_TRACE(c.at("op").get<std::string>() + " case with input shape " +
                 c.at("inputs")[0].at("shape").dump());
    Kernel k = test::builtin_plugins().create_kernel(c.at("op").get<std::string>());
    const auto inputs = test::tensors_from_json<T>(c.at("inputs"));
    const auto expected = test::tensors_from_json<T>(c.at("outputs"));
    const auto outputs = k.forward(inputs);
    ASSERT_EQ(outputs.size(), expected.size());
    for (std::size_t i = 0; i < outputs.size(); ++i)
      EXPECT_TRUE(test::tensors_near<T>(outputs[i], expected[i], tol));

    const auto grads = k.backward(inputs, outputs, test::tensors_from_json<T>(c.at("grad_outputs")));
    const auto expected_grads = test::tensors_from_json<T>(c.at("grad_inputs"));
    ASSERT_EQ(grads.size(), expected_grads.size());
    for (std::size_t i = 0; i < grads.size(); ++i)
      EXPECT_TRUE(test::tensors_near<T>(grads[i], expected_grads[i], tol));
  }
}

TEST(NnElementwise, MatchesGoldenInFloat64) { check_against_golden<double>(1e-12); }
TEST(NnElementwise, MatchesGoldenInFloat32) { check_against_golden<float>(1e-5); }

TEST(NnElementwise, ReluGradientAtZeroIsZero) {
  Kernel relu = test::builtin_plugins().create_kernel("nn.relu");
  const Tensor x = Tensor::from<double>({3}, {-1.0, 0.0, 1.0});
  const auto y = relu.forward({x});
  const auto dx = relu.backward({x}, y, {Tensor::from<double>({3}, {5.0, 5.0, 5.0})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{0.0, 0.0, 5.0}));
}

TEST(NnElementwise, ReluBackwardMatchesFiniteDifferences) {
  // Values at least 0.05 away from the kink at 0.
  const Tensor x = Tensor::from<double>({2, 3}, {-1.5, 0.3, 2.0, -0.05, 0.7, -3.0});
  test::expect_backward_matches_differences(test::builtin_plugins().create_kernel("nn.relu"), {x});
}

TEST(NnElementwise, AddBackwardMatchesFiniteDifferencesWhenBroadcasting) {
  const Tensor a = Tensor::from<double>({2, 1, 3}, {0.1, -0.2, 0.3, 1.4, -1.5, 2.6});
  const Tensor b = Tensor::from<double>({4, 1}, {1.0, -2.0, 0.5, 3.0});
  test::expect_backward_matches_differences(test::builtin_plugins().create_kernel("nn.add"), {a, b});
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
