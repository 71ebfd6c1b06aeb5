// The receptive-field calculator (pcv/receptive_field.hpp): hand-computed layer stacks, the text
// form and its errors, and the same numbers read from model files' graphs.
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/receptive_field.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "support/errors.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

using test::error_of;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One dimension of every row: {size, jump, rf, start}.
struct Expected {
  std::int64_t size;
  double jump, rf, start;
};

void expect_rows(const RfReport& r, const std::vector<Expected>& want, std::size_t dim = 0) {
  ASSERT_EQ(r.rows.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    SCOPED_TRACE("row " + std::to_string(i + 1) + " (" + r.rows[i].layer + ")");
    const RfDim& d = r.rows[i].dims.at(dim);
    EXPECT_EQ(d.size, want[i].size);
    EXPECT_DOUBLE_EQ(d.jump, want[i].jump);
    EXPECT_DOUBLE_EQ(d.rf, want[i].rf);
    EXPECT_DOUBLE_EQ(d.start, want[i].start);
  }
}

RfReport rf(const std::string& spec, std::vector<std::int64_t> size, RfStart c = RfStart::index) {
  return receptive_field(parse_rf_layers(spec), std::move(size), c);
}

constexpr const char* kVoxNet = "conv k=5 s=2; conv k=3; pool k=2 s=2";

TEST(ReceptiveField, VoxNet) {
  // The reference example (index convention): each pooled feature sees 11 voxels, 4 apart.
  const RfReport r = rf(kVoxNet, {32});
  expect_rows(r, {{14, 2, 5, 2}, {12, 2, 9, 4}, {6, 4, 11, 5}});
  EXPECT_EQ(r.input_size, (std::vector<std::int64_t>{32}));
  EXPECT_EQ(r.rows[0].layer, "conv k=5 s=2");
  EXPECT_EQ(r.rows[2].layer, "pool k=2");  // s = k is the pool default
  // Pixel-centre convention: every start moves by half a pixel, nothing else changes.
  expect_rows(rf(kVoxNet, {32}, RfStart::pixel_centre), {{14, 2, 5, 2.5}, {12, 2, 9, 4.5}, {6, 4, 11, 5.5}});
}

TEST(ReceptiveField, PerDimensionValues) {
  // 32×32×8 with a flat kernel in the last dimension: k_eff 1 there keeps r = 1.
  const RfReport r = rf("conv k=3x3x1 s=2x2x1; pool k=2x2x1", {32, 32, 8});
  ASSERT_EQ(r.rows[0].dims.size(), 3u);
  expect_rows(r, {{15, 2, 3, 1}, {7, 4, 5, 2}}, 0);
  expect_rows(r, {{8, 1, 1, 0}, {8, 1, 1, 0}}, 2);
  EXPECT_EQ(r.rows[0].layer, "conv k=3x3x1 s=2x2x1");
  // One input size for every dimension the layers name.
  EXPECT_EQ(rf("conv k=3x3", {10}).input_size, (std::vector<std::int64_t>{10, 10}));
}

TEST(ReceptiveField, DilatedStack) {
  // Input 16, index convention, k_eff = d·(k−1)+1:
  // 1. conv k3 d2 p2: k_eff 5; n = (16+4−5)/1+1 = 16; j 1; r 1+4·1 = 5;  start 0+(2−2)·1 = 0
  // 2. conv k3 s2 p1: k_eff 3; n = ⌊(16+2−3)/2⌋+1 = 8; j 2; r 5+2·1 = 7; start 0+(1−1)·1 = 0
  // 3. conv k3 d4 p4: k_eff 9; n = (8+8−9)/1+1 = 8;   j 2; r 7+8·2 = 23; start 0+(4−4)·2 = 0
  // 4. conv k3 d3:    k_eff 7; n = (8−7)/1+1 = 2;     j 2; r 23+6·2 = 35; start 0+(3−0)·2 = 6
  const RfReport r = rf("conv k=3 d=2 p=2; conv k=3 s=2 p=1; conv k=3 d=4 p=4; conv k=3 d=3", {16});
  expect_rows(r, {{16, 1, 5, 0}, {8, 2, 7, 0}, {8, 2, 23, 0}, {2, 2, 35, 6}});
  EXPECT_EQ(r.rows[2].layer, "conv k=3 p=4 d=4");
}

