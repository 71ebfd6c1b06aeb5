// upsample.conv_transpose1d/2d/3d against the PyTorch golden file, backward against finite
// differences, the adjoint identity with nn.conv*, the float32 oneDNN path against float64, and
// errors (at graph validation).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pcv/graph.hpp>
#include <pcv/runtime.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "support/errors.hpp"
#include "support/golden_cases.hpp"
#include "support/gradcheck.hpp"
#include "support/test_tensors.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;
using Ints = std::vector<std::int64_t>;
using test::error_of;

Kernel kernel(const std::string& op, const AttrMap& attrs = {}) {
  return test::builtin_plugins().create_kernel(op, attrs);
}

double dot(const Tensor& a, const Tensor& b) {
  double sum = 0;
  for (std::int64_t i = 0; i < a.numel(); ++i) sum += a.data<double>()[i] * b.data<double>()[i];
  return sum;
}

// ------------------------------------------------------------------ golden files

class ConvTransposeGolden : public ::testing::TestWithParam<std::string> {};

TEST_P(ConvTransposeGolden, MatchesInFloat64) {
  EXPECT_GT(
      test::expect_golden_cases<double>("upsample/conv_transpose.json", test::kFloat64Tolerance, GetParam()),
      0);
}

// float32 runs on oneDNN, except the cases with output_padding > padding (reference path).
TEST_P(ConvTransposeGolden, MatchesInFloat32) {
  EXPECT_GT(
      test::expect_golden_cases<float>("upsample/conv_transpose.json", test::kFloat32Tolerance, GetParam()),
      0);
}

INSTANTIATE_TEST_SUITE_P(Ranks, ConvTransposeGolden,
                         ::testing::Values("upsample.conv_transpose1d", "upsample.conv_transpose2d",
                                           "upsample.conv_transpose3d"));

// ------------------------------------------------------------------ finite differences

TEST(ConvTranspose, BackwardMatchesFiniteDifferences) {
  std::mt19937 rng(1);
  test::expect_backward_matches_differences(
      kernel("upsample.conv_transpose1d", {{"stride", Ints{2}},
                                           {"padding", Ints{1}},
                                           {"output_padding", Ints{1}},
                                           {"groups", std::int64_t{2}}}),
      {test::uniform_tensor(kFloat64, {2, 4, 5}, rng), test::uniform_tensor(kFloat64, {4, 3, 3}, rng),
       test::uniform_tensor(kFloat64, {6}, rng)});
  test::expect_backward_matches_differences(
      kernel("upsample.conv_transpose2d",
             {{"stride", Ints{2, 3}}, {"dilation", Ints{2, 1}}, {"padding", Ints{1}}}),
      {test::uniform_tensor(kFloat64, {1, 3, 3, 2}, rng), test::uniform_tensor(kFloat64, {3, 2, 2, 3}, rng)});
  test::expect_backward_matches_differences(
      kernel("upsample.conv_transpose3d", {{"stride", Ints{2}}, {"padding", Ints{1}}}),
      {test::uniform_tensor(kFloat64, {1, 2, 2, 3, 2}, rng),
       test::uniform_tensor(kFloat64, {2, 2, 4, 3, 4}, rng), test::uniform_tensor(kFloat64, {2}, rng)});
}

// ⟨conv_transpose(x), z⟩ = ⟨x, conv(z)⟩ with the same weight, stride, padding, dilation and
// groups: the defining property, checked against the nn plugin's convolution.
TEST(ConvTranspose, IsTheAdjointOfConvolution) {
  std::mt19937 rng(2);
  const AttrMap attrs{
      {"stride", Ints{2, 3}}, {"padding", Ints{1, 2}}, {"dilation", Ints{2, 1}}, {"groups", std::int64_t{2}}};
  const Tensor x = test::uniform_tensor(kFloat64, {2, 4, 4, 3}, rng);
  const Tensor w = test::uniform_tensor(kFloat64, {4, 3, 3, 4}, rng);  // conv: C_out 4, C_in/g 3
  const Tensor y = kernel("upsample.conv_transpose2d", attrs).forward({x, w})[0];
  const Tensor z = test::uniform_tensor(kFloat64, y.shape(), rng);
  const Tensor conv_z = kernel("nn.conv2d", attrs).forward({z, w})[0];
  ASSERT_EQ(conv_z.shape(), x.shape());
  EXPECT_NEAR(dot(y, z), dot(x, conv_z), 1e-10 * std::abs(dot(y, z)));
}

