// losses.margin_softmax: the reference's loss-value anchors, golden files (one PyTorch
// implementation per convention), finite differences near θ = 0 and π, and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

Kernel loss_kernel(AttrMap attrs) {
  return test::builtin_plugins().create_kernel("losses.margin_softmax", attrs);
}

// The anchors of face_and_losses.md §2: rows of W are classes, y = [0, 1], mean CE, s = 64.
const Tensor kX = Tensor::from<double>({2, 3}, {0.3, -1.2, 0.5, 1.0, 0.2, -0.7});
const Tensor kW =
    Tensor::from<double>({4, 3}, {0.9, -0.8, 0.1, 0.2, 0.4, -1.1, -0.5, 0.3, 0.6, 1.2, 0.1, -0.2});
const Tensor kY = Tensor::from<std::int64_t>({2}, {0, 1});

double anchor_loss(AttrMap attrs) {
  return loss_kernel(std::move(attrs)).forward({kX, kW, kY})[0].data<double>()[0];
}

TEST(MarginSoftmax, ReproducesTheReferenceAnchors) {
  using S = std::string;
  EXPECT_NEAR(anchor_loss({{"loss", S("normface")}}), 5.9475174959, 1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("arcface")}}), 19.4755201604, 1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("arcface")}, {"fallback", false}}), 19.4755201604, 1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("cosface")}}), 17.1475140838, 1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("combined")}, {"m1", 1.0}, {"m2", 0.3}, {"m3", 0.2}}), 19.9817650232,
              1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("combined")}, {"m1", 0.9}, {"m2", 0.4}, {"m3", 0.15}}), 19.0205230435,
              1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("combined")}, {"m1", 1.35}}), 12.7728624816, 1e-9);
  EXPECT_NEAR(anchor_loss({{"loss", S("sphereface")}}), 91.1872737348, 1e-9);
}

// At θ = 1e-3 the arcface slope cos m + sin m·cot θ amplifies rounding a thousandfold: gradients
// there agree to 1.2e-10, so float64 gradients get 1e-9.
TEST(MarginSoftmax, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("losses/margin_softmax.json", {1e-10, 1e-9}), 70);
}

// Every case, including those near θ = 0 and π that PyTorch's own float32 misses (their names
// say so): the target cosine is computed in double.
TEST(MarginSoftmax, MatchesGoldenInFloat32) {
  EXPECT_EQ(test::expect_golden_cases<float>("losses/margin_softmax.json", test::kFloat32Tolerance), 79);
}

TEST(MarginSoftmax, ProbabilitiesAreTheSoftmaxOfTheLogits) {
  const auto out = loss_kernel({{"loss", std::string("cosface")}}).forward({kX, kW, kY});
  ASSERT_EQ(out[1].shape(), (Shape{2, 4}));
  for (int i = 0; i < 2; ++i) {
    double sum = 0;
    for (int j = 0; j < 4; ++j) sum += out[1].data<double>()[i * 4 + j];
    EXPECT_NEAR(sum, 1.0, 1e-12);
  }
}

Tensor random_tensor(Shape shape, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = normal(rng);
  return t;
}

// x0 at angle `theta` from w0 (in the plane of w0 and w1), the others random.
std::vector<Tensor> inputs_with_target_angle(double theta, std::mt19937& rng) {
  Tensor x = random_tensor({3, 4}, rng), w = random_tensor({5, 4}, rng);
  double* xs = x.data<double>();
  const double* ws = w.data<double>();
  // An orthonormal pair (u, v) from w0 and w1, then x0 = 1.7·(cos θ·u + sin θ·v).
  double u[4], v[4], nu = 0, dot = 0, nv = 0;
  for (int k = 0; k < 4; ++k) nu += ws[k] * ws[k];
  for (int k = 0; k < 4; ++k) u[k] = ws[k] / std::sqrt(nu);
  for (int k = 0; k < 4; ++k) dot += ws[4 + k] * u[k];
  for (int k = 0; k < 4; ++k) v[k] = ws[4 + k] - dot * u[k], nv += v[k] * v[k];
  for (int k = 0; k < 4; ++k) xs[k] = 1.7 * (std::cos(theta) * u[k] + std::sin(theta) * v[k] / std::sqrt(nv));
  return {x, w, Tensor::from<std::int64_t>({3}, {0, 2, 4})};
}

