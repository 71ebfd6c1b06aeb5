// nn.concat, nn.reshape, nn.flatten, nn.permute, nn.transpose and nn.narrow against the PyTorch
// golden file, backward against finite differences, integer dtypes, larger multi-threaded copies
// and errors.
#include <pcv/error.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <numeric>
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

// A float64 tensor with distinct, non-round values.
Tensor ramp(Shape shape, double scale = 0.37) {
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i)
    t.data<double>()[i] = scale * static_cast<double>(i % 17) - 1.3;
  return t;
}

template <class T>
Tensor iota(Shape shape) {
  Tensor t(dtype_of<T>(), std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<T>()[i] = static_cast<T>(i);
  return t;
}

using test::error_of;

// ------------------------------------------------------------------ golden files

class NnShapeGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(NnShapeGolden, MatchesGoldenInFloat64) {
  EXPECT_GT(test::expect_golden_cases<double>("nn/shape.json", test::kFloat64Tolerance, GetParam()), 0);
}

TEST_P(NnShapeGolden, MatchesGoldenInFloat32) {
  EXPECT_GT(test::expect_golden_cases<float>("nn/shape.json", test::kFloat32Tolerance, GetParam()), 0);
}

INSTANTIATE_TEST_SUITE_P(NnShape, NnShapeGolden,
                         ::testing::Values("nn.concat", "nn.reshape", "nn.flatten", "nn.permute",
                                           "nn.transpose", "nn.narrow"),
                         [](const auto& info) { return info.param.substr(3); });

// ------------------------------------------------------------------ finite differences

TEST(NnShape, ConcatBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.concat", {{"dim", std::int64_t{1}}}),
                                            {ramp({2, 3, 2}), ramp({2, 1, 2}, 0.5), ramp({2, 2, 2}, -0.21)});
}

TEST(NnShape, ConcatBackwardWithNegativeDimMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.concat", {{"dim", std::int64_t{-1}}}),
                                            {ramp({3, 2}), ramp({3, 4}, 0.11)});
}

TEST(NnShape, ReshapeBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(
      kernel("nn.reshape", {{"shape", std::vector<std::int64_t>{3, -1}}}), {ramp({2, 3, 2})});
}

TEST(NnShape, FlattenBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.flatten"), {ramp({2, 3, 2})});
}

TEST(NnShape, PermuteBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(
      kernel("nn.permute", {{"dims", std::vector<std::int64_t>{2, 0, -2}}}), {ramp({2, 3, 4})});
}

TEST(NnShape, TransposeBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(
      kernel("nn.transpose", {{"dim0", std::int64_t{-1}}, {"dim1", std::int64_t{0}}}), {ramp({2, 3, 4})});
}

AttrMap narrow_attrs(std::int64_t dim, std::int64_t start, std::int64_t length) {
  return {{"dim", dim}, {"start", start}, {"length", length}};
}

TEST(NnShape, NarrowBackwardMatchesFiniteDifferences) {
  test::expect_backward_matches_differences(kernel("nn.narrow", narrow_attrs(1, 1, 2)), {ramp({2, 4, 3})});
  test::expect_backward_matches_differences(kernel("nn.narrow", narrow_attrs(-1, -2, 2)), {ramp({3, 5})});
}

// ------------------------------------------------------------------ behaviour

TEST(NnShape, ConcatSkipsGradientsThatAreNotWanted) {
  const Kernel concat = kernel("nn.concat");
  const std::vector<Tensor> x = {ramp({1, 2}), ramp({2, 2}), ramp({1, 2})};
  const auto y = concat.forward(x);
  const Tensor dy = Tensor::from<double>({4, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  const auto grads = concat.backward(x, y, {dy}, {true, false, true});
  EXPECT_EQ(grads[0].to_vector<double>(), (std::vector<double>{1, 2}));
  EXPECT_FALSE(grads[1].defined());
  EXPECT_EQ(grads[2].to_vector<double>(), (std::vector<double>{7, 8}));
}

TEST(NnShape, ShapeOpsMoveIntegerTensors) {
  const Tensor labels = iota<std::int64_t>({2, 3});
  EXPECT_EQ(kernel("nn.permute", {{"dims", std::vector<std::int64_t>{1, 0}}})
                .forward({labels})[0]
                .to_vector<std::int64_t>(),
            (std::vector<std::int64_t>{0, 3, 1, 4, 2, 5}));
  const auto joined =
      kernel("nn.concat").forward({iota<std::uint8_t>({1, 2}), iota<std::uint8_t>({2, 2})})[0];
  EXPECT_EQ(joined.shape(), (Shape{3, 2}));
  EXPECT_EQ(joined.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{0, 1, 0, 1, 2, 3}));
  const auto flat = kernel("nn.reshape", {{"shape", std::vector<std::int64_t>{-1}}})
                        .forward({iota<std::int32_t>({2, 2})})[0];
  EXPECT_EQ(flat.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 1, 2, 3}));
  const auto t = kernel("nn.transpose", {{"dim0", std::int64_t{0}}, {"dim1", std::int64_t{1}}})
                     .forward({iota<std::int32_t>({2, 3})})[0];
  EXPECT_EQ(t.to_vector<std::int32_t>(), (std::vector<std::int32_t>{0, 3, 1, 4, 2, 5}));
}