TEST(ReceptiveField, TransposedConvAndUpsample) {
  // Input 8, index convention:
  // 1. conv k3 s2 p1:   n = ⌊(8+2−3)/2⌋+1 = 4; j 2; r 3; start 0+(1−1)·1 = 0
  // 2. deconv k4 s2 p1: n = (4−1)·2−2+4 = 8; j 2/2 = 1; r 3+(⌈4/2⌉−1)·2 = 5;
  //                     start 0+(1−3/2)/2·2 = −0.5
  // 3. upsample ×2 linear: n 16; j 0.5; r 5+1·1 = 6; start −0.5+(1/2−1)/2·1 = −0.75
  // 4. deconv k3 s2 p1 op1: n = (16−1)·2−2+3+1 = 32; j 0.25; r 6+(⌈3/2⌉−1)·0.5 = 6.5;
  //                     start −0.75+(1−1)/2·0.5 = −0.75; k 3 not divisible by s 2: flagged
  const RfReport r =
      rf("conv k=3 s=2 p=1; deconv k=4 s=2 p=1; upsample f=2 mode=linear; deconv k=3 s=2 p=1 op=1", {8});
  expect_rows(r, {{4, 2, 3, 0}, {8, 1, 5, -0.5}, {16, 0.5, 6, -0.75}, {32, 0.25, 6.5, -0.75}});
  EXPECT_TRUE(r.rows[1].flags.empty());
  ASSERT_EQ(r.rows[3].flags.size(), 1u);
  EXPECT_THAT(r.rows[3].flags[0], HasSubstr("alternates between output phases"));
  EXPECT_EQ(r.rows[2].layer, "upsample f=2 mode=linear");
  EXPECT_EQ(r.rows[3].layer, "deconv k=3 s=2 p=1 op=1");
}

TEST(ReceptiveField, TransposedConvStartInvertsTheConv) {
  // A conv and a transposed conv with the same k, s, p: back on the input grid (j 1, start 0).
  // conv k4 s2 p1 on 8: n 4, j 2, r 4, start 0+(1.5−1)·1 = 0.5; deconv: n 8, j 1,
  // r 4+(2−1)·2 = 6, start 0.5+(1−1.5)/2·2 = 0.
  expect_rows(rf("conv k=4 s=2 p=1; deconv k=4 s=2 p=1", {8}), {{4, 2, 4, 0.5}, {8, 1, 6, 0}});
}

TEST(ReceptiveField, UpsamplingLayersShareTheHalfPixelGrid) {
  // ×2 by a transposed conv k=s=2, a pixel shuffle and a nearest upsample: output o lies at input
  // (o + ½)/2 − ½, so start = −0.25 (index) ...
  for (const char* spec : {"deconv k=2 s=2", "pixel_shuffle f=2", "upsample f=2"}) {
    SCOPED_TRACE(spec);
    expect_rows(rf(spec, {4}), {{8, 0.5, 1, -0.25}});
    // ... and 0.25 in the pixel-centre convention: output pixel 0 covers [0, 0.5) of input pixel 0.
    expect_rows(rf(spec, {4}, RfStart::pixel_centre), {{8, 0.5, 1, 0.25}});
  }
  // PyTorch's linear interpolation (align_corners=False) reads output 0 at (0 + ½)/4 − ½ = −0.375.
  expect_rows(rf("upsample f=4 mode=linear", {3}), {{12, 0.25, 2, -0.375}});
  // align_corners=True: output 0 is input 0, jump (n−1)/(n'−1) = 3/7.
  expect_rows(rf("upsample f=2 mode=linear align_corners=1", {4}), {{8, 3.0 / 7, 2, 0}});
  // Cubic reads 4 inputs; a size instead of a factor; pixel_unshuffle is a k=f s=f window.
  expect_rows(rf("upsample size=6 mode=cubic; pixel_unshuffle f=3", {4}),
              {{6, 4.0 / 6, 4, (4.0 / 6 - 1) / 2}, {2, 2, 4 + 2 * 4.0 / 6, (4.0 / 6 - 1) / 2 + 4.0 / 6}});
}

