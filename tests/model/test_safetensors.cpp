// safetensors: round trips, zero-copy mapped views, hand-made files, and one test per malformed file the
// reader must refuse (each checking that the message names the file and the problem).
#include <pcv/error.hpp>
#include <pcv/memory.hpp>
#include <pcv/safetensors.hpp>

#include <unistd.h>

#include <bit>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using test::entries_of;
using test::read_file;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

static_assert(std::endian::native == std::endian::little,
              "the hand-made files below hold little-endian data");

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xFF);
  return s;
}

template <class T>
std::string bytes_of(std::initializer_list<T> values) {
  std::string s(values.size() * sizeof(T), '\0');
  std::memcpy(s.data(), values.begin(), s.size());
  return s;
}

void write_bytes(const fs::path& path, std::string_view bytes) {
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

bool same_bytes(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() &&
         (a.nbytes() == 0 || std::memcmp(a.raw_data(), b.raw_data(), a.nbytes()) == 0);
}

bool lies_in(const void* p, std::span<const std::byte> bytes) {
  const auto* b = static_cast<const std::byte*>(p);
  return b >= bytes.data() && b <= bytes.data() + bytes.size();
}

class SafetensorsTest : public test::TempDirTest {
 protected:
  // A file with the given header (its length field computed) followed by `data`.
  fs::path crafted(std::string_view header, std::string_view data = "") {
    const fs::path path = dir_ / "crafted.safetensors";
    write_bytes(path, le64(header.size()) + std::string(header) + std::string(data));
    return path;
  }

  // The message of the pcv::Error that opening `path` throws; checks it names the file.
  static std::string open_error(const fs::path& path) {
    try {
      SafetensorsFile::open(path);
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      return e.what();
    }
    ADD_FAILURE() << "opening " << path << " did not throw";
    return "";
  }
};

// --- Round trips --------------------------------------------------------------------------------

TEST_F(SafetensorsTest, EverySupportedDtypeRoundTrips) {
  const std::vector<std::pair<std::string, Tensor>> tensors = {
      {"u8", Tensor::from<std::uint8_t>({5}, {0, 1, 127, 128, 255})},
      {"f32", Tensor::from<float>({2, 3}, {1.5f, -2.f, 0.f, 1e30f, -1e-30f, 3.25f})},
      {"scalar", Tensor::from<float>({}, {7.f})},
      {"i32", Tensor::from<std::int32_t>({2, 2}, {-2147483647 - 1, -1, 0, 2147483647})},
      {"f64", Tensor::from<double>({3}, {3.141592653589793, -0.0, 1e-300})},
      {"empty", Tensor(kInt64, {0, 3})},
      {"i64", Tensor::from<std::int64_t>({1, 1, 2}, {-9223372036854775807LL - 1, 9223372036854775807LL})},
  };
  const fs::path path = dir_ / "all.safetensors";
  write_safetensors(path, tensors);

  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.path(), path);
  EXPECT_THAT(file.metadata(), IsEmpty());
  // Widest elements first, the given order among equals.
  EXPECT_THAT(file.names(), ElementsAre("f64", "empty", "i64", "f32", "scalar", "i32", "u8"));
  for (const auto& [name, expected] : tensors) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(file.contains(name));
    const Tensor t = file.tensor(name);
    EXPECT_TRUE(same_dtype(t.dtype(), expected.dtype()));
    EXPECT_EQ(t.shape(), expected.shape());
    EXPECT_EQ(t.device().device_type, PCV_DEVICE_CPU);
    EXPECT_TRUE(same_bytes(t, expected));
  }
  EXPECT_EQ(file.tensor("scalar").ndim(), 0);
  EXPECT_EQ(file.tensor("scalar").to_vector<float>(), std::vector<float>{7.f});
  EXPECT_EQ(file.tensor("empty").numel(), 0);
  EXPECT_EQ(file.entry("f32").dtype_name, "F32");
  EXPECT_EQ(file.entry("u8").dtype_name, "U8");
}

