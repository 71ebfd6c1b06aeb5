// The pointconv layer ops (gather_points, group, centroid, density, density_scale, aggregate,
// knn_interpolate, ball_query): the golden file, finite differences, the grid-based searches
// against brute force on clouds too large for a golden file, and the documented edge cases.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"
#include "support/test_tensors.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

Kernel op(const std::string& name, const AttrMap& attrs = {}) {
  return test::builtin_plugins().create_kernel("pointconv." + name, attrs);
}

Tensor indices(Shape shape, std::vector<std::int64_t> values) {
  return Tensor::from<std::int64_t>(std::move(shape), values);
}

TEST(PointconvLayers, MatchGolden) {
  EXPECT_EQ(test::expect_golden_cases<double>("pointconv/layers.json", test::kFloat64Tolerance), 20);
  EXPECT_EQ(test::expect_golden_cases<float>("pointconv/layers.json", test::kFloat32Tolerance), 20);
}

TEST(PointconvLayers, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(11);
  const auto random = [&](Shape s) { return test::uniform_tensor(kFloat64, std::move(s), rng); };
  const Tensor xyz = random({2, 6, 3}), centres = random({2, 3, 3});
  const Tensor idx = indices({2, 3, 2}, {0, 5, 5, 1, 2, 2, 3, 4, 0, 0, 1, 5});
  test::expect_backward_matches_differences(op("gather_points"), {random({2, 6, 4}), idx});
  test::expect_backward_matches_differences(op("group"), {xyz, centres, idx, random({2, 6, 4})});
  test::expect_backward_matches_differences(op("group"), {xyz, centres, Tensor(), random({2, 6, 2})});
  test::expect_backward_matches_differences(
      op("aggregate"), {random({2, 3, 4, 5}), random({2, 3, 4, 3}), random({2, 3, 4, 1})});
  test::expect_backward_matches_differences(op("knn_interpolate"),
                                            {xyz, random({2, 4, 3}), random({2, 4, 5})});
}

// Brute force in index order: what PointNet++'s query_ball_point keeps.
std::vector<std::int64_t> first_within(const Tensor& xyz, std::int64_t b, const float* c, float r,
                                       std::int64_t k) {
  std::vector<std::int64_t> found;
  const std::int64_t n = xyz.shape()[1];
  const float* p = xyz.data<float>() + b * n * 3;
  for (std::int64_t i = 0; i < n && std::int64_t(found.size()) < k; ++i) {
    const float dx = p[3 * i] - c[0], dy = p[3 * i + 1] - c[1], dz = p[3 * i + 2] - c[2];
    if (dx * dx + dy * dy + dz * dz < r * r) found.push_back(i);
  }
  return found;
}

TEST(PointconvLayers, BallQueryGridMatchesBruteForceOnLargeClouds) {
  std::mt19937 rng(5);
  Tensor xyz = test::uniform_tensor(kFloat32, {2, 5000, 3}, rng);
  // A stretched cloud: many empty cells along x.
  for (std::int64_t i = 0; i < 5000; ++i) xyz.data<float>()[(5000 + i) * 3] *= 40.0f;
  const Tensor centres = test::uniform_tensor(kFloat32, {2, 300, 3}, rng);
  const float r = 0.15f;
  const std::int64_t k = 16;
  const auto out = op("ball_query", {{"radius", 0.15}, {"k", k}}).forward({xyz, centres});
  int padded = 0;
  for (std::int64_t b = 0; b < 2; ++b)
    for (std::int64_t s = 0; s < 300; ++s) {
      const std::vector<std::int64_t> want =
          first_within(xyz, b, centres.data<float>() + (b * 300 + s) * 3, r, k);
      const std::int64_t* got = out[0].data<std::int64_t>() + (b * 300 + s) * k;
      ASSERT_EQ(out[1].data<std::int64_t>()[b * 300 + s], std::int64_t(want.size()));
      for (std::size_t j = 0; j < want.size(); ++j)
        ASSERT_EQ(got[j], want[j]) << "cloud " << b << " centre " << s;
      if (!want.empty() && want.size() < std::size_t(k)) {
        EXPECT_EQ(got[k - 1], want[0]);
        ++padded;
      }
    }
  EXPECT_GT(padded, 0);  // the check covered padding
}

TEST(PointconvLayers, BallDensityIsBoundedAndMatchesAllPairsForWideBalls) {
  // With a ball wider than the cloud and no cap, the ball KDE averages over all points: it is the
  // all-pairs sum with the 3-D normaliser instead of 2.5 h (h² = σ).
  std::mt19937 rng(9);
  const Tensor xyz = test::uniform_tensor(kFloat64, {1, 300, 3}, rng);
  const double sigma = 0.04;
  const auto ball = op("density", {{"mode", std::string("ball")},
                                   {"bandwidth", sigma},
                                   {"radius", 10.0},
                                   {"max_neighbours", std::int64_t{1000}}})
                        .forward({xyz})[0];
  const auto pairs = op("density", {{"bandwidth", std::sqrt(sigma)}}).forward({xyz})[0];
  const double ratio = std::pow(2 * M_PI * sigma, 1.5) / (2.5 * std::sqrt(sigma));
  for (std::int64_t i = 0; i < 300; ++i)
    EXPECT_NEAR(ball.data<double>()[i], pairs.data<double>()[i] * ratio, 1e-9 * ball.data<double>()[i]);
}