TEST(NnShape, BackwardOfIntegerTensorsIsRefused) {
  const Kernel flatten = kernel("nn.flatten");
  const Tensor x = iota<std::int64_t>({2, 3});
  const auto y = flatten.forward({x});
  EXPECT_THAT(error_of([&] { flatten.backward({x}, y, {y[0]}); }), HasSubstr("int64"));
}

// Big enough to run on several threads; compared with a plain index computation.
TEST(NnShape, LargePermuteMatchesReferenceOnAnyThreadCount) {
  const Shape shape{3, 40, 50, 7};
  const std::vector<std::int64_t> dims{2, 0, 3, 1};
  const Tensor x = iota<double>(shape);
  const Kernel permute = kernel("nn.permute", {{"dims", dims}});
  RunOptions one, two;
  one.num_threads = 1;
  two.num_threads = 2;
  const Tensor y1 = permute.forward({x}, one)[0];
  const Tensor y2 = permute.forward({x}, two)[0];
  ASSERT_EQ(y1.shape(), (Shape{50, 3, 7, 40}));
  EXPECT_EQ(y1.to_vector<double>(), y2.to_vector<double>());
  std::int64_t i = 0;
  bool all_match = true;
  for (std::int64_t a = 0; a < 50; ++a)
    for (std::int64_t b = 0; b < 3; ++b)
      for (std::int64_t c = 0; c < 7; ++c)
        for (std::int64_t d = 0; d < 40; ++d)
          all_match &= y1.data<double>()[i++] == static_cast<double>(((b * 40 + d) * 50 + a) * 7 + c);
  EXPECT_TRUE(all_match);
  // Backward permutes back.
  const auto dx = permute.backward({x}, {y2}, {y2}, {}, two);
  EXPECT_EQ(dx[0].to_vector<double>(), x.to_vector<double>());
}

TEST(NnShape, LargeConcatAlongLastDimSplitsLongRows) {
  const Tensor a = iota<float>({1, 40000});
  const Tensor b = iota<float>({1, 30000});
  RunOptions two;
  two.num_threads = 2;
  const Kernel concat = kernel("nn.concat", {{"dim", std::int64_t{1}}});
  const Tensor y = concat.forward({a, b}, two)[0];
  ASSERT_EQ(y.shape(), (Shape{1, 70000}));
  EXPECT_EQ(y.data<float>()[39999], 39999.0f);
  EXPECT_EQ(y.data<float>()[40000], 0.0f);
  EXPECT_EQ(y.data<float>()[69999], 29999.0f);
  const auto grads = concat.backward({a, b}, {y}, {y}, {}, two);
  EXPECT_EQ(grads[0].to_vector<float>(), a.to_vector<float>());
  EXPECT_EQ(grads[1].to_vector<float>(), b.to_vector<float>());
}

TEST(NnShape, NarrowMovesIntegerTensors) {
  const Tensor labels = iota<std::int64_t>({2, 4});
  const Tensor y = kernel("nn.narrow", narrow_attrs(1, -3, 2)).forward({labels})[0];
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(y.to_vector<std::int64_t>(), (std::vector<std::int64_t>{1, 2, 5, 6}));
  const Tensor mask = kernel("nn.narrow", narrow_attrs(0, 1, 1)).forward({iota<std::uint8_t>({3, 2})})[0];
  EXPECT_EQ(mask.to_vector<std::uint8_t>(), (std::vector<std::uint8_t>{2, 3}));
}