TEST_F(SafetensorsTest, MetadataRoundTrips) {
  const std::map<std::string, std::string> metadata = {
      {"format", "pt"}, {"note", "h\xC3\xA9llo \xE2\x9C\x93 \"quoted\"\n"}, {"", "empty key"}};
  const fs::path path = dir_ / "meta.safetensors";
  write_safetensors(path, {{"w", Tensor::from<float>({1}, {1.f})}}, metadata);
  EXPECT_EQ(SafetensorsFile::open(path).metadata(), metadata);
}

TEST_F(SafetensorsTest, EmptyFileWithNoTensorsRoundTrips) {
  const fs::path path = dir_ / "empty.safetensors";
  write_safetensors(path, {});
  EXPECT_EQ(fs::file_size(path), 64u);
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_THAT(file.names(), IsEmpty());
  EXPECT_THAT(file.metadata(), IsEmpty());
  EXPECT_FALSE(file.contains("w"));
}

TEST_F(SafetensorsTest, WrittenLayoutIsCanonicalAndAligned) {
  const fs::path path = dir_ / "layout.safetensors";
  write_safetensors(path, {{"bytes", Tensor(kUInt8, {3})},
                           {"f", Tensor(kFloat32, {5})},
                           {"d", Tensor(kFloat64, {2})},
                           {"i", Tensor(kInt32, {1})}});
  const std::string contents = read_file(path);
  std::uint64_t header_length = 0;
  std::memcpy(&header_length, contents.data(), 8);
  EXPECT_EQ((8 + header_length) % 64, 0u);
  EXPECT_EQ(contents[8], '{');
  EXPECT_EQ(contents.size(), 8 + header_length + 3 + 20 + 16 + 4);  // no holes, no trailing bytes

  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.data_start(), 8 + header_length);
  std::uint64_t expected_begin = 0;
  for (const std::string& name : file.names()) {
    const SafetensorsEntry& e = file.entry(name);
    EXPECT_EQ(e.begin, expected_begin) << name;
    expected_begin = e.end;
    const Tensor t = file.tensor(name);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.raw_data()) % element_size(t.dtype()), 0u) << name;
    EXPECT_TRUE(lies_in(t.raw_data(), file.mapped_bytes())) << name << " is a copy, not a view";
  }
}

TEST_F(SafetensorsTest, RewritingWhatWasReadGivesTheSameBytes) {
  const fs::path first = dir_ / "first.safetensors";
  const fs::path second = dir_ / "second.safetensors";
  write_safetensors(
      first, {{"a", Tensor::from<float>({2}, {1.f, 2.f})}, {"b", Tensor::from<std::uint8_t>({1}, {9})}},
      {{"k", "v"}});
  const SafetensorsFile file = SafetensorsFile::open(first);
  write_safetensors(second, file.tensors(), file.metadata());
  EXPECT_EQ(read_file(first), read_file(second));
}

TEST_F(SafetensorsTest, WritingReplacesTheFileAtomically) {
  const fs::path path = dir_ / "model.safetensors";
  write_safetensors(path, {{"old", Tensor(kFloat32, {4})}});
  const SafetensorsFile old_file = SafetensorsFile::open(path);
  const Tensor old_view = old_file.tensor("old");
  write_safetensors(path, {{"new", Tensor::from<std::int32_t>({1}, {5})}});
  // The old mapping still reads the old (now unlinked) file.
  EXPECT_EQ(old_view.to_vector<float>(), std::vector<float>(4, 0.f));
  EXPECT_THAT(SafetensorsFile::open(path).names(), ElementsAre("new"));
  EXPECT_THAT(std::vector<fs::path>(fs::directory_iterator(dir_), fs::directory_iterator()),
              ElementsAre(path));
}

// --- Zero-copy views ------------------------------------------------------------------------------