TEST(PointconvLayers, EdgeCasesHaveDefinedResults) {
  // A centre far from every point: its ball is filled with the nearest point, count 0.
  const Tensor line = Tensor::from<float>({1, 3, 3}, {0, 0, 0, 1, 0, 0, 2, 0, 0});
  const Tensor far = Tensor::from<float>({1, 1, 3}, {10, 0, 0});
  const auto ball = op("ball_query", {{"radius", 0.5}, {"k", std::int64_t{2}}}).forward({line, far});
  EXPECT_EQ(ball[0].to_vector<std::int64_t>(), (std::vector<std::int64_t>{2, 2}));
  EXPECT_EQ(ball[1].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0}));
  // Duplicate points: each is a full neighbour (ball density counts both).
  const Tensor twice = Tensor::from<double>({1, 2, 3}, {1, 1, 1, 1, 1, 1});
  const auto inverse =
      op("density", {{"mode", std::string("ball")}, {"bandwidth", 0.05}}).forward({twice})[0];
  EXPECT_NEAR(inverse.data<double>()[0], std::pow(2 * M_PI * 0.05, 1.5), 1e-12);
  // Empty clouds: densities of nothing are empty; a one-point cloud's scale is 1.
  EXPECT_EQ(op("density").forward({Tensor(kFloat32, {2, 0, 3})})[0].shape(), (Shape{2, 0}));
  const Tensor one = Tensor::from<float>({1, 1, 3}, {1, 2, 3});
  const auto inv_one = op("density").forward({one})[0];
  EXPECT_EQ(op("density_scale").forward({inv_one})[0].to_vector<float>(), (std::vector<float>{1.0f}));
  EXPECT_EQ(op("centroid").forward({one})[0].to_vector<float>(), (std::vector<float>{1, 2, 3}));
}

TEST(PointconvLayers, RefuseBadInputNamingIt) {
  const Tensor xyz = Tensor::from<float>({1, 3, 3}, {0, 0, 0, 1, 0, 0, 2, 0, 0});
  const Tensor centres = Tensor::from<float>({1, 1, 3}, {0, 0, 0});
  EXPECT_THAT(error_of([&] {
                op("gather_points").forward({Tensor(kFloat32, {1, 3, 2}), indices({1, 2}, {0, 3})});
              }),
              HasSubstr("input 'indices' holds index 3 at cloud 0, entry 1, outside the cloud's 3 points"));
  EXPECT_THAT(error_of([&] {
                op("group").forward({xyz, centres, indices({1, 1, 2}, {0, -1})});
              }),
              HasSubstr("holds index -1"));
  EXPECT_THAT(error_of([&] {
                op("group").forward({xyz, centres, Tensor(), Tensor(kFloat32, {1, 4, 2})});
              }),
              HasSubstr("input 'features' is [1, 4, 2], expected [1, 3, D]"));
  EXPECT_THAT(error_of([&] {
                op("aggregate").forward({Tensor(kFloat32, {1, 2, 3, 4}), Tensor(kFloat32, {1, 2, 4, 4})});
              }),
              HasSubstr("input 'weights' is [1, 2, 4, 4], expected [1, 2, 3, M]"));
  EXPECT_THAT(error_of([&] {
                op("knn_interpolate").forward({xyz, centres, Tensor(kFloat32, {1, 1, 2})});
              }),
              HasSubstr("k = 3 neighbours asked of sparse clouds of 1 points"));
  EXPECT_THAT(error_of([&] {
                op("centroid").forward({Tensor(kFloat32, {1, 0, 3})});
              }),
              HasSubstr("are empty: they have no centroid"));
  EXPECT_THAT(error_of([&] {
                op("ball_query", {{"radius", 1.0}, {"k", std::int64_t{1}}})
                    .forward({Tensor(kFloat32, {1, 0, 3}), centres});
              }),
              HasSubstr("are empty: no neighbours to find"));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THAT(error_of([&] {
                op("density").forward({Tensor::from<float>({1, 2, 3}, {0, 0, 0, nan, 0, 0})});
              }),
              HasSubstr("non-finite coordinate at cloud 0, point 1"));
  EXPECT_THAT(error_of([] {
                op("density", {{"mode", std::string("knn")}});
              }),
              HasSubstr("'mode' = 'knn', expected 'all_pairs' or 'ball'"));
  EXPECT_THAT(error_of([] {
                op("ball_query", {{"radius", 0.0}, {"k", std::int64_t{1}}});
              }),
              HasSubstr("'radius' = 0, must be positive"));
}

}  // namespace
}  // namespace pcv
