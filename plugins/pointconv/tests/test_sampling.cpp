// pointconv.farthest_point_sample and pointconv.knn: the golden file (the official code's rules in
// float64), and the documented behaviour on ties, duplicates, k > N, NaN, empty and 1-point clouds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

Kernel fps(std::int64_t npoint) {
  return test::builtin_plugins().create_kernel("pointconv.farthest_point_sample", {{"npoint", npoint}});
}
Kernel knn(std::int64_t k) { return test::builtin_plugins().create_kernel("pointconv.knn", {{"k", k}}); }

TEST(PointconvSampling, MatchesGolden) {
  EXPECT_EQ(test::expect_golden_cases<double>("pointconv/sampling.json", test::kFloat64Tolerance), 9);
  EXPECT_EQ(test::expect_golden_cases<float>("pointconv/sampling.json", test::kFloat32Tolerance), 9);
}

TEST(PointconvSampling, FpsStartsAtZeroAndBreaksTiesByLowestIndex) {
  // Four corners of a square: after 0, points 1 and 2 are equally far (1) and 3 is farther (√2).
  const Tensor square = Tensor::from<float>({1, 4, 3}, {0, 0, 0, 1, 0, 0, 0, 1, 0, 1, 1, 0});
  EXPECT_EQ(fps(4).forward({square})[0].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 3, 1, 2}));
}

TEST(PointconvSampling, FpsNeverRepeatsAnIndexAmongDuplicates) {
  // Two distinct positions, each twice: after both are chosen every remaining distance is 0, and
  // the duplicates are taken, lowest index first (the official code would repeat point 0).
  const Tensor twice = Tensor::from<float>({1, 4, 3}, {0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0});
  EXPECT_EQ(fps(4).forward({twice})[0].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 2, 1, 3}));
}

TEST(PointconvSampling, KnnFindsTheCentreFirstAndSortsTiesByIndex) {
  const Tensor line = Tensor::from<double>({1, 5, 3}, {0, 0, 0, 1, 0, 0, 2, 0, 0, 3, 0, 0, 4, 0, 0});
  const Tensor centre = Tensor::from<double>({1, 1, 3}, {2, 0, 0});
  // Point 2 itself, then 1 and 3 (distance 1, lower index first), then 0 and 4.
  EXPECT_EQ(knn(5).forward({line, centre})[0].to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{2, 1, 3, 0, 4}));
}

// Brute-force kNN in float, sorted by (squared distance, index): the reference rule.
std::vector<std::int64_t> brute_knn(const Tensor& xyz, const float* c, std::int64_t k) {
  const std::int64_t n = xyz.shape()[1];
  const float* p = xyz.data<float>();
  std::vector<std::pair<float, std::int64_t>> all;
  for (std::int64_t i = 0; i < n; ++i) {
    const float dx = p[3 * i] - c[0], dy = p[3 * i + 1] - c[1], dz = p[3 * i + 2] - c[2];
    all.emplace_back(dx * dx + dy * dy + dz * dz, i);
  }
  std::sort(all.begin(), all.end());
  std::vector<std::int64_t> out;
  for (std::int64_t j = 0; j < k; ++j) out.push_back(all[static_cast<std::size_t>(j)].second);
  return out;
}

TEST(PointconvSampling, KnnGridOnLargeCloudsMatchesBruteForce) {
  // Large enough for the grid search: random points, a lattice (exact ties everywhere), a flat
  // cloud, and centres both on points and far outside the cloud.
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> u(-1, 1);
  std::vector<float> random(3 * 6000), lattice, flat(3 * 5000);
  for (float& v : random) v = u(rng);
  for (int x = 0; x < 17; ++x)
    for (int y = 0; y < 17; ++y)
      for (int z = 0; z < 17; ++z) lattice.insert(lattice.end(), {float(x), float(y), float(z)});
  for (std::size_t i = 0; i < flat.size(); ++i) flat[i] = i % 3 == 2 ? 0.5f : 30 * u(rng);
  for (const std::vector<float>* cloud : {&random, &lattice, &flat}) {
    const std::int64_t n = std::int64_t(cloud->size() / 3);
    const Tensor xyz = Tensor::from<float>({1, n, 3}, *cloud);
    std::vector<float> c;
    for (int i = 0; i < 40; ++i)
      c.insert(c.end(), cloud->begin() + 3 * (i * 97), cloud->begin() + 3 * (i * 97) + 3);
    c.insert(c.end(), {50.0f, -40.0f, 3.0f, 0.25f, 0.5f, -9.0f});
    const Tensor centres = Tensor::from<float>({1, std::int64_t(c.size() / 3), 3}, c);
    for (std::int64_t k : {1, 16, 40}) {
      const Tensor got = knn(k).forward({xyz, centres})[0];
      for (std::int64_t q = 0; q < centres.shape()[1]; ++q) {
        const std::vector<std::int64_t> want = brute_knn(xyz, c.data() + 3 * q, k);
        const std::vector<std::int64_t> row(got.data<std::int64_t>() + q * k,
                                            got.data<std::int64_t>() + (q + 1) * k);
        ASSERT_EQ(row, want) << "cloud of " << n << " points, centre " << q << ", k " << k;
      }
    }
  }
}

TEST(PointconvSampling, SinglePointCloudsWork) {
  const Tensor one = Tensor::from<float>({2, 1, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(fps(1).forward({one})[0].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0}));
  EXPECT_EQ(knn(1).forward({one, one})[0].to_vector<std::int64_t>(), (std::vector<std::int64_t>{0, 0}));
}

TEST(PointconvSampling, RefusesWhatHasNoDefinedResult) {
  const Tensor three = Tensor::from<float>({1, 3, 3}, {0, 0, 0, 1, 0, 0, 2, 0, 0});
  EXPECT_THAT(error_of([&] { fps(4).forward({three}); }),
              HasSubstr("cannot choose npoint = 4 distinct points from clouds of 3 points"));
  EXPECT_THAT(error_of([&] {
                knn(4).forward({three, three});
              }),
              HasSubstr("k = 4 neighbours asked of clouds of 3 points"));
  EXPECT_THAT(error_of([] {
                fps(1).forward({Tensor(kFloat32, {1, 0, 3})});
              }),
              HasSubstr("(the clouds are empty)"));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const Tensor with_nan = Tensor::from<float>({1, 3, 3}, {0, 0, 0, 1, nan, 0, 2, 0, 0});
  EXPECT_THAT(error_of([&] { fps(2).forward({with_nan}); }),
              HasSubstr("non-finite coordinate at cloud 0, point 1"));
  EXPECT_THAT(error_of([&] {
                knn(1).forward({three, with_nan});
              }),
              HasSubstr("input 'centres' has a non-finite coordinate at cloud 0, point 1"));
  EXPECT_THAT(error_of([&] {
                fps(1).forward({Tensor(kFloat32, {1, 3, 2})});
              }),
              HasSubstr("input 'xyz' is [1, 3, 2], expected [B, N, 3]"));
  EXPECT_THAT(error_of([&] {
                knn(1).forward({three, Tensor(kFloat32, {2, 1, 3})});
              }),
              HasSubstr("has 2 clouds but input 'xyz' [1, 3, 3] has 1"));
  EXPECT_THAT(error_of([] { fps(0); }), HasSubstr("'npoint' = 0, must be positive"));
}

}  // namespace
}  // namespace pcv