// The float32 results (oneDNN, cached primitives, any thread count) match float64 (reference).
TEST(ConvTranspose, Float32MatchesFloat64AtEveryThreadCount) {
  std::mt19937 rng(3);
  const AttrMap attrs{{"stride", Ints{2}}, {"padding", Ints{1}}, {"groups", std::int64_t{2}}};
  const Tensor x64 = test::uniform_tensor(kFloat64, {3, 8, 9, 7}, rng),
               w64 = test::uniform_tensor(kFloat64, {8, 6, 4, 4}, rng),
               b64 = test::uniform_tensor(kFloat64, {12}, rng);
  const Kernel k = kernel("upsample.conv_transpose2d", attrs);
  const auto y64 = k.forward({x64, w64, b64});
  const Tensor dy64 = test::uniform_tensor(kFloat64, y64[0].shape(), rng);
  const auto g64 = k.backward({x64, w64, b64}, y64, {dy64});
  for (int threads : {1, 2, 3}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    RunOptions options;
    options.num_threads = threads;
    const std::vector<Tensor> in32{test::as_float32(x64), test::as_float32(w64), test::as_float32(b64)};
    for (int call = 0; call < 2; ++call) {  // the second call runs on cached primitives
      const auto y32 = k.forward(in32, options);
      EXPECT_LE(test::relative_error(test::as_doubles(y32[0]), test::as_doubles(y64[0])), 1e-5);
      const auto g32 = k.backward(in32, y32, {test::as_float32(dy64)}, {true, true, true}, options);
      for (int i = 0; i < 3; ++i)
        EXPECT_LE(test::relative_error(test::as_doubles(g32[i]), test::as_doubles(g64[i])), 1e-5)
            << "input " << i;
    }
  }
}

TEST(ConvTranspose, OutputSizeFormula) {
  // (in − 1)·s − 2p + d·(k − 1) + output_padding + 1, the reference's two checked examples.
  std::mt19937 rng(4);
  const auto y1 = kernel("upsample.conv_transpose2d",
                         {{"stride", Ints{2}}, {"padding", Ints{1}}, {"output_padding", Ints{1}}})
                      .forward({test::uniform_tensor(kFloat32, {1, 2, 5, 7}, rng),
                                test::uniform_tensor(kFloat32, {2, 3, 3, 3}, rng)});
  EXPECT_EQ(y1[0].shape(), (Shape{1, 3, 10, 14}));
  const auto y2 =
      kernel("upsample.conv_transpose2d",
             {{"stride", Ints{3}}, {"padding", Ints{2}}, {"output_padding", Ints{2}}, {"dilation", Ints{2}}})
          .forward({test::uniform_tensor(kFloat32, {1, 2, 4, 4}, rng),
                    test::uniform_tensor(kFloat32, {2, 3, 3, 3}, rng)});
  EXPECT_EQ(y2[0].shape(), (Shape{1, 3, 12, 12}));
}

TEST(ConvTranspose, EmptyBatchGivesEmptyOutputAndZeroWeightGradient) {
  std::mt19937 rng(5);
  const Kernel k = kernel("upsample.conv_transpose1d", {{"stride", Ints{2}}});
  const std::vector<Tensor> in{Tensor(kFloat32, {0, 2, 3}), test::uniform_tensor(kFloat32, {2, 3, 2}, rng),
                               test::uniform_tensor(kFloat32, {3}, rng)};
  const auto y = k.forward(in);
  EXPECT_EQ(y[0].shape(), (Shape{0, 3, 6}));
  const auto g = k.backward(in, y, {Tensor(kFloat32, {0, 3, 6})}, {true, true, true});
  EXPECT_THAT(g[1].to_vector<float>(), ::testing::Each(0.0f));
  EXPECT_THAT(g[2].to_vector<float>(), ::testing::Each(0.0f));
}

