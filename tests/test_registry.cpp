// The registry with pcv's own plugins: discovery, listing, schemas, attributes, kernels, errors.
#include <pcv/error.hpp>
#include <pcv/registry.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "support/tensor_matchers.hpp"
#include "support/test_plugins.hpp"

namespace pcv {
namespace {

using test::builtin_plugins;
using ::testing::HasSubstr;

// Asserts that `body` throws pcv::Error whose message contains `part`.
template <class F>
void expect_error(F&& body, const std::string& part) {
  try {
    body();
    ADD_FAILURE() << "no error; expected one mentioning: " << part;
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr(part));
  }
}

TEST(Registry, LoadsTheCAndCppPlugins) {
  const Registry& r = builtin_plugins();
  const PluginInfo* nn = r.find_plugin("nn");
  const PluginInfo* c = r.find_plugin("example_c");
  ASSERT_NE(nn, nullptr);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(nn->abi_major, 1u);
  EXPECT_EQ(nn->abi_minor, std::uint32_t{PCV_ABI_VERSION_MINOR});
  EXPECT_EQ(nn->path.filename(), "pcv_nn.so");
  EXPECT_EQ(c->version, "1.0.0");
  EXPECT_EQ(c->ops.size(), 1u);
}

TEST(Registry, DescribesOpSchemas) {
  const OpInfo& scale = builtin_plugins().op("example_c.scale");
  EXPECT_EQ(scale.plugin, "example_c");
  EXPECT_EQ(scale.caps, unsigned(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE | PCV_CAP_BACKWARD));
  ASSERT_EQ(scale.inputs.size(), 1u);
  EXPECT_EQ(scale.inputs[0].name, "x");
  ASSERT_EQ(scale.attrs.size(), 1u);
  EXPECT_EQ(scale.attrs[0].name, "alpha");
  EXPECT_EQ(scale.attrs[0].type, PCV_ATTR_FLOAT);
  ASSERT_TRUE(scale.attrs[0].default_value.has_value());
  EXPECT_EQ(std::get<double>(*scale.attrs[0].default_value), 1.0);

  const OpInfo& add = builtin_plugins().op("nn.add");
  EXPECT_EQ(add.inputs.size(), 2u);
  EXPECT_EQ(add.outputs.size(), 1u);
  EXPECT_EQ(caps_string(add.caps), "cpu, backward, thread-safe");
}

TEST(Registry, UnknownOpListsWhatIsLoaded) {
  expect_error([] { builtin_plugins().op("nn.relux"); }, "unknown op 'nn.relux' (loaded ops: ");
  expect_error([] { builtin_plugins().op("nn.relux"); }, "nn.relu");
}

TEST(Registry, LoadingAFileTwiceGivesTheSamePlugin) {
  Registry& r = builtin_plugins();
  const PluginInfo& again = r.load(test::kPluginDir / "pcv_nn.so");
  EXPECT_EQ(&again, r.find_plugin("nn"));
}

TEST(Registry, DefaultSearchPathFindsTheBuildTreePlugins) {
  ::unsetenv("PCV_PLUGIN_PATH");
  const auto paths = Registry::default_search_path();
  ASSERT_EQ(paths.size(), 1u);
  EXPECT_EQ(std::filesystem::canonical(paths[0]), std::filesystem::canonical(test::kPluginDir));
}

TEST(Registry, PluginPathEnvironmentComesFirst) {
  ::setenv("PCV_PLUGIN_PATH", "/nowhere/a:/nowhere/b.so", 1);
  const auto paths = Registry::default_search_path();
  ::unsetenv("PCV_PLUGIN_PATH");
  ASSERT_GE(paths.size(), 2u);
  EXPECT_EQ(paths[0], "/nowhere/a");
  EXPECT_EQ(paths[1], "/nowhere/b.so");
  Registry r;
  const auto failures = r.load_all({paths[0]});
  ASSERT_EQ(failures.size(), 1u);
  EXPECT_EQ(failures[0].message(), "/nowhere/a: no such file or directory");
}

TEST(Registry, MissingFileIsAClearError) {
  Registry r;
  expect_error([&] { r.load("/nowhere/pcv_x.so"); }, "cannot load plugin /nowhere/pcv_x.so: no such file");
}

TEST(Kernel, RunsTheCPluginForwardAndBackward) {
  Kernel k = builtin_plugins().create_kernel("example_c.scale", {{"alpha", 2.5}});
  const Tensor x = Tensor::from<float>({2, 2}, {1.f, -2.f, 0.5f, 4.f});
  const auto y = k.forward({x});
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(y[0].to_vector<float>(), (std::vector<float>{2.5f, -5.f, 1.25f, 10.f}));
  const Tensor dy = Tensor::from<float>({2, 2}, {1.f, 1.f, 2.f, 0.f});
  const auto dx = k.backward({x}, y, {dy});
  EXPECT_EQ(dx[0].to_vector<float>(), (std::vector<float>{2.5f, 2.5f, 5.f, 0.f}));
}

TEST(Kernel, AttributesTakeDefaultsAndLosslessConversions) {
  const Tensor x = Tensor::from<double>({3}, {1.0, 2.0, 3.0});
  Kernel by_default = builtin_plugins().create_kernel("example_c.scale");
  EXPECT_EQ(by_default.forward({x})[0].to_vector<double>(), (std::vector<double>{1.0, 2.0, 3.0}));
  Kernel from_int = builtin_plugins().create_kernel("example_c.scale", {{"alpha", std::int64_t{3}}});
  EXPECT_EQ(from_int.forward({x})[0].to_vector<double>(), (std::vector<double>{3.0, 6.0, 9.0}));
}

TEST(Kernel, BadAttributesAreRefusedByName) {
  expect_error(
      [] {
        builtin_plugins().create_kernel("example_c.scale", {{"alpah", 2.0}});
      },
      "op example_c.scale has no attribute 'alpah' (its attributes: alpha)");
  expect_error(
      [] {
        builtin_plugins().create_kernel("example_c.scale", {{"alpha", std::string("big")}});
      },
      "attribute 'alpha' of example_c.scale must be float, got string \"big\"");
}

TEST(Kernel, WrongInputsAreRefusedWithTheOpAndInputNamed) {
  Kernel add = builtin_plugins().create_kernel("nn.add");
  const Tensor a = Tensor::from<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  expect_error([&] { add.forward({a}); }, "nn.add needs input 'b' (#1)");
  expect_error(
      [&] {
        add.forward({a, Tensor::from<float>({4}, {1, 2, 3, 4})});
      },
      "nn.add infer_shapes failed (shape error): nn.add: shapes [2, 3] and [4] do not broadcast");
  expect_error(
      [&] {
        add.forward({a, Tensor::from<double>({3}, {1, 2, 3})});
      },
      "a is float32 but b is float64");
  expect_error([&] { add.forward({a, a, a}); }, "nn.add takes 2 inputs, got 3");
}

TEST(Kernel, UnsupportedDtypeIsReportedByThePlugin) {
  Kernel relu = builtin_plugins().create_kernel("nn.relu");
  const Tensor ints = Tensor::from<std::int32_t>({2}, {1, -1});
  expect_error(
      [&] { relu.forward({ints}); },
      "nn.relu forward failed (not supported): input 'x' of relu has dtype int32; supported: float32, "
      "float64");
  expect_error([&] { builtin_plugins().create_kernel("example_c.scale").forward({ints}); },
               "example_c.scale: input 'x' must be float32 or float64");
}

TEST(Kernel, BackwardChecksGradientShapes) {
  Kernel relu = builtin_plugins().create_kernel("nn.relu");
  const Tensor x = Tensor::from<float>({2}, {1, -1});
  const auto y = relu.forward({x});
  expect_error(
      [&] {
        relu.backward({x}, y, {Tensor::from<float>({3}, {1, 1, 1})});
      },
      "the gradient of output 'y' is float32[3], the output is float32[2]");
}

TEST(Kernel, OutlivesItsRegistry) {
  std::optional<Kernel> kernel;
  {
    Registry r;
    r.load(test::kPluginDir / "pcv_example_c.so");
    kernel.emplace(r.create_kernel("example_c.scale", {{"alpha", -1.0}}));
  }
  EXPECT_EQ(kernel->forward({Tensor::from<float>({1}, {4.f})})[0].to_vector<float>(),
            std::vector<float>{-4.f});
}

}  // namespace
}  // namespace pcv