TEST_F(SafetensorsTest, TensorsAreViewsIntoTheMappingNotCopies) {
  const fs::path path = dir_ / "big.safetensors";
  constexpr std::int64_t kCount = 1 << 20;  // 4 MiB of floats
  {
    Tensor big(kFloat32, {kCount});
    float* p = big.data<float>();
    for (std::int64_t i = 0; i < kCount; ++i) p[i] = static_cast<float>(i);
    write_safetensors(path, {{"big", big}});
  }
  const std::uint64_t before = memory_stats().current_bytes;
  Tensor view;
  {
    const SafetensorsFile file = SafetensorsFile::open(path);
    view = file.tensor("big");
    EXPECT_TRUE(lies_in(view.raw_data(), file.mapped_bytes()));
    EXPECT_EQ(static_cast<const std::byte*>(view.raw_data()),
              file.mapped_bytes().data() + file.data_start() + file.entry("big").begin);
  }
  EXPECT_LT(memory_stats().current_bytes - before, 4u * kCount);  // no tensor-sized allocation
  // The file object is gone; the view keeps the mapping alive.
  EXPECT_EQ(view.data<float>()[kCount - 1], static_cast<float>(kCount - 1));
  EXPECT_EQ(view.data<float>()[12345], 12345.f);
}

TEST_F(SafetensorsTest, MisalignedTensorIsReturnedAsAnAlignedCopy) {
  // A U8 byte first puts the F32 at buffer offset 1: legal, but not alignable.
  std::string header =
      R"({"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]}})";
  header.append((64 - (8 + header.size()) % 64) % 64, ' ');  // the byte buffer 64-aligned, as mapped
  const fs::path path = crafted(header, std::string(1, '\x2A') + bytes_of<float>({1.25f, -4.f}));
  const SafetensorsFile file = SafetensorsFile::open(path);
  ASSERT_EQ(file.data_start() % 64, 0u);
  const Tensor f = file.tensor("f");
  EXPECT_FALSE(lies_in(f.raw_data(), file.mapped_bytes()));
  EXPECT_EQ(reinterpret_cast<std::uintptr_t>(f.raw_data()) % alignof(float), 0u);
  EXPECT_EQ(f.to_vector<float>(), (std::vector<float>{1.25f, -4.f}));
  const Tensor u = file.tensor("u");
  EXPECT_TRUE(lies_in(u.raw_data(), file.mapped_bytes()));
  EXPECT_EQ(u.to_vector<std::uint8_t>(), std::vector<std::uint8_t>{42});
}

// --- Hand-made files ------------------------------------------------------------------------------

TEST_F(SafetensorsTest, HandMadeCanonicalFileLoads) {
  // As other writers make them: keys in any order, header padded with spaces to a multiple of 8.
  std::string header = R"({"b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]},)"
                       R"("__metadata__":{"format":"pt"},)"
                       R"("a":{"dtype":"F64","shape":[],"data_offsets":[0,8]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  const fs::path path = crafted(header, bytes_of<double>({1.5}) + bytes_of<std::int32_t>({7, -3}));
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_THAT(file.names(), ElementsAre("a", "b"));
  EXPECT_EQ(file.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  EXPECT_EQ(file.tensor("a").to_vector<double>(), std::vector<double>{1.5});
  EXPECT_EQ(file.tensor("a").ndim(), 0);
  EXPECT_EQ(file.tensor("b").to_vector<std::int32_t>(), (std::vector<std::int32_t>{7, -3}));
  EXPECT_EQ(file.entry("b").begin, 8u);
  EXPECT_EQ(file.entry("b").end, 16u);
}

TEST_F(SafetensorsTest, EmptyHeaderObjectIsAValidFile) {
  EXPECT_THAT(SafetensorsFile::open(crafted("{}")).names(), IsEmpty());
}