TEST(MarginSoftmax, BackwardMatchesFiniteDifferences) {
  using S = std::string;
  const std::vector<AttrMap> losses = {
      {{"loss", S("softmax")}},
      {{"loss", S("normface")}, {"scale", 8.0}},
      {{"loss", S("cosface")}, {"scale", 8.0}, {"label_smoothing", 0.1}},
      {{"loss", S("arcface")}, {"scale", 8.0}},
      {{"loss", S("arcface")}, {"scale", 8.0}, {"easy_margin", true}},
      {{"loss", S("combined")},
       {"scale", 8.0},
       {"m1", 0.9},
       {"m2", 0.4},
       {"m3", 0.15},
       {"reduction", S("sum")}},
      {{"loss", S("sphereface")}, {"scale", 8.0}, {"lambda", 5.0}},
  };
  // θ_y near 0, in the middle, and near π (past π − m: arcface's fallback branch).
  for (const double theta : {1e-2, 1.0, std::numbers::pi - 0.2, std::numbers::pi - 1e-2}) {
    std::mt19937 rng(7);
    const auto inputs = inputs_with_target_angle(theta, rng);
    for (const AttrMap& attrs : losses) {
      SCOPED_TRACE(std::get<S>(attrs.at("loss")) + " theta " + std::to_string(theta));
      test::expect_backward_matches_differences(loss_kernel(attrs), inputs);
    }
  }
}

TEST(MarginSoftmax, SphereFaceBackwardUsesTheLambdaOfItsForward) {
  std::mt19937 rng(11);
  auto inputs = inputs_with_target_angle(0.7, rng);
  inputs.push_back(Tensor());                               // no bias
  inputs.push_back(Tensor::from<std::int64_t>({1}, {40}));  // λ = 1000/5.8 at step 40
  RunOptions training;
  training.training = true;
  test::expect_backward_matches_differences(
      loss_kernel({{"loss", std::string("sphereface")}, {"scale", 8.0}}), inputs, training);
}

TEST(MarginSoftmax, StraightThroughDiffersOnlyInTheTargetSlope) {
  // Straight-through is the gradient of z = s·c with the margin's softmax probabilities: for
  // cosface (slope 1 everywhere) both modes agree exactly; for arcface they differ.
  std::mt19937 rng(3);
  const auto in = inputs_with_target_angle(0.8, rng);
  const auto grads = [&](const std::string& loss, const std::string& mode) {
    const Kernel k = loss_kernel({{"loss", loss}, {"backward", mode}, {"scale", 8.0}});
    const auto out = k.forward(in);
    return k.backward(in, out, {Tensor::from<double>({}, {1.0}), Tensor(kFloat64, out[1].shape())},
                      {true, true, false});
  };
  EXPECT_EQ(grads("cosface", "exact")[0].to_vector<double>(),
            grads("cosface", "straight_through")[0].to_vector<double>());
  EXPECT_NE(grads("arcface", "exact")[0].to_vector<double>(),
            grads("arcface", "straight_through")[0].to_vector<double>());
}

TEST(MarginSoftmax, CosinesOfExactlyOneAndMinusOneGiveFiniteResults) {
  // x0 equal to w0 (c = 1) and x1 opposite to w1 (c = −1), the targets.
  const Tensor x = Tensor::from<float>({2, 3}, {1, 2, 2, 0, -3, 0});
  const Tensor w = Tensor::from<float>({3, 3}, {2, 4, 4, 0, 1, 0, 1, 0, 0});
  const Tensor y = Tensor::from<std::int64_t>({2}, {0, 1});
  for (const std::string loss : {"arcface", "combined", "sphereface", "cosface"}) {
    SCOPED_TRACE(loss);
    const Kernel k = loss_kernel({{"loss", loss}, {"m1", 0.9}, {"m2", 0.3}});
    const auto out = k.forward({x, w, y});
    const auto g = k.backward({x, w, y}, out, {Tensor::from<float>({}, {1.0f}), Tensor(kFloat32, {2, 3})},
                              {true, true, false});
    for (const Tensor& t : {out[0], out[1], g[0], g[1]})
      for (const float v : t.to_vector<float>()) ASSERT_TRUE(std::isfinite(v));
  }
}