// ------------------------------------------------------------------ errors

// A one-node graph x → conv_transpose2d(x, weight) → y: building the runtime validates it.
std::string validation_error(const std::string& attrs_json, Shape weight, Shape x = {-1, 4, 5, 5}) {
  std::string x_shape;
  for (std::size_t i = 0; i < x.size(); ++i) x_shape += (i ? ", " : "") + std::to_string(x[i]);
  const Graph g = Graph::from_json(
      R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [)" + x_shape +
          R"(]}], "outputs": ["y"], "nodes": [{"name": "up", "op": "upsample.conv_transpose2d", "inputs": ["x", "w"], "outputs": ["y"], "attrs": )" +
          attrs_json + "}]}",
      "test graph");
  return error_of([&] {
    GraphRuntime rt(test::builtin_plugins(), g, {{"w", Tensor(kFloat32, std::move(weight))}});
    rt.infer_shapes({{"x", Tensor(kFloat32, {2, x[1], x[2], x[3]})}});
  });
}

TEST(ConvTranspose, RefusesBadAttributesWhenTheGraphIsValidated) {
  EXPECT_THAT(validation_error(R"({"padding": [-1]})", {4, 2, 3, 3}),
              HasSubstr("attribute 'padding' = -1 in dim 0, must not be negative"));
  EXPECT_THAT(
      validation_error(R"({"stride": [2], "output_padding": [2]})", {4, 2, 3, 3}),
      HasSubstr("'output_padding' = 2 in dim 0 must be smaller than either stride (2) or dilation (1)"));
  EXPECT_THAT(validation_error(R"({"stride": [0]})", {4, 2, 3, 3}),
              HasSubstr("'stride' = 0 in dim 0, must be positive"));
  EXPECT_THAT(validation_error(R"({"stride": [1, 2, 3]})", {4, 2, 3, 3}),
              HasSubstr("attribute 'stride' has 3 entries, expected 1 or 2"));
  EXPECT_THAT(validation_error(R"({"groups": 3})", {4, 2, 3, 3}),
              HasSubstr("groups = 3 must divide C_in = 4"));
  EXPECT_THAT(
      validation_error(R"({})", {3, 2, 3, 3}),
      HasSubstr("input 'weight' [3, 2, 3, 3] is for C_in = 3 but input 'x' [2, 4, 5, 5] has 4 channels"));
  EXPECT_THAT(validation_error(R"({})", {4, 2, 3}), HasSubstr("input 'weight' has 3 dims, expected 4"));
  EXPECT_THAT(validation_error(R"({"padding": [4]})", {4, 2, 3, 3}, {-1, 4, 2, 2}),
              HasSubstr("output would be empty in spatial dim 0"));
  EXPECT_THAT(
      validation_error(R"({"stride": [2], "output_size": [11, 13]})", {4, 2, 3, 3}),
      HasSubstr("'output_size' asks for 13 in spatial dim 1 but input size 5 gives sizes from 11 to 12"));
  EXPECT_THAT(validation_error(R"({"output_size": [9]})", {4, 2, 3, 3}),
              HasSubstr("'output_size' has 1 entries, expected 2 (or 4 with N and C)"));
}

TEST(ConvTranspose, OutputSizeMayIncludeBatchAndChannels) {
  std::mt19937 rng(6);
  const auto y =
      kernel("upsample.conv_transpose2d", {{"stride", Ints{2}}, {"output_size", Ints{1, 3, 12, 11}}})
          .forward({test::uniform_tensor(kFloat32, {1, 2, 5, 5}, rng),
                    test::uniform_tensor(kFloat32, {2, 3, 3, 3}, rng)});
  EXPECT_EQ(y[0].shape(), (Shape{1, 3, 12, 11}));
}

}  // namespace
}  // namespace pcv