TEST_F(SafetensorsTest, ZeroElementTensorsMayShareAnOffset) {
  const fs::path path = crafted(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                R"("z1":{"dtype":"F32","shape":[0],"data_offsets":[4,4]},)"
                                R"("z2":{"dtype":"I64","shape":[3,0],"data_offsets":[4,4]},)"
                                R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                                bytes_of<float>({1.f, 2.f}));
  const SafetensorsFile file = SafetensorsFile::open(path);
  EXPECT_EQ(file.tensor("z2").shape(), (Shape{3, 0}));
  EXPECT_EQ(file.tensor("b").to_vector<float>(), std::vector<float>{2.f});
}

TEST_F(SafetensorsTest, MissingTensorNamesFileAndTensor) {
  const fs::path path = dir_ / "m.safetensors";
  write_safetensors(path, {{"present", Tensor(kFloat32, {1})}});
  const SafetensorsFile file = SafetensorsFile::open(path);
  try {
    file.tensor("absent");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(path.string()), HasSubstr("no tensor 'absent'")));
  }
  EXPECT_THROW(file.entry("absent"), Error);
}

// --- Malformed files: one test per rule ---------------------------------------------------------

TEST_F(SafetensorsTest, RefusesFileShorterThanTheLengthField) {
  write_bytes(dir_ / "short", "\x02\0\0\0\0");
  EXPECT_THAT(open_error(dir_ / "short"), AllOf(HasSubstr("truncated"), HasSubstr("too short")));
  write_bytes(dir_ / "zero", "");
  EXPECT_THAT(open_error(dir_ / "zero"), HasSubstr("truncated"));
}

TEST_F(SafetensorsTest, RefusesHeaderLengthOverTheLimit) {
  write_bytes(dir_ / "f", le64(200'000'000) + "{}");
  EXPECT_THAT(open_error(dir_ / "f"), HasSubstr("header length 200000000 exceeds the limit"));
  write_bytes(dir_ / "g", le64(~std::uint64_t{0}) + "{}");
  EXPECT_THAT(open_error(dir_ / "g"), HasSubstr("exceeds the limit"));
}

TEST_F(SafetensorsTest, RefusesHeaderLengthOverTheFile) {
  write_bytes(dir_ / "f", le64(1000) + "{}");
  EXPECT_THAT(open_error(dir_ / "f"), HasSubstr("header length 1000 exceeds the 2 bytes"));
}

TEST_F(SafetensorsTest, RefusesHeaderThatIsNotUtf8) {
  EXPECT_THAT(open_error(crafted("{\"a\xFF\":1}")), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(open_error(crafted("{\"\xED\xA0\x80\":1}")), HasSubstr("not valid UTF-8"));  // a surrogate
  EXPECT_THAT(open_error(crafted("{\"\xC0\xAF\":1}")), HasSubstr("not valid UTF-8"));      // overlong '/'
}

TEST_F(SafetensorsTest, RefusesHeaderThatIsNotJson) {
  EXPECT_THAT(open_error(crafted(R"({"a": )")), HasSubstr("not valid JSON"));
  EXPECT_THAT(open_error(crafted("")), HasSubstr("not valid JSON"));
  EXPECT_THAT(open_error(crafted(std::string("{}\0\0", 4))),
              HasSubstr("NUL byte"));  // JSON parsers stop at NUL
}

TEST_F(SafetensorsTest, RefusesHeaderThatIsNotAnObject) {
  EXPECT_THAT(open_error(crafted("[1, 2]")), HasSubstr("not a JSON object"));
  EXPECT_THAT(open_error(crafted("\"text\"")), HasSubstr("not a JSON object"));
}

TEST_F(SafetensorsTest, RefusesDuplicateTopLevelKeys) {
  const std::string entry = R"({"dtype":"U8","shape":[1],"data_offsets":[0,1]})";
  EXPECT_THAT(open_error(crafted(R"({"a":)" + entry + R"(,"a":)" + entry + "}", "x")),
              HasSubstr("duplicate key 'a'"));
}

TEST_F(SafetensorsTest, RefusesDuplicateKeysInsideAnEntry) {
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"U8","dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x")),
      HasSubstr("duplicate key 'dtype' in 'a'"));
}

