// upsample.pixel_shuffle / pixel_unshuffle / voxel_shuffle / voxel_unshuffle against the golden
// file, hand-checked indices, round trips, gradients and errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"
#include "support/test_tensors.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::HasSubstr;

const std::vector<std::string> kShuffleOps = {"upsample.pixel_shuffle", "upsample.pixel_unshuffle",
                                              "upsample.voxel_shuffle", "upsample.voxel_unshuffle"};

Kernel kernel(const std::string& op, std::int64_t factor) {
  const bool un = op.find("unshuffle") != std::string::npos;
  return test::builtin_plugins().create_kernel(op, {{un ? "downscale_factor" : "upscale_factor", factor}});
}

Tensor iota_tensor(Shape shape) {
  Tensor t(kFloat64, std::move(shape));
  std::iota(t.data<double>(), t.data<double>() + t.numel(), 0.0);
  return t;
}

TEST(Shuffle, MatchesGolden) {
  for (const std::string& op : kShuffleOps) {
    SCOPED_TRACE(op);
    EXPECT_GT(test::expect_golden_cases<double>("upsample/shuffle.json", test::kFloat64Tolerance, op), 0);
    EXPECT_GT(test::expect_golden_cases<float>("upsample/shuffle.json", test::kFloat32Tolerance, op), 0);
  }
}

// out[n, c, h·r+i, w·r+j] = in[n, c·r² + i·r + j, h, w], checked element by element.
TEST(Shuffle, PixelShuffleMovesEveryElementWhereTheFormulaSays) {
  const std::int64_t r = 3, C = 2, H = 2, W = 4;
  const Tensor x = iota_tensor({2, C * r * r, H, W});
  const Tensor y = kernel("upsample.pixel_shuffle", r).forward({x})[0];
  ASSERT_EQ(y.shape(), (Shape{2, C, H * r, W * r}));
  for (std::int64_t n = 0; n < 2; ++n)
    for (std::int64_t c = 0; c < C; ++c)
      for (std::int64_t i = 0; i < r; ++i)
        for (std::int64_t j = 0; j < r; ++j)
          for (std::int64_t h = 0; h < H; ++h)
            for (std::int64_t w = 0; w < W; ++w) {
              const double want = x.data<double>()[((n * C * r * r + c * r * r + i * r + j) * H + h) * W + w];
              const double got = y.data<double>()[((n * C + c) * H * r + h * r + i) * W * r + w * r + j];
              ASSERT_EQ(got, want) << n << c << i << j << h << w;
            }
}

TEST(Shuffle, UnshuffleInvertsShuffle) {
  const Tensor x2 = iota_tensor({2, 3, 8, 4, 6});
  const Tensor y2 = kernel("upsample.pixel_shuffle", 2).forward({x2})[0];
  EXPECT_EQ(kernel("upsample.pixel_unshuffle", 2).forward({y2})[0].to_vector<double>(),
            x2.to_vector<double>());
  const Tensor x3 = iota_tensor({2, 54, 2, 1, 3});
  const Tensor y3 = kernel("upsample.voxel_shuffle", 3).forward({x3})[0];
  EXPECT_EQ(y3.shape(), (Shape{2, 2, 6, 3, 9}));
  EXPECT_EQ(kernel("upsample.voxel_unshuffle", 3).forward({y3})[0].to_vector<double>(),
            x3.to_vector<double>());
}

TEST(Shuffle, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(1);
  std::normal_distribution<double> normal;
  const auto random = [&](Shape s) {
    Tensor t(kFloat64, std::move(s));
    for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = normal(rng);
    return t;
  };
  test::expect_backward_matches_differences(kernel("upsample.pixel_shuffle", 2), {random({1, 8, 2, 3})});
  test::expect_backward_matches_differences(kernel("upsample.pixel_unshuffle", 2), {random({1, 2, 4, 2})});
  test::expect_backward_matches_differences(kernel("upsample.voxel_shuffle", 2), {random({1, 8, 1, 2, 2})});
  test::expect_backward_matches_differences(kernel("upsample.voxel_unshuffle", 2), {random({1, 1, 2, 2, 4})});
}

TEST(Shuffle, ResultsDoNotDependOnTheThreadCount) {
  const Tensor x = test::as_float32(iota_tensor({4, 16, 33, 65}));
  RunOptions one, three;
  one.num_threads = 1;
  three.num_threads = 3;
  const Kernel k = kernel("upsample.pixel_shuffle", 2);
  EXPECT_EQ(k.forward({x}, one)[0].to_vector<float>(), k.forward({x}, three)[0].to_vector<float>());
}

TEST(Shuffle, RefusesBadShapesAndFactors) {
  EXPECT_THAT(error_of([] { kernel("upsample.pixel_shuffle", 0); }),
              HasSubstr("'upscale_factor' = 0, must be positive"));
  EXPECT_THAT(error_of([] {
                kernel("upsample.pixel_shuffle", 2).forward({Tensor(kFloat32, {1, 6, 2, 2})});
              }),
              HasSubstr("has 6 channels, not divisible by upscale_factor^2 = 4"));
  EXPECT_THAT(error_of([] {
                kernel("upsample.voxel_shuffle", 2).forward({Tensor(kFloat32, {1, 4, 2, 2, 2})});
              }),
              HasSubstr("has 4 channels, not divisible by upscale_factor^3 = 8"));
  EXPECT_THAT(error_of([] {
                kernel("upsample.pixel_unshuffle", 2).forward({Tensor(kFloat32, {1, 1, 4, 5})});
              }),
              HasSubstr("has size 5 in spatial dim 1, not divisible by downscale_factor = 2"));
  EXPECT_THAT(error_of([] {
                kernel("upsample.pixel_shuffle", 2).forward({Tensor(kFloat32, {4, 2})});
              }),
              HasSubstr("has 2 dims, expected at least 3"));
}

}  // namespace
}  // namespace pcv