TEST(ReceptiveField, TransposedConvPhases) {
  // k 1 < s 2: odd outputs get only the bias. With dilation the widest phase decides: k2 d3 s2
  // puts its taps (offsets 0 and 3) in different phases, so r stays 1 (the formula ⌈k_eff/s⌉−1
  // would give 1 more). k2 d2 s2: offsets 0 and 2 in one phase, one input apart: r 1+1.
  const RfReport a = rf("deconv k=1 s=2", {4});
  EXPECT_THAT(a.rows[0].flags, ElementsAre(HasSubstr("receive no input")));
  expect_rows(rf("deconv k=2 s=2 d=3", {4}), {{(4 - 1) * 2 + 4, 0.5, 1, (0 - 1.5) / 2}});
  expect_rows(rf("deconv k=2 s=2 d=2", {4}), {{(4 - 1) * 2 + 3, 0.5, 2, -0.5}});
  EXPECT_THAT(error_of([] { rf("deconv k=3 s=2 op=2", {4}); }), HasSubstr("must be smaller than the stride"));
}

TEST(ReceptiveField, CeilModePooling) {
  // 7 with k2 s2: floor mode ⌊5/2⌋+1 = 3, ceil mode ⌈5/2⌉+1 = 4 (the last window half outside).
  expect_rows(rf("pool k=2", {7}), {{3, 2, 2, 0.5}});
  expect_rows(rf("pool k=2 ceil=1", {7}), {{4, 2, 2, 0.5}});
  // 5 with k3 s3 p1: ⌈4/3⌉+1 = 3, but window 3 would start at 6 ≥ 5+1, in the right padding:
  // dropped as PyTorch does, leaving 2.
  expect_rows(rf("pool k=3 s=3 p=1 ceil=1", {5}), {{2, 3, 3, 0}});
  EXPECT_EQ(parse_rf_layers("pool k=3 s=3 p=1 ceil=1")[0].describe(), "pool k=3 p=1 ceil=1");
}

TEST(ReceptiveField, GlobalPoolAndPassThrough) {
  // conv k3 on 8 → 6, r 3, start 1; global pool: r 3+5·1 = 8 (the whole input), start 1+2.5.
  const RfReport r = rf("conv k=3; relu; global_pool", {8});
  expect_rows(r, {{6, 1, 3, 1}, {6, 1, 3, 1}, {1, 6, 8, 3.5}});
  EXPECT_EQ(r.rows[1].layer, "pass");
  EXPECT_THAT(r.rows[2].flags, ElementsAre(HasSubstr("every position")));
}

TEST(ReceptiveField, Errors) {
  EXPECT_EQ(error_of([] { rf("conv k=3; conv k=3; conv k=5 s=2", {8}); }),
            "layer 3 (conv k=5 s=2): output would be empty for input 4");
  EXPECT_EQ(error_of([] {
              rf("conv k=3; conv k=3x9", {8, 8});
            }),
            "layer 2 (conv k=3x9): output would be empty for input 6 in dimension 2");
  EXPECT_THAT(error_of([] { rf("conv k=3", {0}); }), HasSubstr("input sizes must be positive, got 0"));
  EXPECT_THAT(error_of([] { rf("conv k=3", {-4, 4}); }), HasSubstr("must be positive"));
  EXPECT_THAT(error_of([] {
                rf("conv k=3x3", {8, 8, 8});
              }),
              HasSubstr("layer 1 (conv k=3): k has 2 values (3x3) for 3 spatial dimensions"));
  EXPECT_THAT(error_of([] { rf("pixel_unshuffle f=2", {7}); }), HasSubstr("not divisible by the factor 2"));
}

