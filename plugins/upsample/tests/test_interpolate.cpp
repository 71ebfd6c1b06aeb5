// upsample.interpolate against the PyTorch golden file, hand-checked values, backward against
// finite differences, thread-count independence and its errors.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;
using Floats = std::vector<double>;

Kernel interpolate(AttrMap attrs) {
  return test::builtin_plugins().create_kernel("upsample.interpolate", attrs);
}

Tensor random_tensor(Shape shape, std::uint64_t seed) {
  Tensor t(kFloat64, std::move(shape));
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = normal(rng);
  return t;
}

Tensor ramp(Shape shape) {
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = static_cast<double>(i);
  return t;
}

std::vector<double> run(const Kernel& k, const Tensor& x) { return k.forward({x})[0].to_vector<double>(); }

TEST(UpsampleInterpolate, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("upsample/interpolate.json", test::kFloat64Tolerance,
                                              "upsample.interpolate"),
            100);
}

TEST(UpsampleInterpolate, MatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("upsample/interpolate.json", test::kFloat32Tolerance,
                                             "upsample.interpolate"),
            100);
}

// The reference's 1-D checks (shared/reference §3).
TEST(UpsampleInterpolate, LinearRampTimesTwo) {
  const Tensor x = Tensor::from<double>({1, 1, 4}, {0, 1, 2, 3});
  EXPECT_EQ(run(interpolate({{"mode", std::string("linear")}, {"scale_factor", Floats{2}}}), x),
            (std::vector<double>{0, .25, .75, 1.25, 1.75, 2.25, 2.75, 3}));
  const auto aligned = run(
      interpolate({{"mode", std::string("linear")}, {"scale_factor", Floats{2}}, {"align_corners", true}}),
      x);
  ASSERT_EQ(aligned.size(), 8u);
  for (int k = 0; k < 8; ++k) EXPECT_NEAR(aligned[static_cast<std::size_t>(k)], k * 3.0 / 7.0, 1e-15) << k;
}

TEST(UpsampleInterpolate, NearestModesPickTheirSources) {
  const Tensor x = Tensor::from<double>({1, 1, 5}, {0, 1, 2, 3, 4});
  // nearest: floor(dst * 5/3) = 0, 1, 3; nearest-exact: floor((dst + 0.5) * 5/3) = 0, 2, 4.
  EXPECT_EQ(run(interpolate({{"size", Ints{3}}}), x), (std::vector<double>{0, 1, 3}));
  EXPECT_EQ(run(interpolate({{"mode", std::string("nearest-exact")}, {"size", Ints{3}}}), x),
            (std::vector<double>{0, 2, 4}));
  // x2 in both dims of a 2x2 plane: every pixel becomes a 2x2 block.
  EXPECT_EQ(run(interpolate({{"scale_factor", Floats{2}}}), Tensor::from<double>({1, 1, 2, 2}, {1, 2, 3, 4})),
            (std::vector<double>{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4}));
}

TEST(UpsampleInterpolate, NearestPicksThePixelOnABoundary) {
  // 26 -> 22: output 11 sits on 11 * 26/22 = 13 exactly, and picks 13 as PyTorch's float64 forward
  // does (in float32, PyTorch's rounding puts it just below, at 12). float32 gives the same.
  for (const pcv_dtype dtype : {kFloat64, kFloat32}) {
    Tensor x(dtype, {1, 1, 26});
    for (std::int64_t i = 0; i < 26; ++i)
      same_dtype(dtype, kFloat64) ? void(x.data<double>()[i] = double(i))
                                  : void(x.data<float>()[i] = float(i));
    const Tensor y = interpolate({{"size", Ints{22}}}).forward({x})[0];
    const auto v = test::as_doubles(y);
    ASSERT_EQ(v.size(), 22u);
    EXPECT_EQ((std::vector<double>{v[10], v[11], v[12]}), (std::vector<double>{11, 13, 14}));
  }
  // 11 x 3.7: output 37 at 37 / 3.7 = 10, which double precision puts at 9.999...; rounded to
  // single precision before the floor, as PyTorch does, it picks 10.
  const auto y = run(interpolate({{"scale_factor", Floats{3.7}}}), ramp({1, 1, 11}));
  ASSERT_EQ(y.size(), 40u);
  EXPECT_EQ(y[37], 10);
  // nearest-exact 14 -> 23: output 11 at (11.5) * 14/23 = 7.
  EXPECT_EQ(
      run(interpolate({{"mode", std::string("nearest-exact")}, {"size", Ints{23}}}), ramp({1, 1, 14}))[11],
      7);
}

