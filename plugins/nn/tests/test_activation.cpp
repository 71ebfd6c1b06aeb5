// nn.relu, nn.leaky_relu, nn.gelu, nn.sigmoid, nn.tanh and nn.dropout against the PyTorch golden
// file, backward against finite differences, and dropout's random mask.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include <pcv/error.hpp>

#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;

const std::vector<std::string> kActivationOps = {"nn.relu",    "nn.leaky_relu", "nn.gelu",
                                                 "nn.sigmoid", "nn.tanh",       "nn.dropout"};

template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Values in [-3, 3], none within 0.05 of 0 (the kink of relu and leaky_relu).
Tensor inputs_away_from_zero(Shape shape) {
  Tensor x(kFloat64, shape);
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const double v = -3.0 + 6.0 * static_cast<double>((i * 37) % 101) / 100.0;
    x.data<double>()[i] = std::abs(v) < 0.05 ? v + 0.1 : v;
  }
  return x;
}

Tensor ramp(std::int64_t n) {
  Tensor x(kFloat32, {n});
  for (std::int64_t i = 0; i < n; ++i) x.data<float>()[i] = 0.5f + static_cast<float>(i % 17);
  return x;
}

TEST(NnActivation, MatchesGoldenInFloat64) {
  for (const std::string& op : kActivationOps) {
    SCOPED_TRACE(op);
    EXPECT_GT(test::expect_golden_cases<double>("nn/activation.json", test::kFloat64Tolerance, op), 0);
  }
}

TEST(NnActivation, MatchesGoldenInFloat32) {
  for (const std::string& op : kActivationOps) {
    SCOPED_TRACE(op);
    EXPECT_GT(test::expect_golden_cases<float>("nn/activation.json", test::kFloat32Tolerance, op), 0);
  }
}

TEST(NnActivation, BackwardMatchesFiniteDifferences) {
  const std::vector<std::pair<std::string, AttrMap>> kernels = {
      {"nn.relu", {}},
      {"nn.leaky_relu", {}},
      {"nn.leaky_relu", {{"negative_slope", 0.2}}},
      {"nn.gelu", {}},
      {"nn.gelu", {{"approximate", std::string("tanh")}}},
      {"nn.sigmoid", {}},
      {"nn.tanh", {}},
  };
  for (const auto& [op, attrs] : kernels) {
    SCOPED_TRACE(op);
    test::expect_backward_matches_differences(test::builtin_plugins().create_kernel(op, attrs),
                                              {inputs_away_from_zero({3, 4, 5})});
  }
}

TEST(NnActivation, ReluAndLeakyReluAtZeroTakeTheNegativeSideGradient) {
  const Tensor x = Tensor::from<double>({3}, {-1.0, 0.0, 2.0});
  const Tensor dy = Tensor::from<double>({3}, {1.0, 1.0, 1.0});
  const Kernel relu = test::builtin_plugins().create_kernel("nn.relu");
  EXPECT_EQ(relu.backward({x}, relu.forward({x}), {dy})[0].to_vector<double>(),
            (std::vector<double>{0, 0, 1}));
  const Kernel leaky = test::builtin_plugins().create_kernel("nn.leaky_relu", {{"negative_slope", 0.25}});
  EXPECT_EQ(leaky.backward({x}, leaky.forward({x}), {dy})[0].to_vector<double>(),
            (std::vector<double>{0.25, 0.25, 1}));
}

TEST(NnActivation, ReluPassesNaNThrough) {
  const auto y = test::builtin_plugins().create_kernel("nn.relu").forward({Tensor::from<float>({1}, {NAN})});
  EXPECT_TRUE(std::isnan(y[0].data<float>()[0]));
}

TEST(NnActivation, GeluRefusesAnUnknownApproximation) {
  const std::string message = error_message([] {
    test::builtin_plugins().create_kernel("nn.gelu", {{"approximate", std::string("fast")}});
  });
  EXPECT_THAT(message,
              HasSubstr("nn.gelu: attribute 'approximate' is \"fast\", expected \"none\" or \"tanh\""));
}

TEST(NnActivation, IntegerInputIsRefused) {
  const Tensor ints = Tensor::from<std::int64_t>({2}, {1, -1});
  EXPECT_THAT(error_message([&] { test::builtin_plugins().create_kernel("nn.sigmoid").forward({ints}); }),
              HasSubstr("input 'x' of sigmoid has dtype int64"));
}

