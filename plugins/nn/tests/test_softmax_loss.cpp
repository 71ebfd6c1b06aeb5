// nn.softmax, nn.log_softmax, nn.cross_entropy and nn.nll_loss against the PyTorch golden file,
// backward against finite differences, numerical stability, thread-count independence and errors.
#include <pcv/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;

Kernel kernel(const std::string& op, const AttrMap& attrs = {}) {
  return test::builtin_plugins().create_kernel(op, attrs);
}

// Seeded normal values times `scale`, in float64.
Tensor random_tensor(Shape shape, std::uint64_t seed, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = scale * normal(rng);
  return t;
}

Tensor targets(Shape shape, std::vector<std::int64_t> values) {
  return Tensor::from<std::int64_t>(std::move(shape), std::span<const std::int64_t>(values));
}

using test::error_of;

// ------------------------------------------------------------------ golden files

class NnSoftmaxLossGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(NnSoftmaxLossGolden, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/softmax_loss.json", test::kFloat64Tolerance, GetParam()),
            0);
}

TEST_P(NnSoftmaxLossGolden, MatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/softmax_loss.json", test::kFloat32Tolerance, GetParam()), 0);
}

// "nn.softmax" is not a prefix of "nn.log_softmax", so each op runs only its own cases.
INSTANTIATE_TEST_SUITE_P(NnSoftmaxLoss, NnSoftmaxLossGolden,
                         ::testing::Values("nn.softmax", "nn.log_softmax", "nn.cross_entropy", "nn.nll_loss"),
                         [](const auto& info) { return info.param.substr(3); });

// ------------------------------------------------------------------ softmax

TEST(NnSoftmaxLoss, SoftmaxBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.softmax", {{"dim", std::int64_t{1}}}),
                                            {random_tensor({2, 3, 4}, 1, 2.0)});
}

TEST(NnSoftmaxLoss, LogSoftmaxBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.log_softmax", {{"dim", std::int64_t{0}}}),
                                            {random_tensor({3, 2, 2}, 2, 2.0)});
  test::expect_backward_matches_differences(kernel("nn.log_softmax"), {random_tensor({2, 5}, 3, 2.0)});
}

TEST(NnSoftmaxLoss, SoftmaxIsStableForLargeInputs) {
  const Tensor big = Tensor::from<float>({1, 3}, {1000.0f, 1001.0f, 1002.0f});
  const Tensor small = Tensor::from<float>({1, 3}, {0.0f, 1.0f, 2.0f});
  const auto y = kernel("nn.softmax").forward({big})[0].to_vector<float>();
  const auto expected = kernel("nn.softmax").forward({small})[0].to_vector<float>();
  for (std::size_t i = 0; i < y.size(); ++i) EXPECT_NEAR(y[i], expected[i], 1e-7);
  const auto log_y =
      kernel("nn.log_softmax").forward({Tensor::from<double>({2}, {-1000.0, 1000.0})})[0].to_vector<double>();
  EXPECT_DOUBLE_EQ(log_y[0], -2000.0);
  EXPECT_DOUBLE_EQ(log_y[1], 0.0);
}

TEST(NnSoftmaxLoss, SoftmaxDoesNotDependOnTheThreadCount) {
  const Tensor x = random_tensor({4, 300, 50}, 5, 3.0);
  RunOptions one, two;
  one.num_threads = 1;
  two.num_threads = 2;
  for (const char* op : {"nn.softmax", "nn.log_softmax"}) {
    const Kernel k = kernel(op, {{"dim", std::int64_t{1}}});
    const auto y1 = k.forward({x}, one);
    const auto y2 = k.forward({x}, two);
    EXPECT_EQ(y1[0].to_vector<double>(), y2[0].to_vector<double>()) << op;
    const Tensor dy = random_tensor(x.shape(), 6);
    EXPECT_EQ(k.backward({x}, y1, {dy}, {}, one)[0].to_vector<double>(),
              k.backward({x}, y2, {dy}, {}, two)[0].to_vector<double>())
        << op;
  }
}

