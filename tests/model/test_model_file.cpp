// Model files: a round trip, and each kind of malformed file giving its own error that names the
// file (the byte-level safetensors cases are in test_safetensors.cpp; here the same checks are
// seen through Model::load, plus the graph-level ones).
#include <pcv/error.hpp>
#include <pcv/model.hpp>
#include <pcv/runtime.hpp>
#include <pcv/safetensors.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include <unistd.h>

#include "support/test_plugins.hpp"

#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using ::testing::AllOf;
using ::testing::HasSubstr;

class ModelFile : public test::TempDirTest {
 protected:
  static Model small_model() {
    Model m;
    m.graph = Graph::from_json(R"({"inputs": [{"name": "x", "dtype": "float32", "shape": [-1, 2]}],
      "outputs": ["y"], "nodes": [{"name": "fc", "op": "nn.linear", "inputs": ["x", "fc.weight", "fc.bias"],
      "outputs": ["y"]}]})",
                               "small");
    m.tensors["fc.weight"] = Tensor::from<float>({3, 2}, {1, 2, 3, 4, 5, 6});
    m.tensors["fc.bias"] = Tensor::from<float>({3}, {0.5f, -0.5f, 0});
    m.labels = {"a", "b", "c"};
    m.preprocessing = R"({"num_points":16})";
    return m;
  }
  std::string error_loading(const fs::path& p) {
    try {
      Model::load(p);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  }
  std::string bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const fs::path& p, const std::string& b) { std::ofstream(p, std::ios::binary) << b; }
};

TEST_F(ModelFile, RoundTripsAndRuns) {
  small_model().save(dir_ / "m.safetensors");
  const Model m = Model::load(dir_ / "m.safetensors");
  EXPECT_EQ(m.labels, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(m.preprocessing, R"({"num_points":16})");
  EXPECT_EQ(m.graph.to_json(), small_model().graph.to_json());
  GraphRuntime rt(test::builtin_plugins(), m.graph, TensorMap(m.tensors.begin(), m.tensors.end()));
  const Tensor y = rt.run({{"x", Tensor::from<float>({1, 2}, {1, 1})}}).at("y");
  EXPECT_EQ(y.to_vector<float>(), (std::vector<float>{3.5f, 6.5f, 11}));
}

TEST_F(ModelFile, TruncatedFile) {
  small_model().save(dir_ / "m.safetensors");
  const std::string b = bytes(dir_ / "m.safetensors");
  write(dir_ / "t.safetensors", b.substr(0, b.size() - 5));
  EXPECT_THAT(error_loading(dir_ / "t.safetensors"),
              AllOf(HasSubstr("t.safetensors"), HasSubstr("outside the file")));
  write(dir_ / "t4.safetensors", b.substr(0, 4));
  EXPECT_THAT(error_loading(dir_ / "t4.safetensors"),
              AllOf(HasSubstr("t4.safetensors"), HasSubstr("truncated")));
}

TEST_F(ModelFile, HeaderTooBig) {
  std::string b(8, '\0');
  const std::uint64_t huge = 1ull << 40;
  std::memcpy(b.data(), &huge, 8);
  write(dir_ / "h.safetensors", b + "{}");
  EXPECT_THAT(error_loading(dir_ / "h.safetensors"), AllOf(HasSubstr("h.safetensors"), HasSubstr("exceeds")));
}

// A hand-made header: two tensors whose byte ranges overlap, or whose size does not fit the dtype.
std::string file_with_header(const std::string& header, std::size_t data_bytes) {
  std::string b(8, '\0');
  const std::uint64_t n = header.size();
  std::memcpy(b.data(), &n, 8);
  return b + header + std::string(data_bytes, '\0');
}

TEST_F(ModelFile, OverlappingOffsets) {
  write(dir_ / "o.safetensors", file_with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                                 12));
  EXPECT_THAT(error_loading(dir_ / "o.safetensors"),
              AllOf(HasSubstr("o.safetensors"), HasSubstr("tensor 'b'"), HasSubstr("overlaps tensor 'a'")));
}

TEST_F(ModelFile, WrongDtypeSize) {
  write(dir_ / "d.safetensors",
        file_with_header(R"({"w":{"dtype":"F64","shape":[3],"data_offsets":[0,12]}})", 12));
  EXPECT_THAT(error_loading(dir_ / "d.safetensors"),
              AllOf(HasSubstr("d.safetensors"), HasSubstr("tensor 'w'"), HasSubstr("needs 24")));
}

TEST_F(ModelFile, PlainSafetensorsIsNotAModel) {
  write_safetensors(dir_ / "w.safetensors", {{"w", Tensor::from<float>({1}, {1})}});
  EXPECT_THAT(error_loading(dir_ / "w.safetensors"),
              AllOf(HasSubstr("w.safetensors"), HasSubstr("not a pcv model")));
}

TEST_F(ModelFile, NewerFormatVersion) {
  Model m = small_model();
  m.save(dir_ / "m.safetensors");
  const SafetensorsFile f = SafetensorsFile::open(dir_ / "m.safetensors");
  auto meta = f.metadata();
  meta[kFormatKey] = "7";
  write_safetensors(dir_ / "v.safetensors", f.tensors(), meta);
  EXPECT_THAT(error_loading(dir_ / "v.safetensors"), HasSubstr("model format version 7 is not supported"));
}

TEST_F(ModelFile, GraphNamingAMissingTensor) {
  Model m = small_model();
  m.tensors.erase("fc.bias");
  std::vector<std::pair<std::string, Tensor>> tensors(m.tensors.begin(), m.tensors.end());
  write_safetensors(dir_ / "g.safetensors", tensors,
                    {{kFormatKey, "1"}, {kGraphKey, m.graph.to_json()}, {kLabelsKey, "[]"}});
  EXPECT_THAT(error_loading(dir_ / "g.safetensors"),
              AllOf(HasSubstr("g.safetensors"), HasSubstr("tensor 'fc.bias' (read by node 'fc')")));
}

TEST_F(ModelFile, GraphNamingAMissingOp) {
  Model m = small_model();
  m.graph.nodes[0].op = "nn.linnear";
  m.save(dir_ / "op.safetensors");
  const Model loaded =
      Model::load(dir_ / "op.safetensors");  // ops are checked against the plugins at run time
  try {
    GraphRuntime(test::builtin_plugins(), loaded.graph,
                 TensorMap(loaded.tensors.begin(), loaded.tensors.end()), (dir_ / "op.safetensors").string());
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr("op.safetensors"), HasSubstr("node 'fc'"),
                                HasSubstr("no loaded plugin provides op 'nn.linnear'")));
  }
}

TEST_F(ModelFile, BrokenGraphJson) {
  write_safetensors(dir_ / "j.safetensors", {{"w", Tensor::from<float>({1}, {1})}},
                    {{kFormatKey, "1"}, {kGraphKey, "{\"inputs\": ["}});
  EXPECT_THAT(error_loading(dir_ / "j.safetensors"),
              AllOf(HasSubstr("j.safetensors"), HasSubstr("not valid JSON")));
}

}  // namespace
}  // namespace pcv