// The gradient lands in the slice; the rest of dx is zero.
TEST(NnShape, NarrowBackwardScattersIntoZeros) {
  const Kernel narrow = kernel("nn.narrow", narrow_attrs(0, 1, 2));
  const Tensor x = ramp({4, 2});
  const auto y = narrow.forward({x});
  const auto dx = narrow.backward({x}, y, {Tensor::from<double>({2, 2}, {1, 2, 3, 4})});
  EXPECT_EQ(dx[0].to_vector<double>(), (std::vector<double>{0, 0, 1, 2, 3, 4, 0, 0}));
}

// Big enough to run on several threads; compared with a plain index computation.
TEST(NnShape, LargeNarrowMatchesReferenceOnAnyThreadCount) {
  const Tensor x = iota<float>({6, 300, 40});
  const Kernel narrow = kernel("nn.narrow", narrow_attrs(1, 17, 250));
  RunOptions one, two;
  one.num_threads = 1;
  two.num_threads = 2;
  const Tensor y1 = narrow.forward({x}, one)[0];
  const Tensor y2 = narrow.forward({x}, two)[0];
  ASSERT_EQ(y1.shape(), (Shape{6, 250, 40}));
  EXPECT_EQ(y1.to_vector<float>(), y2.to_vector<float>());
  bool all_match = true;
  for (std::int64_t a = 0; a < 6; ++a)
    for (std::int64_t b = 0; b < 250; ++b)
      for (std::int64_t c = 0; c < 40; ++c)
        all_match &=
            y1.data<float>()[(a * 250 + b) * 40 + c] == static_cast<float>((a * 300 + b + 17) * 40 + c);
  EXPECT_TRUE(all_match);
  const auto dx = narrow.backward({x}, {y2}, {y2}, {}, two);
  bool scattered = true;
  for (std::int64_t i = 0; i < x.numel(); ++i) {
    const std::int64_t b = (i / 40) % 300;
    scattered &= dx[0].data<float>()[i] == (b >= 17 && b < 267 ? x.data<float>()[i] : 0.0f);
  }
  EXPECT_TRUE(scattered);
}

TEST(NnShape, ReshapeKeepsZeroSizedDims) {
  const Tensor x(kFloat32, {0, 4});
  EXPECT_EQ(kernel("nn.reshape", {{"shape", std::vector<std::int64_t>{2, 0, 2}}}).forward({x})[0].shape(),
            (Shape{2, 0, 2}));
}

TEST(NnShape, TransposeOfSameDimCopies) {
  const Tensor x = ramp({2, 3});
  const auto y = kernel("nn.transpose", {{"dim0", std::int64_t{1}}, {"dim1", std::int64_t{-1}}}).forward({x});
  EXPECT_EQ(y[0].to_vector<double>(), x.to_vector<double>());
}

// ------------------------------------------------------------------ errors

TEST(NnShape, ConcatNamesTheInputWhoseSizesDiffer) {
  const Kernel concat = kernel("nn.concat", {{"dim", std::int64_t{0}}});
  const std::string message = error_of([&] { concat.forward({ramp({2, 3}), ramp({1, 3}), ramp({2, 4})}); });
  EXPECT_THAT(message, HasSubstr("input #2 has shape [2, 4]"));
  EXPECT_THAT(message, HasSubstr("dim 1 differs"));
}

TEST(NnShape, ConcatRefusesMixedRanksAndDtypes) {
  const Kernel concat = kernel("nn.concat");
  EXPECT_THAT(error_of([&] {
                concat.forward({ramp({2, 3}), ramp({2, 3, 1})});
              }),
              HasSubstr("input #1 has 3 dims"));
  EXPECT_THAT(error_of([&] {
                concat.forward({ramp({2, 3}), Tensor(kFloat32, {2, 3})});
              }),
              HasSubstr("input #1 has dtype float32"));
}

TEST(NnShape, ConcatRefusesDimOutOfRange) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.concat", {{"dim", std::int64_t{2}}}).forward({ramp({2, 3})});
              }),
              HasSubstr("dim = 2 is out of range"));
}

TEST(NnShape, ReshapeNamesBothShapesWhenCountsDiffer) {
  const std::string message = error_of([&] {
    kernel("nn.reshape", {{"shape", std::vector<std::int64_t>{4, -1}}}).forward({ramp({2, 3})});
  });
  EXPECT_THAT(message, HasSubstr("[2, 3]"));
  EXPECT_THAT(message, HasSubstr("[4, -1]"));
}

TEST(NnShape, ReshapeRefusesTwoFreeDims) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.reshape", {{"shape", std::vector<std::int64_t>{-1, 2, -1}}});
              }),
              HasSubstr("more than one -1"));
}