TEST(NnSoftmaxLoss, SoftmaxRefusesDimOutOfRangeAndIntegers) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.softmax", {{"dim", std::int64_t{3}}}).forward({random_tensor({2, 3, 4}, 1)});
              }),
              HasSubstr("dim = 3 is out of range"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.log_softmax").forward({targets({2}, {1, 2})});
              }),
              HasSubstr("input 'x' has dtype int64"));
}

// ------------------------------------------------------------------ losses: gradients

TEST(NnSoftmaxLoss, CrossEntropyBackwardMatchesFiniteDifferences) {
  const Tensor x = random_tensor({3, 4, 2}, 7, 2.0);
  const Tensor t = targets({3, 2}, {0, 3, -100, 2, 1, 1});
  const Tensor w = Tensor::from<double>({4}, {0.5, 1.5, 1.0, 2.0});
  for (const char* reduction : {"mean", "sum", "none"}) {
    SCOPED_TRACE(reduction);
    test::expect_backward_matches_differences(
        kernel("nn.cross_entropy", {{"reduction", std::string(reduction)}, {"label_smoothing", 0.2}}),
        {x, t, w});
    test::expect_backward_matches_differences(
        kernel("nn.cross_entropy", {{"reduction", std::string(reduction)}}), {x, t, Tensor()});
  }
}

TEST(NnSoftmaxLoss, NllLossBackwardMatchesFiniteDifferences) {
  const Tensor x = random_tensor({4, 3}, 8);
  const Tensor t = targets({4}, {2, 1, 0, 2});
  const Tensor w = Tensor::from<double>({3}, {0.3, 1.2, 0.8});
  for (const char* reduction : {"mean", "sum", "none"}) {
    SCOPED_TRACE(reduction);
    test::expect_backward_matches_differences(
        kernel("nn.nll_loss", {{"reduction", std::string(reduction)}, {"ignore_index", std::int64_t{1}}}),
        {x, t, w});
  }
}

// ------------------------------------------------------------------ losses: semantics

TEST(NnSoftmaxLoss, CrossEntropyIsNllLossOfLogSoftmax) {
  const Tensor x = random_tensor({2, 5, 4000}, 9, 2.0);  // big enough to use both threads
  std::vector<std::int64_t> t(8000);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = i % 7 == 3 ? -100 : static_cast<std::int64_t>(i * 7 % 5);
  const Tensor target = targets({2, 4000}, t);
  const Tensor w = Tensor::from<double>({5}, {0.5, 1.5, 1.0, 2.0, 0.7});
  RunOptions two;
  two.num_threads = 2;
  const Tensor log_p = kernel("nn.log_softmax", {{"dim", std::int64_t{1}}}).forward({x}, two)[0];
  for (const char* reduction : {"mean", "sum", "none"}) {
    SCOPED_TRACE(reduction);
    const AttrMap attrs{{"reduction", std::string(reduction)}};
    const Tensor ce = kernel("nn.cross_entropy", attrs).forward({x, target, w}, two)[0];
    const Tensor nll = kernel("nn.nll_loss", attrs).forward({log_p, target, w}, two)[0];
    EXPECT_TRUE(test::tensors_near<double>(ce, nll, 1e-12, 1e-12));
  }
}

// Without class weights, the mean of a smoothed loss divides both parts by the number of targets
// that are not ignored (PyTorch's behaviour); ignored samples add nothing.
TEST(NnSoftmaxLoss, SmoothedMeanWithoutWeightsDividesByCountedTargets) {
  const Tensor x = random_tensor({4, 3}, 10, 2.0);
  const Tensor t = targets({4}, {2, -100, 0, 1});
  const double eps = 0.3;
  const Tensor log_p = kernel("nn.log_softmax").forward({x})[0];
  const double* lp = log_p.data<double>();
  double total = 0;
  for (int n : {0, 2, 3}) {
    const std::int64_t target = t.data<std::int64_t>()[n];
    total += -(1 - eps) * lp[n * 3 + target] - eps / 3 * (lp[n * 3] + lp[n * 3 + 1] + lp[n * 3 + 2]);
  }
  const Tensor loss = kernel("nn.cross_entropy", {{"label_smoothing", eps}}).forward({x, t})[0];
  EXPECT_EQ(loss.shape(), Shape{});
  EXPECT_NEAR(loss.data<double>()[0], total / 3, 1e-12);
}

