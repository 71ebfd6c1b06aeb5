// nn.batch_norm against the PyTorch golden file, backward against finite differences in training
// and eval mode, the running-statistics update, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <pcv/error.hpp>

#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"
#include "support/tensor_matchers.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Tensor random_tensor(Shape shape, std::uint64_t seed, double offset = 0.0, double scale = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = offset + scale * normal(rng);
  return t;
}

Tensor positive_tensor(Shape shape, std::uint64_t seed) {
  Tensor t = random_tensor(std::move(shape), seed);
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = 0.5 + std::abs(t.data<double>()[i]);
  return t;
}

RunOptions training_mode() {
  RunOptions o;
  o.training = true;
  return o;
}

TEST(NnBatchNorm, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/batch_norm.json", test::kFloat64Tolerance, "nn.batch_norm"),
            0);
}

TEST(NnBatchNorm, MatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/batch_norm.json", test::kFloat32Tolerance, "nn.batch_norm"),
            0);
}

TEST(NnBatchNorm, BatchStatisticsBackwardMatchesFiniteDifferences) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  // Without running statistics the batch statistics are used, in eval mode too.
  test::expect_backward_matches_differences(
      bn, {random_tensor({3, 2, 4}, 1, 0.5, 2.0), random_tensor({2}, 2), random_tensor({2}, 3)});
  test::expect_backward_matches_differences(bn, {random_tensor({5, 3}, 4)});
  test::expect_backward_matches_differences(bn, {random_tensor({2, 2, 2, 3, 2}, 5), random_tensor({2}, 6)});
}

TEST(NnBatchNorm, TrainingBackwardMatchesFiniteDifferences) {
  const Kernel bn =
      test::builtin_plugins().create_kernel("nn.batch_norm", {{"momentum", 0.3}, {"eps", 1e-3}});
  test::expect_backward_matches_differences(
      bn,
      {random_tensor({4, 3, 5}, 7, 1.0, 3.0), random_tensor({3}, 8), random_tensor({3}, 9),
       random_tensor({3}, 10), positive_tensor({3}, 11)},
      training_mode());
}

TEST(NnBatchNorm, EvalBackwardMatchesFiniteDifferences) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  test::expect_backward_matches_differences(
      bn,
      {random_tensor({4, 3, 2, 3}, 12), random_tensor({3}, 13), random_tensor({3}, 14),
       random_tensor({3}, 15), positive_tensor({3}, 16)},
      {});
  test::expect_backward_matches_differences(
      bn, {random_tensor({6, 2}, 17), Tensor(), Tensor(), random_tensor({2}, 18), positive_tensor({2}, 19)},
      {});
}

TEST(NnBatchNorm, TrainingUpdatesRunningStatisticsWithTheUnbiasedVariance) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  const Tensor x = Tensor::from<double>({4, 1}, {1, 2, 3, 4});  // mean 2.5, variance 1.25 (unbiased 5/3)
  Tensor mean = Tensor::from<double>({1}, {0.0});
  Tensor var = Tensor::from<double>({1}, {1.0});
  const auto y = bn.forward({x, Tensor(), Tensor(), mean, var}, training_mode());
  EXPECT_NEAR(mean.data<double>()[0], 0.1 * 2.5, 1e-15);
  EXPECT_NEAR(var.data<double>()[0], 0.9 + 0.1 * 5.0 / 3.0, 1e-15);
  EXPECT_NEAR(y[0].data<double>()[0], -1.5 / std::sqrt(1.25 + 1e-5), 1e-12);

  // Eval mode reads the running statistics and leaves them alone.
  const auto eval = bn.forward({x, Tensor(), Tensor(), mean, var});
  EXPECT_NEAR(eval[0].data<double>()[0], (1.0 - 0.25) / std::sqrt(var.data<double>()[0] + 1e-5), 1e-12);
  EXPECT_NEAR(mean.data<double>()[0], 0.25, 1e-15);
}

TEST(NnBatchNorm, RunningStatisticsGetZeroGradients) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  const std::vector<Tensor> inputs = {random_tensor({3, 2}, 20), random_tensor({2}, 21),
                                      random_tensor({2}, 22), random_tensor({2}, 23),
                                      positive_tensor({2}, 24)};
  const auto y = bn.forward(inputs);
  const auto grads = bn.backward(inputs, y, {random_tensor({3, 2}, 25)});
  ASSERT_EQ(grads.size(), 5u);
  EXPECT_EQ(grads[3].to_vector<double>(), std::vector<double>(2, 0.0));
  EXPECT_EQ(grads[4].to_vector<double>(), std::vector<double>(2, 0.0));
}

TEST(NnBatchNorm, ResultsDoNotDependOnTheThreadCount) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  Tensor x(kFloat32, {4, 8, 32, 33});
  for (std::int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 7919) % 1000) / 100.0f;
  const auto run = [&](int threads) {
    RunOptions o = training_mode();
    o.num_threads = threads;
    const auto y = bn.forward({x}, o);
    const auto dx = bn.backward({x}, y, {x}, {}, o);
    return std::make_pair(y[0].to_vector<float>(), dx[0].to_vector<float>());
  };
  EXPECT_EQ(run(1), run(2));
}

TEST(NnBatchNorm, SingleValuePerChannelIsRefusedWithBatchStatistics) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  const Tensor x = random_tensor({1, 3}, 26);
  const Tensor mean = random_tensor({3}, 27), var = positive_tensor({3}, 28);
  EXPECT_THAT(error_message([&] {
                bn.forward({x, Tensor(), Tensor(), mean.clone(), var.clone()}, training_mode());
              }),
              HasSubstr("expected more than 1 value per channel"));
  EXPECT_THAT(error_message([&] { bn.forward({x}); }), HasSubstr("got input 'x' of shape [1, 3]"));
  // Eval mode with running statistics needs no batch statistics.
  EXPECT_EQ(bn.forward({x, Tensor(), Tensor(), mean, var})[0].shape(), (Shape{1, 3}));
}

TEST(NnBatchNorm, RefusesBadShapesAndAttributes) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm");
  EXPECT_THAT(error_message([&] { bn.forward({random_tensor({4}, 29)}); }),
              HasSubstr("nn.batch_norm: input 'x' has 1 dims, expected 2 to 5 ([N, C, *])"));
  EXPECT_THAT(error_message([&] {
                bn.forward({random_tensor({4, 3}, 30), random_tensor({2}, 31)});
              }),
              HasSubstr("nn.batch_norm: input 'weight' has shape [2], expected [3]"));
  EXPECT_THAT(error_message([&] {
                bn.forward({random_tensor({4, 3}, 32), Tensor(), Tensor(), random_tensor({3}, 33)});
              }),
              HasSubstr("running_mean and running_var must be given together"));
  EXPECT_THAT(error_message([&] {
                bn.forward({random_tensor({4, 3}, 34), Tensor::from<float>({3}, {1, 2, 3})});
              }),
              HasSubstr("nn.batch_norm: input 'weight' is float32 but x is float64"));
  EXPECT_THAT(error_message([] {
                test::builtin_plugins().create_kernel("nn.batch_norm", {{"eps", -1.0}});
              }),
              HasSubstr("nn.batch_norm: attribute 'eps' = -1 must be finite and >= 0"));
  EXPECT_THAT(error_message([] {
                test::builtin_plugins().create_kernel("nn.batch_norm", {{"momentum", 2.0}});
              }),
              HasSubstr("nn.batch_norm: attribute 'momentum' = 2 is out of range [0, 1]"));
}

}  // namespace
}  // namespace pcv