TEST(NnShape, PermuteRefusesWhatIsNotAPermutation) {
  const Tensor x = ramp({2, 3, 4});
  EXPECT_THAT(error_of([&] {
                kernel("nn.permute", {{"dims", std::vector<std::int64_t>{0, 2, -1}}}).forward({x});
              }),
              HasSubstr("names dim 2 twice"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.permute", {{"dims", std::vector<std::int64_t>{1, 0, 1}}});
              }),
              HasSubstr("names dim 1 twice"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.permute", {{"dims", std::vector<std::int64_t>{1, 0}}}).forward({x});
              }),
              HasSubstr("has 2 entries but x has 3 dims"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.permute", {{"dims", std::vector<std::int64_t>{0, 1, 3}}}).forward({x});
              }),
              HasSubstr("out of range"));
}

TEST(NnShape, FlattenRefusesStartAfterEnd) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.flatten", {{"start_dim", std::int64_t{2}}, {"end_dim", std::int64_t{1}}});
              }),
              HasSubstr("start_dim 2 comes after end_dim 1"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.flatten", {{"start_dim", std::int64_t{2}}, {"end_dim", std::int64_t{-3}}})
                    .forward({ramp({2, 3, 4})});
              }),
              HasSubstr("comes after"));
}

TEST(NnShape, TransposeRefusesDimOutOfRange) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.transpose", {{"dim0", std::int64_t{0}}, {"dim1", std::int64_t{-4}}})
                    .forward({ramp({2, 3, 4})});
              }),
              HasSubstr("dim1 = -4 is out of range"));
}

TEST(NnShape, NarrowRefusesDimOutOfRange) {
  EXPECT_THAT(
      error_of([&] {
        kernel("nn.narrow", narrow_attrs(3, 0, 1)).forward({ramp({2, 3, 4})});
      }),
      HasSubstr("nn.narrow: dim = 3 is out of range for x of shape [2, 3, 4] (expected a value in [-3, 2])"));
  EXPECT_THAT(error_of([&] {
                kernel("nn.narrow", narrow_attrs(-4, 0, 1)).forward({ramp({2, 3, 4})});
              }),
              HasSubstr("nn.narrow: dim = -4 is out of range for x of shape [2, 3, 4]"));
  EXPECT_THAT(error_of([&] { kernel("nn.narrow", narrow_attrs(0, 0, 0)).forward({Tensor(kFloat64, {})}); }),
              HasSubstr("nn.narrow: x is 0-d"));
}

TEST(NnShape, NarrowRefusesStartAndLengthOutOfRange) {
  const Tensor x = ramp({2, 5, 3});
  EXPECT_THAT(error_of([&] { kernel("nn.narrow", narrow_attrs(1, 6, 0)).forward({x}); }),
              HasSubstr("nn.narrow: start = 6 is out of range for dim 1 of x of shape [2, 5, 3] (expected a "
                        "value in [-5, 5])"));
  EXPECT_THAT(error_of([&] { kernel("nn.narrow", narrow_attrs(-2, -6, 1)).forward({x}); }),
              HasSubstr("nn.narrow: start = -6 is out of range for dim -2 of x of shape [2, 5, 3]"));
  EXPECT_THAT(
      error_of([&] { kernel("nn.narrow", narrow_attrs(1, 3, 3)).forward({x}); }),
      HasSubstr("nn.narrow: start = 3 with length = 3 runs past the end of dim 1 (size 5) of x of shape "
                "[2, 5, 3]"));
  EXPECT_THAT(error_of([&] { kernel("nn.narrow", narrow_attrs(1, -1, 2)).forward({x}); }),
              HasSubstr("start = -1 with length = 2 runs past the end of dim 1 (size 5)"));
  EXPECT_THAT(error_of([&] { kernel("nn.narrow", narrow_attrs(1, 0, -1)); }),
              HasSubstr("nn.narrow: attribute 'length' = -1 must be >= 0"));
  // start may be the size itself when nothing is kept, as in PyTorch.
  EXPECT_EQ(kernel("nn.narrow", narrow_attrs(1, 5, 0)).forward({x})[0].shape(), (Shape{2, 0, 3}));
}

TEST(NnShape, NarrowRequiresItsAttributes) {
  EXPECT_THAT(error_of([&] {
                kernel("nn.narrow", {{"dim", std::int64_t{0}}, {"start", std::int64_t{0}}});
              }),
              HasSubstr("attribute 'length'"));
}

}  // namespace
}  // namespace pcv