TEST(UpsampleInterpolate, BicubicWeights) {
  // align_corners 4 -> 7 along W: sources 0, 0.5, ..., 3. An impulse at 2 gives the cubic
  // convolution weights for t = 0.5 (A = -0.75): 0.59375 for the two nearest taps, -0.09375 for
  // the next ones; the tap left of 0 is clamped to 0.
  const Kernel k =
      interpolate({{"mode", std::string("bicubic")}, {"size", Ints{1, 7}}, {"align_corners", true}});
  EXPECT_EQ(run(k, Tensor::from<double>({1, 1, 1, 4}, {0, 0, 1, 0})),
            (std::vector<double>{0, -0.09375, 0, 0.59375, 1, 0.59375, 0}));
  // Constants stay constant (the weights sum to 1), borders included.
  for (const double v : run(k, Tensor::from<double>({1, 1, 1, 4}, {2, 2, 2, 2}))) EXPECT_NEAR(v, 2, 1e-15);
}

TEST(UpsampleInterpolate, LinearModesCopyAnUnchangedSize) {
  // floor(4 * 1.2) = 4: PyTorch's linear kernels copy, whatever the scale_factor.
  const Tensor x = Tensor::from<double>({1, 1, 4}, {5, -1, 2, 7});
  EXPECT_EQ(run(interpolate({{"mode", std::string("linear")}, {"scale_factor", Floats{1.2}}}), x),
            (std::vector<double>{5, -1, 2, 7}));
  // nearest applies 1 / 1.2: sources 0, 0, 1, 2.
  EXPECT_EQ(run(interpolate({{"scale_factor", Floats{1.2}}}), x), (std::vector<double>{5, 5, -1, 2}));
  // recompute_scale_factor uses in / out = 1: a copy.
  EXPECT_EQ(run(interpolate({{"scale_factor", Floats{1.2}}, {"recompute_scale_factor", true}}), x),
            (std::vector<double>{5, -1, 2, 7}));
}

TEST(UpsampleInterpolate, OutputShapes) {
  const auto shape = [](AttrMap attrs, Shape x) {
    return interpolate(std::move(attrs)).infer_shapes({Tensor(kFloat32, std::move(x))})[0].second;
  };
  EXPECT_EQ(shape({{"scale_factor", Floats{1.7}}}, {2, 3, 5, 4, 3}), (Shape{2, 3, 8, 6, 5}));
  EXPECT_EQ(shape({{"scale_factor", Floats{2, 0.5}}}, {1, 2, 5, 7}), (Shape{1, 2, 10, 3}));
  EXPECT_EQ(shape({{"mode", std::string("trilinear")}, {"size", Ints{4}}}, {1, 1, 2, 3, 5}),
            (Shape{1, 1, 4, 4, 4}));
  EXPECT_EQ(shape({{"mode", std::string("bicubic")}, {"size", Ints{1, 9}}}, {3, 1, 5, 7}),
            (Shape{3, 1, 1, 9}));
  const auto dtypes = interpolate({{"size", Ints{3}}}).infer_shapes({Tensor(kFloat32, {1, 1, 5})});
  EXPECT_TRUE(same_dtype(dtypes[0].first, kFloat32));
}

