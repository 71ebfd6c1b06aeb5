// pcv::add_resize_conv: the nodes it appends run, and equal the two ops applied by hand.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <pcv/graph_patterns.hpp>
#include <pcv/runtime.hpp>

#include <random>
#include <vector>

#include "support/errors.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using ::testing::HasSubstr;

Tensor normal_tensor(Shape shape, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> normal;
  Tensor t(kFloat64, std::move(shape));
  for (std::int64_t i = 0; i < t.numel(); ++i) t.data<double>()[i] = normal(rng);
  return t;
}

TEST(ResizeConv, RunsAsInterpolateThenSizeKeepingConv) {
  Graph g;
  g.inputs.push_back({"x", kFloat64, {-1, 2, 3, 4}});
  add_resize_conv(g, {.name = "up",
                      .input = "x",
                      .output = "y",
                      .spatial_dims = 2,
                      .scale = 2,
                      .mode = "linear",
                      .weight = "w",
                      .bias = "b",
                      .kernel_size = 3});
  g.outputs.push_back("y");
  ASSERT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(g.nodes[0].op, "upsample.interpolate");
  EXPECT_EQ(std::get<std::string>(g.nodes[0].attrs.at("mode")), "bilinear");
  EXPECT_EQ(g.nodes[1].op, "nn.conv2d");

  const Tensor x = normal_tensor({2, 2, 3, 4}, 1), w = normal_tensor({5, 2, 3, 3}, 2),
               b = normal_tensor({5}, 3);
  GraphRuntime rt(test::builtin_plugins(), g, {{"w", w}, {"b", b}});
  const Tensor y = rt.run({{"x", x}}).at("y");
  ASSERT_EQ(y.shape(), (Shape{2, 5, 6, 8}));

  const Registry& r = test::builtin_plugins();
  const Tensor up = r.create_kernel("upsample.interpolate", {{"mode", std::string("bilinear")},
                                                             {"scale_factor", std::vector<double>{2}}})
                        .forward({x})[0];
  const Tensor want =
      r.create_kernel("nn.conv2d", {{"padding", std::vector<std::int64_t>{1}}}).forward({up, w, b})[0];
  EXPECT_EQ(y.to_vector<double>(), want.to_vector<double>());
}

TEST(ResizeConv, RefusesAnEvenKernelABadRankOrScale) {
  Graph g;
  const auto error_for = [&](auto change) {
    ResizeConv spec;
    spec.name = "up";
    change(spec);
    return test::error_of([&] { add_resize_conv(g, spec); });
  };
  EXPECT_THAT(error_for([](ResizeConv& s) { s.kernel_size = 4; }),
              HasSubstr("resize-conv 'up': kernel_size = 4 must be odd"));
  EXPECT_THAT(error_for([](ResizeConv& s) { s.spatial_dims = 4; }),
              HasSubstr("spatial_dims = 4, expected 1, 2 or 3"));
  EXPECT_THAT(error_for([](ResizeConv& s) { s.scale = 0; }), HasSubstr("scale = 0.000000 must be positive"));
  EXPECT_TRUE(g.nodes.empty());
}

}  // namespace
}  // namespace pcv