TEST(ReceptiveField, ParseErrorsNameTheLayerAndToken) {
  const auto parse_error = [](const char* spec) { return error_of([&] { parse_rf_layers(spec); }); };
  EXPECT_THAT(
      parse_error("conv k=3; frob k=2"),
      AllOf(HasSubstr("layer 2"), HasSubstr("unknown layer kind 'frob'"), HasSubstr("expected conv, pool")));
  EXPECT_THAT(parse_error("conv k=3; conv k=x"),
              AllOf(HasSubstr("layer 2"), HasSubstr("bad token 'k=x'"), HasSubstr("positive integer")));
  EXPECT_THAT(parse_error("conv k=0"), AllOf(HasSubstr("layer 1"), HasSubstr("'k=0'")));
  EXPECT_THAT(parse_error("conv k=3x"), HasSubstr("'k=3x'"));
  EXPECT_THAT(parse_error("conv k=3 p=-1"), AllOf(HasSubstr("'p=-1'"), HasSubstr("non-negative")));
  EXPECT_THAT(parse_error("conv k=3 f=2"),
              AllOf(HasSubstr("'f=2'"), HasSubstr("conv takes the keys k, s, p, d")));
  EXPECT_THAT(parse_error("pool k=2 stride"), AllOf(HasSubstr("bad token 'stride'"), HasSubstr("key=value")));
  EXPECT_THAT(parse_error("conv k=3 k=5"), HasSubstr("k is given twice"));
  EXPECT_THAT(parse_error("conv s=2"), AllOf(HasSubstr("layer 1"), HasSubstr("k= (kernel size) is missing")));
  EXPECT_THAT(parse_error("upsample mode=linear"), HasSubstr("f= (factor) or size="));
  EXPECT_THAT(parse_error("upsample f=2 mode=area"),
              AllOf(HasSubstr("'mode=area'"), HasSubstr("nearest, linear")));
  EXPECT_THAT(parse_error("upsample f=2 align_corners=1"), HasSubstr("linear and cubic modes only"));
  EXPECT_THAT(parse_error("pixel_shuffle f=1.5"), HasSubstr("'f=1.5'"));
  EXPECT_THAT(parse_error("conv k=3;; pool k=2"), HasSubstr("layer 2 is empty"));
  EXPECT_THAT(parse_error("  "), HasSubstr("empty"));
  // Whitespace, case of the kind and a trailing ';' are fine.
  EXPECT_EQ(parse_rf_layers("  CONV   k=3 ;pool k=2;").size(), 2u);
}

// ---------------------------------------------------------------------------------------------
// Model files

class ReceptiveFieldOfModel : public test::TempDirTest {
 protected:
  // Writes and reloads a model: the graph JSON plus zero weights of the given shapes.
  Model saved(const std::string& graph_json, const std::map<std::string, Shape>& weights) {
    Model m;
    m.graph = Graph::from_json(graph_json, "test graph");
    for (const auto& [name, shape] : weights) m.tensors[name] = Tensor(kFloat32, shape);
    m.save(dir_ / "m.safetensors");
    return Model::load(dir_ / "m.safetensors");
  }
};

TEST_F(ReceptiveFieldOfModel, VoxNetGivesTheTextSpecsNumbers) {
  const Model m = saved(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 1, 32, 32, 32]}],
    "outputs": ["y"], "nodes": [
      {"name": "conv1", "op": "nn.conv3d", "inputs": ["x", "conv1.weight", "conv1.bias"], "outputs": ["c1"],
       "attrs": {"stride": [2]}},
      {"name": "act1", "op": "nn.leaky_relu", "inputs": ["c1"], "outputs": ["a1"], "attrs": {"negative_slope": 0.1}},
      {"name": "drop1", "op": "nn.dropout", "inputs": ["a1"], "outputs": ["d1", "m1"], "attrs": {"p": 0.2}},
      {"name": "conv2", "op": "nn.conv3d", "inputs": ["d1", "conv2.weight", "conv2.bias"], "outputs": ["c2"]},
      {"name": "act2", "op": "nn.leaky_relu", "inputs": ["c2"], "outputs": ["a2"]},
      {"name": "pool2", "op": "nn.max_pool3d", "inputs": ["a2"], "outputs": ["p2"], "attrs": {"kernel_size": [2]}},
      {"name": "flat", "op": "nn.flatten", "inputs": ["p2"], "outputs": ["f"]},
      {"name": "fc", "op": "nn.linear", "inputs": ["f", "fc.weight", "fc.bias"], "outputs": ["y"]}]})",
                        {{"conv1.weight", {4, 1, 5, 5, 5}},
                         {"conv1.bias", {4}},
                         {"conv2.weight", {4, 4, 3, 3, 3}},
                         {"conv2.bias", {4}},
                         {"fc.weight", {10, 4 * 6 * 6 * 6}},
                         {"fc.bias", {10}}});
  const RfReport from_model = receptive_field(m, {});
  const RfReport from_text = rf(kVoxNet, {32, 32, 32});
  EXPECT_TRUE(from_model.spatial);
  EXPECT_EQ(from_model.input_size, (std::vector<std::int64_t>{32, 32, 32}));
  ASSERT_EQ(from_model.rows.size(), 3u);  // the activation and dropout are left out
  for (std::size_t i = 0; i < 3; ++i)
    for (std::size_t d = 0; d < 3; ++d) {
      const RfDim &a = from_model.rows[i].dims.at(d), &b = from_text.rows[i].dims.at(d);
      EXPECT_EQ(a.size, b.size);
      EXPECT_EQ(a.jump, b.jump);
      EXPECT_EQ(a.rf, b.rf);
      EXPECT_EQ(a.start, b.start);
    }
  expect_rows(from_model, {{14, 2, 5, 2}, {12, 2, 9, 4}, {6, 4, 11, 5}}, 2);
  EXPECT_EQ(from_model.rows[0].name, "conv1");
  EXPECT_EQ(from_model.rows[0].op, "nn.conv3d");
  EXPECT_EQ(from_model.rows[0].layer, "conv k=5 s=2");
  EXPECT_EQ(from_model.rows[2].layer, "pool k=2");
  EXPECT_THAT(from_model.notes, ElementsAre(HasSubstr("ends at 'flat' (nn.flatten)")));
  // An explicit input size overrides the graph's; a single value applies to every dimension.
  expect_rows(receptive_field(m, {20}), {{8, 2, 5, 2}, {6, 2, 9, 4}, {3, 4, 11, 5}});
  EXPECT_THAT(error_of([&] { receptive_field(m, {20, 20}); }), HasSubstr("3 spatial dimensions"));
}