TEST_F(SafetensorsTest, RefusesDeeplyNestedHeader) {
  const std::string deep = R"({"__metadata__":)" + std::string(1000, '[') + std::string(1000, ']') + "}";
  EXPECT_THAT(open_error(crafted(deep)), HasSubstr("nests deeper"));
}

TEST_F(SafetensorsTest, RefusesEntryThatIsNotAnObject) {
  EXPECT_THAT(open_error(crafted(R"({"a":[1,2]})")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("not a JSON object")));
}

TEST_F(SafetensorsTest, RefusesEntryMissingDtype) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"shape":[1],"data_offsets":[0,1]}})", "x")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("missing \"dtype\"")));
}

TEST_F(SafetensorsTest, RefusesEntryMissingShape) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"U8","data_offsets":[0,1]}})", "x")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("missing \"shape\"")));
}

TEST_F(SafetensorsTest, RefusesEntryMissingDataOffsets) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"U8","shape":[1]}})", "x")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("missing \"data_offsets\"")));
}

TEST_F(SafetensorsTest, RefusesIllTypedDtype) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", "xxxx")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("\"dtype\" must be a string")));
}

TEST_F(SafetensorsTest, RefusesIllTypedShape) {
  for (const char* shape : {R"("2")", "[2.0]", R"(["2"])", "[[2]]", "null", "{}"}) {
    SCOPED_TRACE(shape);
    EXPECT_THAT(
        open_error(crafted(
            R"({"a":{"dtype":"U8","shape":)" + std::string(shape) + R"(,"data_offsets":[0,2]}})", "xx")),
        AllOf(HasSubstr("tensor 'a'"), HasSubstr("\"shape\" must be an array of non-negative integers")));
  }
}

TEST_F(SafetensorsTest, RefusesIllTypedDataOffsets) {
  for (const char* offsets :
       {"[0]", "[0,1,2]", "[-1,1]", "[0.0,1]", R"(["0","1"])", "1", "[0,18446744073709551616]"}) {
    SCOPED_TRACE(offsets);
    EXPECT_THAT(open_error(crafted(
                    R"({"a":{"dtype":"U8","shape":[1],"data_offsets":)" + std::string(offsets) + "}}", "x")),
                AllOf(HasSubstr("tensor 'a'"),
                      HasSubstr("\"data_offsets\" must be an array of two non-negative integers")));
  }
}

TEST_F(SafetensorsTest, RefusesNegativeDimension) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"U8","shape":[2,-1],"data_offsets":[0,0]}})")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("negative dimension")));
}

TEST_F(SafetensorsTest, RefusesMoreDimensionsThanPcvSupports) {
  std::string dims = "1";
  for (int i = 1; i < PCV_MAX_NDIM + 1; ++i) dims += ",1";
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"U8","shape":[)" + dims + R"(],"data_offsets":[0,1]}})", "x")),
      AllOf(HasSubstr("tensor 'a'"), HasSubstr("17 dimensions")));
}

TEST_F(SafetensorsTest, RefusesUnknownKeyInEntry) {
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"stride":[1]}})", "x")),
      AllOf(HasSubstr("tensor 'a'"), HasSubstr("unknown key 'stride'")));
}

TEST_F(SafetensorsTest, RefusesEmptyTensorName) {
  EXPECT_THAT(open_error(crafted(R"({"":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", "x")),
              HasSubstr("empty name"));
}

TEST_F(SafetensorsTest, RefusesValidDtypesPcvDoesNotSupport) {
  for (const char* dtype : {"F16", "BF16", "BOOL", "I8", "U64", "F8_E4M3"}) {
    SCOPED_TRACE(dtype);
    const fs::path path =
        crafted(R"({"a":{"dtype":")" + std::string(dtype) + R"(","shape":[0],"data_offsets":[0,0]}})");
    try {
      SafetensorsFile::open(path);
      ADD_FAILURE() << "no error";
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), AllOf(HasSubstr(path.string()), HasSubstr("tensor 'a'"),
                                  HasSubstr("dtype '" + std::string(dtype) + "' is not supported"),
                                  HasSubstr("F32, F64, I32, I64, U8")));
      EXPECT_EQ(e.code(), PCV_ERR_NOT_SUPPORTED);
    }
  }
}