TEST(NnSoftmaxLoss, MeanOverOnlyIgnoredTargetsIsNanWithZeroGradient) {
  const Tensor x = random_tensor({2, 3}, 12);
  const Tensor t = targets({2}, {-100, -100});
  for (const char* op : {"nn.cross_entropy", "nn.nll_loss"}) {
    const Kernel loss = kernel(op);
    const auto y = loss.forward({x, t});
    EXPECT_TRUE(std::isnan(y[0].data<double>()[0])) << op;
    const auto dx = loss.backward({x, t}, y, {Tensor::from<double>({}, {1.0})}, {true, false})[0];
    for (double g : dx.to_vector<double>()) EXPECT_EQ(g, 0.0) << op;
  }
}

TEST(NnSoftmaxLoss, UnreducedLossHasTheTargetShape) {
  const auto y = kernel("nn.cross_entropy", {{"reduction", std::string("none")}})
                     .forward({random_tensor({2, 3, 4, 5}, 13), Tensor(kInt64, {2, 4, 5})});
  EXPECT_EQ(y[0].shape(), (Shape{2, 4, 5}));
}

// ------------------------------------------------------------------ losses: errors

TEST(NnSoftmaxLoss, TargetOutOfRangeIsNamedWithItsPosition) {
  const Tensor x = random_tensor({2, 5, 3}, 14);
  const Tensor t = targets({2, 3}, {0, 1, 2, 3, 4, 5});
  for (const char* op : {"nn.cross_entropy", "nn.nll_loss"}) {
    const std::string message = error_of([&] { kernel(op).forward({x, t}); });
    EXPECT_THAT(message, HasSubstr("target[1, 2] = 5 is not a class index in [0, 5)")) << op;
  }
  EXPECT_THAT(error_of([&] {
                kernel("nn.nll_loss").forward({random_tensor({2, 3}, 1), targets({2}, {-1, 0})});
              }),
              HasSubstr("target[0] = -1"));
}

TEST(NnSoftmaxLoss, BadAttributesAreRefused) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.cross_entropy", {{"label_smoothing", 1.5}});
              }),
              HasSubstr("'label_smoothing' = 1.5 is out of range [0, 1]"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.nll_loss", {{"reduction", std::string("avg")}});
              }),
              HasSubstr("'reduction' = 'avg' is not one of"));
}

TEST(NnSoftmaxLoss, BadShapesAndDtypesAreRefused) {
  const Tensor x = random_tensor({4, 3}, 15);
  const Tensor t = targets({4}, {0, 1, 2, 0});
  const Kernel ce = kernel("nn.cross_entropy");
  EXPECT_THAT(error_of([&] {
                ce.forward({x, targets({3}, {0, 1, 2})});
              }),
              HasSubstr("input 'target' has shape [3], expected [4]"));
  EXPECT_THAT(error_of([&] {
                ce.forward({x, random_tensor({4}, 1)});
              }),
              HasSubstr("expected int64 class indices"));
  EXPECT_THAT(error_of([&] {
                ce.forward({x, t, Tensor::from<double>({2}, {1.0, 2.0})});
              }),
              HasSubstr("input 'weight' has shape [2], expected [3]"));
  EXPECT_THAT(error_of([&] {
                ce.forward({Tensor::from<double>({}, {1.0}), Tensor(kInt64, {})});
              }),
              HasSubstr("is 0-d"));
}

TEST(NnSoftmaxLoss, WeightGradientIsNotComputed) {
  const Tensor x = random_tensor({2, 3}, 16);
  const Tensor t = targets({2}, {0, 2});
  const Tensor w = Tensor::from<double>({3}, {1.0, 2.0, 3.0});
  const Kernel ce = kernel("nn.cross_entropy");
  const auto y = ce.forward({x, t, w});
  EXPECT_THAT(error_of([&] {
                ce.backward({x, t, w}, y, {Tensor::from<double>({}, {1.0})}, {true, false, true});
              }),
              HasSubstr("gradient of input 'weight' is not computed"));
}

}  // namespace
}  // namespace pcv