TEST(UpsampleInterpolate, BackwardMatchesFiniteDifferences) {
  const std::vector<std::pair<AttrMap, Shape>> cases = {
      {{{"scale_factor", Floats{2}}}, {2, 2, 5}},
      {{{"scale_factor", Floats{1.7, 0.6}}}, {1, 2, 5, 6}},
      {{{"size", Ints{3, 5, 4}}}, {1, 2, 4, 3, 5}},
      {{{"mode", std::string("nearest-exact")}, {"scale_factor", Floats{1.5}}}, {2, 1, 5, 3}},
      {{{"mode", std::string("nearest-exact")}, {"size", Ints{2, 7, 3}}}, {1, 2, 3, 4, 5}},
      {{{"mode", std::string("linear")}, {"scale_factor", Floats{2.5}}}, {2, 2, 4}},
      {{{"mode", std::string("linear")}, {"size", Ints{3}}, {"align_corners", true}}, {2, 2, 7}},
      {{{"mode", std::string("bilinear")}, {"scale_factor", Floats{1.7}}}, {1, 2, 4, 5}},
      {{{"mode", std::string("bilinear")}, {"size", Ints{3, 8}}, {"align_corners", true}}, {1, 2, 5, 4}},
      {{{"mode", std::string("trilinear")}, {"scale_factor", Floats{2, 0.5, 1.5}}}, {1, 2, 3, 4, 3}},
      {{{"mode", std::string("trilinear")}, {"size", Ints{2, 4, 5}}, {"align_corners", true}},
       {2, 1, 3, 3, 2}},
      {{{"mode", std::string("bicubic")}, {"scale_factor", Floats{2}}}, {1, 2, 4, 5}},
      {{{"mode", std::string("bicubic")},
        {"scale_factor", Floats{0.6, 1.5}},
        {"recompute_scale_factor", true}},
       {2, 1, 6, 3}},
      {{{"mode", std::string("bicubic")}, {"size", Ints{6, 2}}, {"align_corners", true}}, {1, 2, 3, 5}},
  };
  std::uint64_t seed = 1;
  for (const auto& [attrs, shape] : cases) {
    SCOPED_TRACE(shape_string(shape));
    test::expect_backward_matches_differences(interpolate(attrs), {random_tensor(shape, seed++)});
  }
}

TEST(UpsampleInterpolate, ResultsDoNotDependOnTheThreadCount) {
  const std::vector<std::pair<AttrMap, Shape>> cases = {
      {{{"mode", std::string("bilinear")}, {"scale_factor", Floats{1.7}}}, {2, 8, 20, 24}},
      {{{"mode", std::string("bicubic")}, {"scale_factor", Floats{0.7, 2}}}, {3, 5, 21, 16}},
      {{{"scale_factor", Floats{2}}}, {2, 8, 20, 24}},
      {{{"mode", std::string("trilinear")}, {"size", Ints{9, 5, 14}}, {"align_corners", true}},
       {2, 4, 6, 9, 7}},
  };
  for (const auto& [attrs, shape] : cases) {
    SCOPED_TRACE(shape_string(shape));
    const Kernel k = interpolate(attrs);
    const Tensor x = random_tensor(shape, 3);
    const auto forward_backward = [&](int threads) {
      RunOptions o;
      o.num_threads = threads;
      const auto y = k.forward({x}, o);
      std::vector<double> all = y[0].to_vector<double>();
      const auto dx = k.backward({x}, y, y, {}, o)[0].to_vector<double>();
      all.insert(all.end(), dx.begin(), dx.end());
      return all;
    };
    const auto one = forward_backward(1);
    EXPECT_EQ(one, forward_backward(2));
    EXPECT_EQ(one, forward_backward(3));
  }
}

TEST(UpsampleInterpolate, RefusesBadAttributes) {
  const auto error = [](AttrMap attrs) { return test::error_of([&] { interpolate(std::move(attrs)); }); };
  EXPECT_THAT(error({{"mode", std::string("cubic")}, {"size", Ints{2}}}),
              HasSubstr("upsample.interpolate: attribute 'mode' is 'cubic'; expected one of nearest, "
                        "nearest-exact, linear, bilinear, trilinear, bicubic"));
  EXPECT_THAT(error({{"size", Ints{4}}, {"scale_factor", Floats{2}}}),
              HasSubstr("upsample.interpolate: attributes 'size' [4] and 'scale_factor' [2] are both given"));
  EXPECT_THAT(error({}),
              HasSubstr("upsample.interpolate: neither attribute 'size' nor 'scale_factor' is given"));
  EXPECT_THAT(error({{"size", Ints{3, 0}}}),
              HasSubstr("upsample.interpolate: attribute 'size' has entry 0, expected positive values"));
  EXPECT_THAT(error({{"scale_factor", Floats{-2}}}),
              HasSubstr("upsample.interpolate: attribute 'scale_factor' has entry -2, expected positive"));
  EXPECT_THAT(error({{"scale_factor", Floats{0}}}), HasSubstr("attribute 'scale_factor' has entry 0"));
  EXPECT_THAT(error({{"mode", std::string("nearest-exact")}, {"size", Ints{2}}, {"align_corners", true}}),
              HasSubstr("upsample.interpolate: attribute 'align_corners' can only be true with the "
                        "interpolating modes linear, bilinear, trilinear and bicubic, not with mode "
                        "'nearest-exact'"));
  EXPECT_THAT(error({{"size", Ints{2}}, {"align_corners", true}}), HasSubstr("not with mode 'nearest'"));
  EXPECT_THAT(error({{"mode", std::string("linear")}, {"size", Ints{2}}, {"recompute_scale_factor", true}}),
              HasSubstr("upsample.interpolate: attribute 'recompute_scale_factor' is only meaningful with "
                        "'scale_factor'"));
}