TEST(MarginSoftmax, SphereFaceStepAnnealsLambdaAndCountsTrainingCalls) {
  const Kernel k = loss_kernel({{"loss", std::string("sphereface")}});
  Tensor step = Tensor::from<std::int64_t>({1}, {0});
  RunOptions training;
  training.training = true;
  const double at_0 = k.forward({kX, kW, kY, Tensor(), step}, training)[0].data<double>()[0];
  EXPECT_EQ(step.data<std::int64_t>()[0], 1);
  // λ = max(5, 1000/(1 + 0.12·step)): 1000 at step 0, i.e. nearly plain s·c.
  EXPECT_NEAR(at_0, anchor_loss({{"loss", std::string("sphereface")}, {"lambda", 1000.0}}), 1e-12);
  k.forward({kX, kW, kY, Tensor(), step});  // eval: not counted
  EXPECT_EQ(step.data<std::int64_t>()[0], 1);
  Tensor late = Tensor::from<std::int64_t>({1}, {100000});
  EXPECT_NEAR(k.forward({kX, kW, kY, Tensor(), late})[0].data<double>()[0],
              anchor_loss({{"loss", std::string("sphereface")}, {"lambda", 5.0}}), 1e-12);
}

// PartialFC: in training with sample_rate < 1 the loss is that of the sampled classes alone.
TEST(MarginSoftmax, ClassSamplingKeepsEveryTargetAndDropsTheRest) {
  std::mt19937 rng(21);
  const std::int64_t B = 6, C = 40, d = 5;
  const Tensor x = random_tensor({B, d}, rng), w = random_tensor({C, d}, rng);
  const Tensor y = Tensor::from<std::int64_t>({B}, {3, 17, 3, 39, 0, 22});
  const Kernel sampled = loss_kernel({{"scale", 8.0}, {"sample_rate", 0.25}});
  RunOptions training;
  training.training = true;
  training.seed = 1234;
  const auto out = sampled.forward({x, w, y}, training);
  // The sample: the classes with a nonzero probability. int(0.25·40) = 10 ≥ 5 distinct targets.
  std::vector<std::int64_t> index;
  for (std::int64_t j = 0; j < C; ++j)
    if (out[1].data<double>()[j] != 0) index.push_back(j);
  ASSERT_EQ(index.size(), 10u);
  for (const std::int64_t t : y.to_vector<std::int64_t>())
    EXPECT_TRUE(std::binary_search(index.begin(), index.end(), t));

  // The same loss as the full op on the gathered rows with renumbered targets.
  Tensor w_sub(kFloat64, {10, d});
  for (std::size_t j = 0; j < index.size(); ++j)
    std::copy_n(w.data<double>() + index[j] * d, d, w_sub.data<double>() + j * d);
  std::vector<std::int64_t> y_sub;
  for (const std::int64_t t : y.to_vector<std::int64_t>())
    y_sub.push_back(std::lower_bound(index.begin(), index.end(), t) - index.begin());
  const Kernel full = loss_kernel({{"scale", 8.0}});
  const std::vector<Tensor> sub_in{x, w_sub, Tensor::from<std::int64_t>({B}, y_sub)};
  const auto sub_out = full.forward(sub_in);
  EXPECT_NEAR(out[0].data<double>()[0], sub_out[0].data<double>()[0], 1e-12);

  // Gradients: the sampled rows' equal the sub-problem's, the other rows are 0.
  const std::vector<Tensor> dy{Tensor::from<double>({}, {1.0}), Tensor(kFloat64, {B, C})};
  const auto g = sampled.backward({x, w, y}, out, dy, {true, true, false}, training);
  const auto g_sub = full.backward(sub_in, sub_out, {dy[0], Tensor(kFloat64, {B, 10})}, {true, true, false});
  EXPECT_TRUE(test::relative_error(test::as_doubles(g[0]), test::as_doubles(g_sub[0])) < 1e-12);
  for (std::int64_t j = 0, k = 0; j < C; ++j) {
    const bool in_sample = k < 10 && index[static_cast<std::size_t>(k)] == j;
    for (std::int64_t e = 0; e < d; ++e) {
      const double got = g[1].data<double>()[j * d + e];
      EXPECT_EQ(got, in_sample ? g_sub[1].data<double>()[k * d + e] : 0.0) << "class " << j;
    }
    if (in_sample) ++k;
  }
  // Finite differences with the sample fixed by the seed; eval mode uses every class.
  test::expect_backward_matches_differences(sampled, {x, w, y}, training);
  EXPECT_NEAR(sampled.forward({x, w, y})[0].data<double>()[0], full.forward({x, w, y})[0].data<double>()[0],
              1e-12);
  // Another seed, another sample.
  training.seed = 99;
  EXPECT_NE(sampled.forward({x, w, y}, training)[1].to_vector<double>(), out[1].to_vector<double>());
}