TEST_F(ReceptiveFieldOfModel, PoolAttributesAndUpsamplingOps) {
  // Open spatial shape: the size comes from the caller, the dimension count from the ops.
  const Model m = saved(R"({"inputs": [{"name": "x", "dtype": "float32"}], "outputs": ["y"], "nodes": [
      {"name": "pool", "op": "nn.avg_pool2d", "inputs": ["x"], "outputs": ["p"],
       "attrs": {"kernel_size": [3], "stride": [3], "padding": [1], "ceil_mode": true}},
      {"name": "up", "op": "upsample.conv_transpose2d", "inputs": ["p", "up.weight"], "outputs": ["u"],
       "attrs": {"stride": [2], "padding": [1], "output_padding": [1]}},
      {"name": "interp", "op": "upsample.interpolate", "inputs": ["u"], "outputs": ["i"],
       "attrs": {"mode": "bilinear", "scale_factor": 2.0}},
      {"name": "shuffle", "op": "upsample.pixel_shuffle", "inputs": ["i"], "outputs": ["s"],
       "attrs": {"upscale_factor": 2}},
      {"name": "unshuffle", "op": "upsample.pixel_unshuffle", "inputs": ["s"], "outputs": ["y"],
       "attrs": {"downscale_factor": 4}}]})",
                        {{"up.weight", {8, 4, 3, 3}}});
  EXPECT_THAT(error_of([&] { receptive_field(m, {}); }), HasSubstr("--input-size"));
  const RfReport g = receptive_field(m, {5});
  const RfReport t =
      rf("pool k=3 s=3 p=1 ceil=1; deconv k=3 s=2 p=1 op=1; upsample f=2 mode=linear; "
         "pixel_shuffle f=2; pixel_unshuffle f=4",
         {5, 5});
  ASSERT_EQ(g.rows.size(), t.rows.size());
  for (std::size_t i = 0; i < t.rows.size(); ++i) {
    SCOPED_TRACE(t.rows[i].layer);
    EXPECT_EQ(g.rows[i].layer, t.rows[i].layer);
    EXPECT_EQ(g.rows[i].flags, t.rows[i].flags);
    ASSERT_EQ(g.rows[i].dims.size(), 2u);
    EXPECT_EQ(g.rows[i].dims[1].size, t.rows[i].dims[1].size);
    EXPECT_DOUBLE_EQ(g.rows[i].dims[1].rf, t.rows[i].dims[1].rf);
    EXPECT_DOUBLE_EQ(g.rows[i].dims[1].start, t.rows[i].dims[1].start);
  }
  // 5 → pool 2 → deconv (2−1)·2−2+3+1 = 4 → 8 → 16 → 4.
  EXPECT_EQ(g.rows.back().dims[0].size, 4);
}