TEST(UpsampleInterpolate, RefusesBadInputs) {
  const auto error = [](AttrMap attrs, pcv_dtype dtype, Shape x) {
    return test::error_of([&] { interpolate(std::move(attrs)).infer_shapes({Tensor(dtype, std::move(x))}); });
  };
  const AttrMap twice = {{"scale_factor", Floats{2}}};
  EXPECT_THAT(error(twice, kFloat32, {2, 3}),
              HasSubstr("upsample.interpolate: input 'x' has 2 dims [2, 3], expected 3, 4 or 5"));
  EXPECT_THAT(error(twice, kFloat32, {1, 1, 2, 2, 2, 2}), HasSubstr("input 'x' has 6 dims"));
  EXPECT_THAT(
      error({{"mode", std::string("bilinear")}, {"size", Ints{4}}}, kFloat32, {2, 3, 5}),
      HasSubstr("upsample.interpolate: mode 'bilinear' needs input 'x' with 2 spatial dims ([N, C, H, "
                "W]), but x is [2, 3, 5] with 1"));
  EXPECT_THAT(error({{"mode", std::string("linear")}, {"size", Ints{4}}}, kFloat32, {2, 3, 5, 5}),
              HasSubstr("mode 'linear' needs input 'x' with 1 spatial dim ([N, C, L])"));
  EXPECT_THAT(error({{"mode", std::string("trilinear")}, {"size", Ints{4}}}, kFloat32, {2, 3, 5, 5}),
              HasSubstr("mode 'trilinear' needs input 'x' with 3 spatial dims"));
  EXPECT_THAT(error({{"mode", std::string("bicubic")}, {"size", Ints{4}}}, kFloat64, {2, 3, 5, 5, 5}),
              HasSubstr("mode 'bicubic' needs input 'x' with 2 spatial dims"));
  EXPECT_THAT(error({{"size", Ints{4, 4}}}, kFloat32, {1, 1, 3, 3, 3}),
              HasSubstr("upsample.interpolate: attribute 'size' has 2 entries, expected 1 or 3"));
  EXPECT_THAT(error({{"scale_factor", Floats{2, 2, 2}}}, kFloat32, {1, 1, 3, 3}),
              HasSubstr("upsample.interpolate: attribute 'scale_factor' has 3 entries, expected 1 or 2"));
  EXPECT_THAT(
      error({{"scale_factor", Floats{0.3}}}, kFloat32, {1, 1, 3}),
      HasSubstr("upsample.interpolate: attribute 'scale_factor' entry 0.3 gives an output size of 0 for "
                "spatial dim 0 of input 'x' [1, 1, 3]"));
  EXPECT_THAT(error(twice, kInt64, {1, 1, 3}),
              HasSubstr("upsample.interpolate: input 'x' has dtype int64, expected float32 or float64"));
  // forward checks the same.
  EXPECT_THAT(
      test::error_of([] {
        interpolate({{"mode", std::string("linear")}, {"size", Ints{4}}}).forward({ramp({1, 1, 2, 2})});
      }),
      HasSubstr("mode 'linear' needs input 'x' with 1 spatial dim"));
}

}  // namespace
}  // namespace pcv