TEST_F(SafetensorsTest, RefusesUnknownDtype) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"f32","shape":[1],"data_offsets":[0,4]}})", "xxxx")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("unknown dtype 'f32'")));
}

TEST_F(SafetensorsTest, RefusesDataOffsetsThatBeginAfterTheyEnd) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[2,1]}})", "xx")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("[2, 1] begin after they end")));
}

TEST_F(SafetensorsTest, RefusesDataOffsetsOutsideTheFile) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})", "12345678")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("outside the file"), HasSubstr("only 8 bytes")));
  // Offsets near 2^64 must not wrap around into the file.
  EXPECT_THAT(
      open_error(crafted(
          R"({"a":{"dtype":"U8","shape":[8],"data_offsets":[18446744073709551608,18446744073709551615]}})",
          "x")),
      HasSubstr("outside the file"));
}

TEST_F(SafetensorsTest, RefusesByteSizeThatDoesNotMatchTheShape) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", "12345678")),
              AllOf(HasSubstr("tensor 'a'"), HasSubstr("span 8 bytes but shape [3] of F32 needs 12")));
}

TEST_F(SafetensorsTest, RefusesShapeWhoseSizeOverflows) {
  // 2^32 * 2^32 * 4 bytes wraps to 0 in 64 bits; it must not pass as a zero-byte tensor.
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,0]}})")),
      AllOf(HasSubstr("tensor 'a'"), HasSubstr("too many elements")));
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"F64","shape":[2305843009213693952],"data_offsets":[0,0]}})")),
      HasSubstr("too many elements"));
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"U8","shape":[4611686018427387904,4,0],"data_offsets":[0,0]}})")),
      HasSubstr("too many elements"));
}

TEST_F(SafetensorsTest, RefusesOverlappingTensors) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                                 R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                 std::string(12, 'x'))),
              AllOf(HasSubstr("tensor 'b'"), HasSubstr("overlaps tensor 'a'")));
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}})",
                                 std::string(4, 'x'))),
              HasSubstr("overlaps tensor 'a'"));
}

