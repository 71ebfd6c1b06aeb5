// nn.batch_norm against the PyTorch golden file, backward against finite differences in training
// and eval mode, the running-statistics update, channels last (dim -1) against channels first,
// thread-count independence, and its errors.
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

// tools/golden/nn_norm.py writes 16 channels-first cases and 13 with other spellings of dim.
constexpr int kGoldenCases = 29;

TEST(NnBatchNorm, MatchesGoldenInFloat64) {
  EXPECT_EQ(test::expect_golden_cases<double>("nn/batch_norm.json", test::kFloat64Tolerance, "nn.batch_norm"),
            kGoldenCases);
}

TEST(NnBatchNorm, MatchesGoldenInFloat32) {
  EXPECT_EQ(test::expect_golden_cases<float>("nn/batch_norm.json", test::kFloat32Tolerance, "nn.batch_norm"),
            kGoldenCases);
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

TEST(NnBatchNorm, ChannelsLastBackwardMatchesFiniteDifferences) {
  const Kernel last = test::builtin_plugins().create_kernel("nn.batch_norm", {{"dim", std::int64_t{-1}}});
  test::expect_backward_matches_differences(
      last, {random_tensor({2, 3, 4}, 40, 0.5, 2.0), random_tensor({4}, 41), random_tensor({4}, 42)});
  test::expect_backward_matches_differences(
      last,
      {random_tensor({3, 2, 3}, 43), random_tensor({3}, 44), random_tensor({3}, 45), random_tensor({3}, 46),
       positive_tensor({3}, 47)},
      training_mode());
  test::expect_backward_matches_differences(last,
                                            {random_tensor({2, 2, 2, 3}, 48), random_tensor({3}, 49),
                                             Tensor(), random_tensor({3}, 50), positive_tensor({3}, 51)},
                                            {});
}

// [A, B, C] channels last against its transpose [A, C, B] channels first: more rows and channels
// than one block, on two threads.
TEST(NnBatchNorm, ChannelsLastMatchesChannelsFirstOfTheTransposedInput) {
  constexpr std::int64_t A = 3, B = 211, C = 300;
  const Tensor x = random_tensor({A, B, C}, 52, 1.0, 2.0);
  Tensor x_first(kFloat64, {A, C, B});
  const auto transpose = [&](const Tensor& from, Tensor& to, std::int64_t rows, std::int64_t cols) {
    for (std::int64_t a = 0; a < A; ++a)
      for (std::int64_t r = 0; r < rows; ++r)
        for (std::int64_t c = 0; c < cols; ++c)
          to.data<double>()[(a * cols + c) * rows + r] = from.data<double>()[(a * rows + r) * cols + c];
  };
  transpose(x, x_first, B, C);
  const Tensor weight = random_tensor({C}, 53), bias = random_tensor({C}, 54);
  const Tensor mean = random_tensor({C}, 55), var = positive_tensor({C}, 56);
  const Tensor dy = random_tensor({A, B, C}, 57);
  Tensor dy_first(kFloat64, {A, C, B});
  transpose(dy, dy_first, B, C);

  const Kernel first = test::builtin_plugins().create_kernel("nn.batch_norm");
  const Kernel last = test::builtin_plugins().create_kernel("nn.batch_norm", {{"dim", std::int64_t{-1}}});
  for (const bool training : {true, false}) {
    SCOPED_TRACE(training ? "training" : "eval");
    RunOptions o;
    o.training = training;
    o.num_threads = 2;
    std::vector<Tensor> in_last = {x, weight, bias, mean.clone(), var.clone()};
    std::vector<Tensor> in_first = {x_first, weight, bias, mean.clone(), var.clone()};
    const auto y_last = last.forward(in_last, o);
    const auto y_first = first.forward(in_first, o);
    Tensor y_back(kFloat64, {A, B, C});
    transpose(y_first[0], y_back, C, B);
    EXPECT_TRUE(test::tensors_near<double>(y_last[0], y_back, 1e-12, 1e-12));
    EXPECT_TRUE(test::tensors_near<double>(in_last[3], in_first[3], 1e-12, 1e-12));
    EXPECT_TRUE(test::tensors_near<double>(in_last[4], in_first[4], 1e-12, 1e-12));

    const auto g_last = last.backward(in_last, y_last, {dy}, {}, o);
    const auto g_first = first.backward(in_first, y_first, {dy_first}, {}, o);
    Tensor dx_back(kFloat64, {A, B, C});
    transpose(g_first[0], dx_back, C, B);
    EXPECT_TRUE(test::tensors_near<double>(g_last[0], dx_back, 1e-11, 1e-11));
    EXPECT_TRUE(test::tensors_near<double>(g_last[1], g_first[1], 1e-11, 1e-11));
    EXPECT_TRUE(test::tensors_near<double>(g_last[2], g_first[2], 1e-11, 1e-11));
  }
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

// Big enough for the row blocks to be shared between threads; every output, state update and
// gradient must be the same bits on 1 and 2 threads, in training and in eval mode.
TEST(NnBatchNorm, ChannelsLastResultsDoNotDependOnTheThreadCount) {
  const Kernel bn = test::builtin_plugins().create_kernel("nn.batch_norm", {{"dim", std::int64_t{-1}}});
  constexpr std::int64_t C = 40;
  Tensor x(kFloat32, {3, 50, 17, C});
  for (std::int64_t i = 0; i < x.numel(); ++i)
    x.data<float>()[i] = static_cast<float>((i * 7919) % 1000) / 100.0f + static_cast<float>(i % C);
  Tensor weight(kFloat32, {C}), bias(kFloat32, {C}), mean(kFloat32, {C}), var(kFloat32, {C});
  for (std::int64_t c = 0; c < C; ++c) {
    weight.data<float>()[c] = 0.5f + 0.01f * static_cast<float>(c);
    bias.data<float>()[c] = 0.1f * static_cast<float>(c);
    mean.data<float>()[c] = static_cast<float>(c);
    var.data<float>()[c] = 2.0f;
  }
  const auto run = [&](int threads, bool training) {
    RunOptions o;
    o.training = training;
    o.num_threads = threads;
    std::vector<Tensor> in = {x, weight, bias, mean.clone(), var.clone()};
    const auto y = bn.forward(in, o);
    const auto grads = bn.backward(in, y, {x}, {true, true, true, false, false}, o);
    std::vector<std::vector<float>> all = {y[0].to_vector<float>(), in[3].to_vector<float>(),
                                           in[4].to_vector<float>()};
    for (std::size_t i = 0; i < 3; ++i) all.push_back(grads[i].to_vector<float>());
    return all;
  };
  EXPECT_EQ(run(1, true), run(2, true));
  EXPECT_EQ(run(1, false), run(2, false));
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
  // Channels last: the values of a channel are those of all the other dims.
  const Kernel last = test::builtin_plugins().create_kernel("nn.batch_norm", {{"dim", std::int64_t{-1}}});
  EXPECT_THAT(
      error_message([&] {
        last.forward({random_tensor({1, 1, 3}, 58)});
      }),
      HasSubstr("expected more than 1 value per channel when using batch statistics (training mode, or "
                "no running statistics), got input 'x' of shape [1, 1, 3]"));
  EXPECT_EQ(last.forward({random_tensor({1, 2, 3}, 59)})[0].shape(), (Shape{1, 2, 3}));
}

TEST(NnBatchNorm, RefusesADimThatIsNotAChannelDim) {
  const auto with_dim = [](std::int64_t dim) {
    return test::builtin_plugins().create_kernel("nn.batch_norm", {{"dim", dim}});
  };
  const Tensor x = random_tensor({2, 3, 4, 5}, 60);
  EXPECT_THAT(
      error_message([&] { with_dim(2).forward({x}); }),
      HasSubstr("nn.batch_norm: attribute 'dim' = 2 does not name a channel dim of input 'x' of shape "
                "[2, 3, 4, 5]; expected 1 (channels first, [N, C, *]) or the last dim, -1 or 3 "
                "(channels last, [*, C])"));
  EXPECT_THAT(error_message([&] { with_dim(0).forward({x}); }),
              HasSubstr("attribute 'dim' = 0 does not name"));
  EXPECT_THAT(error_message([&] { with_dim(-2).forward({x}); }),
              HasSubstr("attribute 'dim' = -2 does not name"));
  EXPECT_THAT(error_message([&] { with_dim(4).forward({x}); }),
              HasSubstr("attribute 'dim' = 4 does not name"));
  EXPECT_THAT(error_message([&] { with_dim(-5).forward({x}); }),
              HasSubstr("attribute 'dim' = -5 does not name"));
  // Every spelling of dim 1 or of the last dim is accepted.
  for (const std::int64_t dim : {1, -3, 3, -1}) EXPECT_EQ(with_dim(dim).forward({x})[0].shape(), x.shape());
  // The weight must match the channels of the chosen dim.
  EXPECT_THAT(error_message([&] {
                with_dim(-1).forward({x, random_tensor({3}, 61)});
              }),
              HasSubstr("nn.batch_norm: input 'weight' has shape [3], expected [5]"));
  EXPECT_THAT(error_message([&] { with_dim(-1).forward({random_tensor({4}, 62)}); }),
              HasSubstr("nn.batch_norm: input 'x' has 1 dims, expected 2 to 5 ([*, C])"));
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