TEST_F(ReceptiveFieldOfModel, BranchesTakeTheLargestRfAndFlagMisalignment) {
  // A residual block (aligned: same jump and start on both paths) and a join of a strided conv
  // with a pool (same size and jump, starts 0 and 0.5: misaligned).
  const Model m = saved(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2, 8, 8]}],
    "outputs": ["y"], "nodes": [
      {"name": "c1", "op": "nn.conv2d", "inputs": ["x", "w1"], "outputs": ["a"], "attrs": {"padding": [1]}},
      {"name": "r1", "op": "nn.relu", "inputs": ["a"], "outputs": ["b"]},
      {"name": "c2", "op": "nn.conv2d", "inputs": ["b", "w2"], "outputs": ["c"], "attrs": {"padding": [1]}},
      {"name": "res", "op": "nn.add", "inputs": ["c", "x"], "outputs": ["d"]},
      {"name": "down", "op": "nn.conv2d", "inputs": ["d", "w3"], "outputs": ["e"],
       "attrs": {"stride": [2], "padding": [1]}},
      {"name": "pool", "op": "nn.max_pool2d", "inputs": ["d"], "outputs": ["f"], "attrs": {"kernel_size": [2]}},
      {"name": "cat", "op": "nn.concat", "inputs": ["e", "f"], "outputs": ["g"], "attrs": {"dim": 1}},
      {"name": "gap", "op": "nn.global_avg_pool", "inputs": ["g"], "outputs": ["y"]}]})",
                        {{"w1", {2, 2, 3, 3}}, {"w2", {2, 2, 3, 3}}, {"w3", {2, 2, 3, 3}}});
  const RfReport r = receptive_field(m, {});
  // c1: 8, r 3, start 0; c2: r 5; res = max(5, 1) = 5, aligned; down k3 s2 p1: 4, j 2, r 5+2 = 7,
  // start 0; pool k2: 4, j 2, r 5+1 = 6, start 0.5; cat: r 7 from `down`, misaligned;
  // gap: r 7+3·2 = 13, start 0+1.5·2 = 3.
  expect_rows(
      r,
      {{8, 1, 3, 0}, {8, 1, 5, 0}, {8, 1, 5, 0}, {4, 2, 7, 0}, {4, 2, 6, 0.5}, {4, 2, 7, 0}, {1, 8, 13, 3}});
  EXPECT_EQ(r.rows[2].name, "res");
  EXPECT_EQ(r.rows[2].layer, "join");
  EXPECT_TRUE(r.rows[2].flags.empty());
  EXPECT_EQ(r.rows[5].name, "cat");
  EXPECT_THAT(r.rows[5].flags, ElementsAre(AllOf(HasSubstr("misaligned"), HasSubstr("starts (0, 0.5)"))));
  EXPECT_EQ(r.rows[6].layer, "global_pool");
}

TEST_F(ReceptiveFieldOfModel, NoSpatialLayers) {
  const Model m = saved(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2]}], "outputs": ["y"],
      "nodes": [{"name": "fc", "op": "nn.linear", "inputs": ["x", "fc.weight"], "outputs": ["y"]}]})",
                        {{"fc.weight", {3, 2}}});
  const RfReport r = receptive_field(m, {});
  EXPECT_FALSE(r.spatial);
  EXPECT_TRUE(r.rows.empty());
  EXPECT_THAT(r.notes, ElementsAre(HasSubstr("no graph input has spatial dimensions")));
  // Spatial input, but only element-wise ops and ops the calculator does not know.
  const Model e =
      saved(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2, 4, 4]}], "outputs": ["y"],
      "nodes": [{"name": "a", "op": "nn.relu", "inputs": ["x"], "outputs": ["r"]},
                {"name": "b", "op": "other.thing", "inputs": ["r"], "outputs": ["y"]}]})",
            {});
  const RfReport s = receptive_field(e, {});
  EXPECT_FALSE(s.spatial);
  EXPECT_THAT(s.notes, ElementsAre(HasSubstr("no spatial layers"), HasSubstr("unknown ops): other.thing")));
}

TEST_F(ReceptiveFieldOfModel, GraphErrorsNameTheNode) {
  const Model m =
      saved(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 1, 6]}], "outputs": ["y"],
      "nodes": [{"name": "c", "op": "nn.conv1d", "inputs": ["x", "w"], "outputs": ["a"], "attrs": {"stride": [2]}},
                {"name": "p", "op": "nn.max_pool1d", "inputs": ["a"], "outputs": ["y"]}]})",
            {{"w", {1, 1, 5}}});
  EXPECT_THAT(error_of([&] { receptive_field(m, {}); }),
              AllOf(HasSubstr("node 'p' (nn.max_pool1d)"), HasSubstr("kernel_size is missing")));
  EXPECT_THAT(error_of([&] { receptive_field(m, {4}); }),
              HasSubstr("node 'c' (nn.conv1d) [conv k=5 s=2]: output would be empty for input 4"));
}

}  // namespace
}  // namespace pcv