// ------------------------------------------------------------------ dropout

RunOptions training(std::uint64_t seed, int threads = 1) {
  RunOptions o;
  o.training = true;
  o.seed = seed;
  o.num_threads = threads;
  return o;
}

TEST(NnDropout, KeepsAboutOneMinusPAndScalesTheKeptValues) {
  constexpr std::int64_t n = 100000;
  constexpr double p = 0.3;
  const Kernel dropout = test::builtin_plugins().create_kernel("nn.dropout", {{"p", p}});
  const Tensor x = ramp(n);
  const auto out = dropout.forward({x}, training(42));
  ASSERT_TRUE(same_dtype(out[1].dtype(), kUInt8));
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint8_t m = out[1].data<std::uint8_t>()[i];
    ASSERT_LE(m, 1);
    kept += m;
    const float expected = m ? x.data<float>()[i] * static_cast<float>(1.0 / (1.0 - p)) : 0.0f;
    ASSERT_FLOAT_EQ(out[0].data<float>()[i], expected) << "element " << i;
  }
  const double sd = std::sqrt(n * p * (1 - p));  // binomial: about 145
  EXPECT_NEAR(static_cast<double>(kept), n * (1 - p), 5 * sd);
}

TEST(NnDropout, MaskDependsOnlyOnTheSeed) {
  const Kernel dropout = test::builtin_plugins().create_kernel("nn.dropout");
  const Tensor x = ramp(100000);
  const auto mask = [&](std::uint64_t seed, int threads) {
    return dropout.forward({x}, training(seed, threads))[1].to_vector<std::uint8_t>();
  };
  const auto first = mask(7, 1);
  EXPECT_EQ(mask(7, 1), first);
  EXPECT_EQ(mask(7, 2), first) << "the mask must not depend on the thread count";
  EXPECT_NE(mask(8, 1), first);
}

TEST(NnDropout, BackwardUsesTheMask) {
  constexpr double p = 0.4;
  const Kernel dropout = test::builtin_plugins().create_kernel("nn.dropout", {{"p", p}});
  const Tensor x = inputs_away_from_zero({4, 50});
  const auto out = dropout.forward({x}, training(3));
  Tensor dy(kFloat64, x.shape());
  for (std::int64_t i = 0; i < dy.numel(); ++i)
    dy.data<double>()[i] = 0.1 * static_cast<double>(i % 13) - 0.6;
  const Tensor no_grad_for_mask(kUInt8, x.shape());
  const auto dx = dropout.backward({x}, out, {dy, no_grad_for_mask}, {}, training(3))[0];
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const bool keep = out[1].data<std::uint8_t>()[i] != 0;
    kept += keep;
    EXPECT_DOUBLE_EQ(dx.data<double>()[i], keep ? dy.data<double>()[i] / (1 - p) : 0.0) << "element " << i;
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, x.numel());
}

TEST(NnDropout, PEqualOneDropsEverythingAndEvalIsTheIdentity) {
  const Tensor x = ramp(1000);
  const Kernel all = test::builtin_plugins().create_kernel("nn.dropout", {{"p", 1.0}});
  const auto dropped = all.forward({x}, training(1));
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    EXPECT_EQ(dropped[0].data<float>()[i], 0.0f);
    EXPECT_EQ(dropped[1].data<std::uint8_t>()[i], 0);
  }
  const auto eval = all.forward({x});
  EXPECT_EQ(eval[0].to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(eval[1].to_vector<std::uint8_t>(), std::vector<std::uint8_t>(1000, 1));
}

TEST(NnDropout, RefusesAProbabilityOutsideZeroToOne) {
  for (double p : {-0.1, 1.5}) {
    EXPECT_THAT(error_message([&] {
                  test::builtin_plugins().create_kernel("nn.dropout", {{"p", p}});
                }),
                HasSubstr("nn.dropout: attribute 'p' = "));
  }
  EXPECT_THAT(error_message([] {
                test::builtin_plugins().create_kernel("nn.dropout", {{"p", 2.0}});
              }),
              HasSubstr("is not a probability (expected 0 <= p <= 1)"));
}

}  // namespace
}  // namespace pcv