TEST(MarginSoftmax, ResultsDoNotDependOnTheThreadCount) {
  std::mt19937 rng(5);
  const std::vector<Tensor> in{random_tensor({37, 16}, rng), random_tensor({2500, 16}, rng), [] {
                                 std::vector<std::int64_t> y(37);
                                 for (int i = 0; i < 37; ++i) y[i] = (i * 67) % 2500;
                                 return Tensor::from<std::int64_t>({37}, y);
                               }()};
  const Kernel k = loss_kernel({});
  RunOptions one, three;
  one.num_threads = 1;
  three.num_threads = 3;
  const auto a = k.forward(in, one), b = k.forward(in, three);
  EXPECT_EQ(a[0].data<double>()[0], b[0].data<double>()[0]);
  const std::vector<Tensor> dy{Tensor::from<double>({}, {1.0}), Tensor(kFloat64, {37, 2500})};
  const auto ga = k.backward(in, a, dy, {true, true, false}, one),
             gb = k.backward(in, b, dy, {true, true, false}, three);
  EXPECT_TRUE(test::relative_error(test::as_doubles(ga[1]), test::as_doubles(gb[1])) < 1e-12);
}

TEST(MarginSoftmax, RefusesBadInputsAndAttributes) {
  using S = std::string;
  EXPECT_THAT(error_of([] {
                loss_kernel({}).forward({kX, kW, Tensor::from<std::int64_t>({2}, {0, 4})});
              }),
              HasSubstr("target[1] = 4 is out of range for 4 classes"));
  EXPECT_THAT(error_of([] {
                loss_kernel({}).forward({Tensor::from<double>({2, 3}, {0, 0, 0, 1, 2, 3}), kW, kY});
              }),
              HasSubstr("row 0 of input 'x' has norm 0"));
  EXPECT_THAT(error_of([] {
                loss_kernel({}).forward({kX, Tensor(kFloat64, {4, 2}), kY});
              }),
              HasSubstr("input 'weight' is [4, 2], expected [C, 3]"));
  EXPECT_THAT(error_of([] { loss_kernel({{"loss", S("arc")}}); }), HasSubstr("'loss' = 'arc' is not one of"));
  EXPECT_THAT(error_of([] { loss_kernel({{"backward", S("none")}}); }), HasSubstr("'backward' = 'none'"));
  EXPECT_THAT(error_of([] {
                loss_kernel({{"loss", S("sphereface")}, {"margin", 2.5}});
              }),
              HasSubstr("sphereface needs an integer 'margin'"));
  EXPECT_THAT(error_of([] {
                loss_kernel({}).forward({kX, kW, kY, Tensor::from<double>({4}, {0, 0, 0, 0})});
              }),
              HasSubstr("input 'bias' is only used by loss 'softmax'"));
}

}  // namespace
}  // namespace pcv
