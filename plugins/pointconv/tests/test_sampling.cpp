// pointconv.farthest_point_sample and pointconv.knn: the golden file (the official code's rules in
// float64), and the documented behaviour on ties, duplicates, k > N, NaN, empty and 1-point clouds.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
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