TEST_F(SafetensorsTest, RefusesHoleBetweenTensors) {
  EXPECT_THAT(open_error(crafted(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                                 R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                                 std::string(12, 'x'))),
              AllOf(HasSubstr("bytes [4, 8)"), HasSubstr("belong to no tensor")));
  EXPECT_THAT(
      open_error(crafted(R"({"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", std::string(8, 'x'))),
      AllOf(HasSubstr("bytes [0, 4)"), HasSubstr("belong to no tensor")));
}

TEST_F(SafetensorsTest, RefusesTrailingBytesAfterTheLastTensor) {
  EXPECT_THAT(
      open_error(crafted(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", std::string(7, 'x'))),
      AllOf(HasSubstr("last 3 bytes"), HasSubstr("belong to no tensor")));
  EXPECT_THAT(open_error(crafted("{}", "x")), HasSubstr("belong to no tensor"));
}

TEST_F(SafetensorsTest, RefusesMetadataThatIsNotAnObject) {
  EXPECT_THAT(open_error(crafted(R"({"__metadata__":["a","b"]})")),
              HasSubstr("\"__metadata__\" must be an object of string to string"));
}

TEST_F(SafetensorsTest, RefusesMetadataValueThatIsNotAString) {
  EXPECT_THAT(
      open_error(crafted(R"({"__metadata__":{"epoch":3}})")),
      AllOf(HasSubstr("\"__metadata__\" must be an object of string to string"), HasSubstr("'epoch'")));
}

TEST_F(SafetensorsTest, RefusesFilesThatCannotBeOpened) {
  EXPECT_THAT(open_error(dir_ / "missing.safetensors"), HasSubstr("No such file or directory"));
  EXPECT_THAT(open_error(dir_), HasSubstr("not a regular file"));
}

// Every truncation and many random corruptions of a valid file either load or throw pcv::Error; none
// reads outside the mapping (run under a sanitizer to check that part).
TEST_F(SafetensorsTest, DamagedFilesOnlyEverThrowErrors) {
  const fs::path good = dir_ / "good.safetensors";
  write_safetensors(
      good, {{"a", Tensor::from<float>({2}, {1.f, 2.f})}, {"b", Tensor::from<std::uint8_t>({3}, {1, 2, 3})}},
      {{"k", "v"}});
  const std::string bytes = read_file(good);
  const fs::path damaged = dir_ / "damaged.safetensors";
  for (std::size_t size = 0; size < bytes.size(); ++size) {
    write_bytes(damaged, bytes.substr(0, size));
    EXPECT_THROW(SafetensorsFile::open(damaged), Error) << "truncated to " << size;
  }
  std::mt19937 random(1234);
  for (int i = 0; i < 2000; ++i) {
    std::string copy = bytes;
    const int flips = 1 + static_cast<int>(random() % 3);
    for (int f = 0; f < flips; ++f) copy[random() % copy.size()] = static_cast<char>(random() % 256);
    write_bytes(damaged, copy);
    try {
      const SafetensorsFile file = SafetensorsFile::open(damaged);
      unsigned sum = 0;  // touch every byte
      for (const auto& [name, t] : file.tensors())
        for (std::uint64_t b = 0; b < t.nbytes(); ++b)
          sum += static_cast<const unsigned char*>(t.raw_data())[b];
      (void)sum;
    } catch (const Error&) {
    }
  }
}

// --- Writer errors --------------------------------------------------------------------------------

TEST_F(SafetensorsTest, WriterRefusesBadNames) {
  const fs::path path = dir_ / "w.safetensors";
  const Tensor t(kFloat32, {1});
  auto write_error = [&](const std::vector<std::pair<std::string, Tensor>>& tensors) -> std::string {
    try {
      write_safetensors(path, tensors);
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(path.string()));
      return e.what();
    }
    ADD_FAILURE() << "no error";
    return "";
  };
  EXPECT_THAT(write_error({{"a", t}, {"a", t}}), HasSubstr("'a' is given twice"));
  EXPECT_THAT(write_error({{"", t}}), HasSubstr("empty name"));
  EXPECT_THAT(write_error({{"__metadata__", t}}), HasSubstr("not a tensor name"));
  EXPECT_THAT(write_error({{"bad\xFF", t}}), HasSubstr("not valid UTF-8"));
  EXPECT_THAT(write_error({{"absent", Tensor()}}), HasSubstr("'absent' is absent"));
  EXPECT_THAT(write_error({{"half", Tensor(pcv_dtype{PCV_DTYPE_FLOAT, 16, 1}, {2})}}),
              AllOf(HasSubstr("'half'"), HasSubstr("float16")));
  EXPECT_FALSE(fs::exists(path));
}

TEST_F(SafetensorsTest, WriterRefusesMetadataThatIsNotUtf8) {
  EXPECT_THROW(write_safetensors(dir_ / "w", {}, {{"k", "\xC3"}}), Error);
  EXPECT_FALSE(fs::exists(dir_ / "w"));
}

TEST_F(SafetensorsTest, WriterFailureLeavesNoFile) {
  const fs::path path = dir_ / "missing-dir" / "w.safetensors";
  try {
    write_safetensors(path, {{"a", Tensor(kFloat32, {1})}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), AllOf(HasSubstr(path.string()), HasSubstr("No such file or directory")));
  }
}

}  // namespace
}  // namespace pcv
