// Reading and writing point clouds: round trips through every format, PCD variants written by hand
// (ascii, binary, binary_compressed, extra fields, organised clouds with NaN), and every error message.
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "support/errors.hpp"
#include "support/files.hpp"
#include "support/temp_dir.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using test::entries_of;
using test::read_file;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

PointCloud random_cloud(int n, bool normals, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-50.0f, 50.0f);
  PointCloud c;
  for (int i = 0; i < 3 * n; ++i) c.points.push_back(u(rng));
  // Arbitrary floats, not just round ones: the text writer must keep every bit.
  c.points[0] = 0.1f;
  c.points[1] = -1.0e-7f;
  c.points[2] = 3.4028235e38f;
  if (normals)
    for (int i = 0; i < 3 * n; ++i) c.normals.push_back(u(rng) / 50.0f);
  return c;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void append(std::string& bytes, T value) {
  bytes.append(reinterpret_cast<const char*>(&value), sizeof value);  // the test host is little-endian
}

using test::error_of;

class PointCloudIoTest : public test::TempDirTest {};

// ---------------------------------------------------------------------------------------------------
// Round trips.

class RoundTripTest : public PointCloudIoTest,
                      public ::testing::WithParamInterface<std::tuple<std::string, bool>> {};

TEST_P(RoundTripTest, WritesAndReadsBackExactly) {
  const auto [ext, normals] = GetParam();
  const PointCloud cloud = random_cloud(257, normals, 7);
  const fs::path path = dir_ / ("cloud" + ext);
  write_point_cloud(path, cloud);
  ReadReport report;
  const PointCloud back = read_point_cloud(path, &report);
  EXPECT_EQ(back.points, cloud.points);
  EXPECT_EQ(back.normals, cloud.normals);
  EXPECT_EQ(back.has_normals(), normals);
  EXPECT_EQ(report.dropped_non_finite, 0);
  EXPECT_TRUE(report.warnings.empty());
  // Atomic writing leaves no temporary file behind.
  EXPECT_THAT(entries_of(dir_), ElementsAre("cloud" + ext));
}

INSTANTIATE_TEST_SUITE_P(Formats, RoundTripTest,
                         ::testing::Combine(::testing::Values(".pcd", ".ply", ".txt", ".xyz", ".csv"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param).substr(1) +
                                  (std::get<1>(info.param) ? "_normals" : "");
                         });

TEST_F(PointCloudIoTest, BinRoundTripWithHandWrittenBytes) {
  // KITTI: float32 x, y, z, intensity per point; the intensity is read past.
  std::string bytes;
  const std::vector<float> xyz = {1.5f, -2.25f, 3.0f, 1e-3f, 4e4f, -0.0f};
  for (int i = 0; i < 2; ++i) {
    for (int k = 0; k < 3; ++k) append(bytes, xyz[3 * i + k]);
    append(bytes, 0.75f);
  }
  write_bytes(dir_ / "frame.bin", bytes);
  const PointCloud c = read_point_cloud(dir_ / "frame.bin");
  EXPECT_EQ(c.size(), 2);
  EXPECT_EQ(c.points, xyz);
  EXPECT_FALSE(c.has_normals());

  // The writer produces the same layout (intensity 0) and reads back.
  const PointCloud cloud = random_cloud(33, false, 3);
  write_point_cloud(dir_ / "out.bin", cloud);
  EXPECT_EQ(fs::file_size(dir_ / "out.bin"), 33u * 16u);
  EXPECT_EQ(read_point_cloud(dir_ / "out.bin").points, cloud.points);
}

TEST_F(PointCloudIoTest, BinWriterRefusesNormals) {
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "n.bin", random_cloud(4, true, 1)); }),
              AllOf(HasSubstr("n.bin"), HasSubstr("cannot hold normals")));
  EXPECT_FALSE(fs::exists(dir_ / "n.bin"));
}

TEST_F(PointCloudIoTest, WritingReplacesAnExistingFile) {
  const fs::path path = dir_ / "c.pcd";
  write_point_cloud(path, random_cloud(100, true, 1));
  const PointCloud small = random_cloud(5, false, 2);
  write_point_cloud(path, small);
  EXPECT_EQ(read_point_cloud(path).points, small.points);
  EXPECT_FALSE(read_point_cloud(path).has_normals());
  EXPECT_THAT(entries_of(dir_), ElementsAre("c.pcd"));
}

TEST_F(PointCloudIoTest, WriteErrorsNameTheFile) {
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "missing_dir" / "c.pcd", random_cloud(5, false, 1)); }),
              HasSubstr("c.pcd"));
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "c.obj", random_cloud(5, false, 1)); }),
              AllOf(HasSubstr("c.obj"), HasSubstr("unsupported extension '.obj'"), HasSubstr(".pcd")));
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "e.txt", PointCloud{}); }), HasSubstr("empty cloud"));
  PointCloud bad = random_cloud(5, true, 1);
  bad.normals.pop_back();
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "b.txt", bad); }), HasSubstr("normals for 5 points"));
  EXPECT_THAT(entries_of(dir_), ElementsAre());
}

TEST_F(PointCloudIoTest, ExtensionsAreCaseInsensitive) {
  const PointCloud cloud = random_cloud(10, false, 4);
  write_point_cloud(dir_ / "UPPER.PCD", cloud);
  EXPECT_EQ(read_point_cloud(dir_ / "UPPER.PCD").points, cloud.points);
  EXPECT_TRUE(is_point_cloud_file("a/b/C.Ply"));
  EXPECT_FALSE(is_point_cloud_file("a/b/c.obj"));
  EXPECT_THAT(point_cloud_extensions(), ElementsAre(".pcd", ".ply", ".txt", ".xyz", ".csv", ".bin"));
}

// ---------------------------------------------------------------------------------------------------
// PCD and PLY variants.

TEST_F(PointCloudIoTest, ReadsNormalsFromAsciiPcdWithExtraFields) {
  // PCL's PointXYZRGBNormal layout: rgb and curvature are ignored, normals found by name.
  write_bytes(dir_ / "n.pcd",
              "# .PCD v0.7 - Point Cloud Data file format\n"
              "VERSION 0.7\n"
              "FIELDS x y z rgb normal_x normal_y normal_z curvature\n"
              "SIZE 4 4 4 4 4 4 4 4\n"
              "TYPE F F F U F F F F\n"
              "COUNT 1 1 1 1 1 1 1 1\n"
              "WIDTH 2\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 2\nDATA ascii\n"
              "1 2 3 4278190080 0 0 1 0.5\n"
              "-4 5.5 6 255 0.6 0.8 0 0.25\n");
  const PointCloud c = read_point_cloud(dir_ / "n.pcd");
  EXPECT_THAT(c.points, ElementsAre(1, 2, 3, -4, 5.5f, 6));
  EXPECT_THAT(c.normals, ElementsAre(0, 0, 1, 0.6f, 0.8f, 0));
}

TEST_F(PointCloudIoTest, ReadsBinaryPcdWithDoubleCoordinatesAndPadding) {
  // x/y/z stored as float64, a 4-byte padding field "_" and a uint8 label: converted / skipped.
  std::string bytes =
      "VERSION .7\nFIELDS x y z _ label\nSIZE 8 8 8 4 1\nTYPE F F F U U\nCOUNT 1 1 1 1 1\n"
      "WIDTH 3\nHEIGHT 1\nPOINTS 3\nDATA binary\n";
  const double xyz[] = {0.5, 1.5, -2.5, 10, 20, 30, -1e3, 0.25, 7};
  for (int i = 0; i < 3; ++i) {
    for (int k = 0; k < 3; ++k) append(bytes, xyz[3 * i + k]);
    append(bytes, std::uint32_t{0xdeadbeef});
    append(bytes, std::uint8_t(i));
  }
  write_bytes(dir_ / "d.pcd", bytes);
  const PointCloud c = read_point_cloud(dir_ / "d.pcd");
  EXPECT_THAT(c.points, ElementsAre(0.5f, 1.5f, -2.5f, 10, 20, 30, -1e3f, 0.25f, 7));
  EXPECT_FALSE(c.has_normals());
}

// binary_compressed PCD: fields stored one after another (x x x ... y y y ...), LZF-compressed. An LZF
// stream of literal runs (control byte = run length - 1, at most 32 bytes a run) is valid LZF, which lets
// the test write one without a compressor.
std::string lzf_literals(const std::string& raw) {
  std::string out;
  for (std::size_t i = 0; i < raw.size(); i += 32) {
    const std::size_t run = std::min<std::size_t>(32, raw.size() - i);
    out += static_cast<char>(run - 1);
    out += raw.substr(i, run);
  }
  return out;
}

TEST_F(PointCloudIoTest, ReadsBinaryCompressedPcd) {
  const std::vector<float> x = {1, 2, 3, 4, 5}, y = {-1, -2, -3, -4, -5}, z = {0.5f, 0.25f, 0.125f, 8, 9};
  std::string raw;
  for (const auto* field : {&x, &y, &z})
    for (float v : *field) append(raw, v);
  const std::string packed = lzf_literals(raw);
  std::string bytes =
      "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 5\nHEIGHT 1\n"
      "VIEWPOINT 0 0 0 1 0 0 0\nPOINTS 5\nDATA binary_compressed\n";
  append(bytes, static_cast<std::uint32_t>(packed.size()));
  append(bytes, static_cast<std::uint32_t>(raw.size()));
  bytes += packed;
  write_bytes(dir_ / "c.pcd", bytes);
  const PointCloud c = read_point_cloud(dir_ / "c.pcd");
  ASSERT_EQ(c.size(), 5);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(c.points[3 * i], x[i]);
    EXPECT_EQ(c.points[3 * i + 1], y[i]);
    EXPECT_EQ(c.points[3 * i + 2], z[i]);
  }
}

TEST_F(PointCloudIoTest, OrganisedPcdDropsNaNPointsAndCountsThem) {
  // A 3×2 organised cloud (Kinect style): invalid pixels are NaN.
  write_bytes(dir_ / "o.pcd",
              "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 3\nHEIGHT 2\nPOINTS 6\n"
              "DATA ascii\n1 1 1\nnan nan nan\n2 2 2\n3 3 3\nnan nan nan\n4 4 4\n");
  ReadReport report;
  const PointCloud c = read_point_cloud(dir_ / "o.pcd", &report);
  EXPECT_THAT(c.points, ElementsAre(1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4));
  EXPECT_EQ(report.dropped_non_finite, 2);
  EXPECT_THAT(report.warnings, ElementsAre(AllOf(HasSubstr("o.pcd"), HasSubstr("dropped 2 of 6 points"))));
}

TEST_F(PointCloudIoTest, ReadsAsciiPlyWithNxNyNz) {
  write_bytes(
      dir_ / "a.ply",
      "ply\nformat ascii 1.0\ncomment made by hand\nelement vertex 2\nproperty float x\nproperty float y\n"
      "property float z\nproperty float nx\nproperty float ny\nproperty float nz\nelement face 0\n"
      "property list uchar int vertex_indices\nend_header\n1 2 3 0 0 1\n4 5 6 1 0 0\n");
  const PointCloud c = read_point_cloud(dir_ / "a.ply");
  EXPECT_THAT(c.points, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(c.normals, ElementsAre(0, 0, 1, 1, 0, 0));
}

// ---------------------------------------------------------------------------------------------------
// Per-point labels.

class LabelRoundTripTest : public PointCloudIoTest, public ::testing::WithParamInterface<std::string> {};

TEST_P(LabelRoundTripTest, LabelsAndColoursSurvive) {
  PointCloud cloud = random_cloud(50, /*normals=*/true, 3);
  for (int i = 0; i < 50; ++i) cloud.labels.push_back((i * 7) % 5);
  const fs::path path = dir_ / ("labelled" + GetParam());
  write_point_cloud(path, cloud);
  const PointCloud back = read_point_cloud(path);
  EXPECT_EQ(back.points, cloud.points);
  EXPECT_EQ(back.normals, cloud.normals);
  EXPECT_EQ(back.labels, cloud.labels);
  // The colour is written as a field viewers understand.
  EXPECT_THAT(read_file(path), HasSubstr(GetParam() == ".ply" ? "property uchar red" : "rgb"));
}

INSTANTIATE_TEST_SUITE_P(Formats, LabelRoundTripTest, ::testing::Values(".pcd", ".ply"),
                         [](const auto& info) { return info.param.substr(1); });

TEST_F(PointCloudIoTest, LabelFieldOfAnyIntegerTypeIsReadAndNonFinitePointsDropTheirLabel) {
  write_bytes(dir_ / "l.pcd",
              "VERSION 0.7\nFIELDS x y z label\nSIZE 4 4 4 2\nTYPE F F F U\nCOUNT 1 1 1 1\n"
              "WIDTH 3\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 3\nDATA ascii\n"
              "1 2 3 4\nnan 0 0 9\n4 5 6 0\n");
  const PointCloud c = read_point_cloud(dir_ / "l.pcd");
  EXPECT_THAT(c.points, ElementsAre(1, 2, 3, 4, 5, 6));
  EXPECT_THAT(c.labels, ElementsAre(4, 0));
}

TEST_F(PointCloudIoTest, LabelsMustBeWholeNonNegativeNumbers) {
  for (const char* bad : {"2.5", "-1"}) {
    write_bytes(dir_ / "bad.pcd",
                std::string("VERSION 0.7\nFIELDS x y z label\nSIZE 4 4 4 4\nTYPE F F F F\n"
                            "COUNT 1 1 1 1\nWIDTH 1\nHEIGHT 1\nPOINTS 1\nDATA ascii\n1 2 3 ") +
                    bad + "\n");
    EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "bad.pcd"); }),
                AllOf(HasSubstr("bad.pcd"), HasSubstr("labels must be whole numbers from 0")))
        << bad;
  }
}

TEST_F(PointCloudIoTest, LabelsAreRefusedByFormatsThatCannotHoldThem) {
  PointCloud cloud = random_cloud(3, false, 1);
  cloud.labels = {0, 1, 1};
  for (const char* ext : {".xyz", ".csv", ".bin"})
    EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / (std::string("c") + ext), cloud); }),
                AllOf(HasSubstr("cannot write labels"), HasSubstr("use .ply or .pcd")))
        << ext;
  cloud.labels.pop_back();
  EXPECT_THAT(error_of([&] { write_point_cloud(dir_ / "c.ply", cloud); }),
              HasSubstr("2 labels for 3 points"));
  EXPECT_TRUE(entries_of(dir_).empty());
}

TEST(LabelColour, DistinctForTheFirstTwelveClasses) {
  std::vector<std::uint32_t> colours;
  for (int l = 0; l < 12; ++l) colours.push_back(label_colour(l));
  std::sort(colours.begin(), colours.end());
  EXPECT_EQ(std::unique(colours.begin(), colours.end()), colours.end());
  EXPECT_EQ(label_colour(12), label_colour(0));
}

// ---------------------------------------------------------------------------------------------------
// Text.

TEST_F(PointCloudIoTest, TextAcceptsCommasSpacesCommentsBlankLinesAndCrlf) {
  write_bytes(dir_ / "t.txt",
              "# x y z nx ny nz\n\n1,2,3,0,0,1\r\n  4 5 6   1 0 0\n7, 8 ,9,\t0,1,0\n   \n# end\n");
  const PointCloud c = read_point_cloud(dir_ / "t.txt");
  EXPECT_THAT(c.points, ElementsAre(1, 2, 3, 4, 5, 6, 7, 8, 9));
  EXPECT_THAT(c.normals, ElementsAre(0, 0, 1, 1, 0, 0, 0, 1, 0));

  write_bytes(dir_ / "p.xyz", "+1.5e0 -2 3e-1\n0x1 2 3\n");  // '0x1' is no decimal number
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "p.xyz"); }),
              AllOf(HasSubstr("p.xyz:2: "), HasSubstr("'0x1' is not a number")));
}

TEST_F(PointCloudIoTest, TextDropsNonFinitePoints) {
  write_bytes(dir_ / "n.csv", "1,2,3\nnan,0,0\n4,inf,6\n7,8,9\n");
  ReadReport report;
  const PointCloud c = read_point_cloud(dir_ / "n.csv", &report);
  EXPECT_THAT(c.points, ElementsAre(1, 2, 3, 7, 8, 9));
  EXPECT_EQ(report.dropped_non_finite, 2);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_THAT(report.warnings[0], AllOf(HasSubstr("n.csv"), HasSubstr("dropped 2 of 4 points")));
  // Without a report the points are dropped all the same.
  EXPECT_EQ(read_point_cloud(dir_ / "n.csv").size(), 2);
}

TEST_F(PointCloudIoTest, NonFiniteNormalsDropThePointOrAllNormals) {
  write_bytes(dir_ / "some.txt", "1 2 3 0 0 1\n4 5 6 nan 0 0\n");
  ReadReport report;
  const PointCloud some = read_point_cloud(dir_ / "some.txt", &report);
  EXPECT_THAT(some.points, ElementsAre(1, 2, 3));
  EXPECT_EQ(report.dropped_non_finite, 1);

  // Normals that are NaN throughout were never computed: keep the points, drop the normals.
  write_bytes(dir_ / "all.txt", "1 2 3 nan nan nan\n4 5 6 nan nan nan\n");
  ReadReport all_report;
  const PointCloud all = read_point_cloud(dir_ / "all.txt", &all_report);
  EXPECT_EQ(all.size(), 2);
  EXPECT_FALSE(all.has_normals());
  EXPECT_EQ(all_report.dropped_non_finite, 0);
  EXPECT_THAT(all_report.warnings, ElementsAre(HasSubstr("normals were dropped")));
}

// ---------------------------------------------------------------------------------------------------
// Errors: each names the file and the problem.

TEST_F(PointCloudIoTest, MissingFile) {
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "nope.pcd"); }),
              AllOf(HasSubstr("nope.pcd"), HasSubstr("file not found")));
  fs::create_directories(dir_ / "folder.txt");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "folder.txt"); }), HasSubstr("is a directory"));
}

TEST_F(PointCloudIoTest, UnsupportedExtensionListsTheSupportedOnes) {
  write_bytes(dir_ / "mesh.off", "OFF\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "mesh.off"); }),
              AllOf(HasSubstr("mesh.off"), HasSubstr("unsupported extension '.off'"),
                    HasSubstr(".pcd, .ply, .txt, .xyz, .csv, .bin")));
  write_bytes(dir_ / "noext", "1 2 3\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "noext"); }), HasSubstr("unsupported extension ''"));
}

// PCL 1.13 crashes on some of these (a header without FIELDS) and reads past short data, so the reader
// checks the structure first; each case gets its own message.
TEST_F(PointCloudIoTest, MalformedPcd) {
  const auto error_for = [&](const std::string& name, const std::string& bytes) {
    write_bytes(dir_ / name, bytes);
    return error_of([&] { read_point_cloud(dir_ / name); });
  };
  const std::string fields = "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\n";
  EXPECT_THAT(error_for("junk.pcd", "this is not a point cloud\n"),
              AllOf(HasSubstr("junk.pcd"), HasSubstr("not a readable PCD file"),
                    HasSubstr("header line 1 is not a PCD header entry")));
  EXPECT_THAT(error_for("zero.pcd", ""), AllOf(HasSubstr("zero.pcd"), HasSubstr("the file is empty")));
  EXPECT_THAT(error_for("nodata.pcd", fields + "WIDTH 1\nHEIGHT 1\n"),
              HasSubstr("the header has no DATA line"));
  EXPECT_THAT(error_for("sizes.pcd", "FIELDS x y z\nSIZE 4 4\nTYPE F F F\nWIDTH 1\nDATA ascii\n1 2 3\n"),
              HasSubstr("FIELDS, SIZE, TYPE and COUNT have different lengths (3, 2, 3, 3)"));
  EXPECT_THAT(error_for("type.pcd", "FIELDS x y z\nSIZE 4 4 2\nTYPE F F F\nWIDTH 1\nDATA ascii\n1 2 3\n"),
              HasSubstr("field 'z' has an unsupported TYPE F of SIZE 2"));
  EXPECT_THAT(error_for("dims.pcd", fields + "WIDTH 3\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1 2 3\n4 5 6\n"),
              HasSubstr("WIDTH x HEIGHT (3 x 1) is not POINTS (2)"));
  EXPECT_THAT(error_for("enc.pcd", fields + "WIDTH 1\nPOINTS 1\nDATA hex\n"),
              HasSubstr("unknown DATA encoding 'hex'"));
  EXPECT_THAT(error_for("rows.pcd", fields + "WIDTH 3\nPOINTS 3\nDATA ascii\n1 2 3\n4 5 6\n"),
              HasSubstr("truncated: the ascii data has 2 rows, the header says 3 points"));
  EXPECT_THAT(error_for("row.pcd", fields + "WIDTH 2\nPOINTS 2\nDATA ascii\n1 2 3\n4 5\n"),
              HasSubstr("line 10 has 2 values, the header's fields need 3"));

  // Binary data cut short: 4 points announced, 1 1/3 present.
  std::string bytes = fields + "WIDTH 4\nHEIGHT 1\nPOINTS 4\nDATA binary\n";
  for (int i = 0; i < 4; ++i) append(bytes, 1.0f);
  EXPECT_THAT(error_for("short.pcd", bytes),
              AllOf(HasSubstr("short.pcd"),
                    HasSubstr("truncated: the binary data has 16 bytes, the header describes 48")));

  std::string compressed = fields + "WIDTH 4\nHEIGHT 1\nPOINTS 4\nDATA binary_compressed\n";
  append(compressed, std::uint32_t{100});
  append(compressed, std::uint32_t{48});
  EXPECT_THAT(error_for("lzf.pcd", compressed + "abc"),
              HasSubstr("truncated: 3 bytes of compressed data, the file says 100"));
}

TEST_F(PointCloudIoTest, MalformedPly) {
  const auto error_for = [&](const std::string& name, const std::string& bytes) {
    write_bytes(dir_ / name, bytes);
    return error_of([&] { read_point_cloud(dir_ / name); });
  };
  const std::string head =
      "ply\nformat binary_little_endian 1.0\nelement vertex 4\nproperty float x\n"
      "property float y\nproperty float z\n";
  EXPECT_THAT(error_for("bad.ply", "ply\nformat ascii 1.0\nelement vertex 2\nproperty float x\n"),
              AllOf(HasSubstr("bad.ply"), HasSubstr("not a readable PLY file"),
                    HasSubstr("the header has no 'end_header' line")));
  EXPECT_THAT(
      error_for("stl.ply", "solid cube\n"),
      AllOf(HasSubstr("stl.ply"), HasSubstr("not a readable PLY file: it does not start with 'ply'")));
  EXPECT_THAT(error_for("short.ply", head + "end_header\n" + std::string(20, '\0')),
              HasSubstr("truncated: the binary data has 20 bytes, the header describes at least 48"));
  EXPECT_THAT(
      error_for("noxyz.ply", "ply\nformat ascii 1.0\nelement vertex 1\nproperty float a\nend_header\n1\n"),
      HasSubstr("no x/y/z fields (vertex properties: a)"));
  EXPECT_THAT(error_for("novertex.ply", "ply\nformat ascii 1.0\nelement face 0\nend_header\n"),
              HasSubstr("the header has no 'vertex' element"));
  EXPECT_THAT(
      error_for("empty.ply", "ply\nformat ascii 1.0\nelement vertex 0\nproperty float x\nend_header\n"),
      AllOf(HasSubstr("empty.ply"), HasSubstr("no points")));
  // A huge count on an element without properties made PCL loop (practically) forever.
  EXPECT_THAT(
      error_for("huge.ply", head + "element face 18446744073709551615\nend_header\n" + std::string(48, '\0')),
      HasSubstr("element 'face' has 18446744073709551615 rows in 48 bytes of data"));
}

TEST_F(PointCloudIoTest, MalformedTextNamesTheLine) {
  write_bytes(dir_ / "a.txt", "1 2 3\n\n1 2 abc\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "a.txt"); }),
              AllOf(HasSubstr("a.txt:3: "), HasSubstr("'abc' is not a number")));
  write_bytes(dir_ / "b.txt", "1 2 3 4\n");
  EXPECT_THAT(
      error_of([&] { read_point_cloud(dir_ / "b.txt"); }),
      AllOf(HasSubstr("b.txt:1: "), HasSubstr("expected 3 numbers (x y z) or 6"), HasSubstr("found 4")));
  write_bytes(dir_ / "c.txt", "# header\n1 2 3 0 0 1\n1 2 3\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "c.txt"); }),
              AllOf(HasSubstr("c.txt:3: "), HasSubstr("3 numbers, but the first point (line 2) has 6")));
  write_bytes(dir_ / "d.txt", "1 2 3 4 5 6 7\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "d.txt"); }),
              AllOf(HasSubstr("d.txt:1: "), HasSubstr("more than 6 numbers")));
  write_bytes(dir_ / "e.txt", "1 2 1e99\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "e.txt"); }),
              AllOf(HasSubstr("e.txt:1: "), HasSubstr("out of float range")));
}

TEST_F(PointCloudIoTest, EmptyCloudsHaveNoPoints) {
  write_bytes(dir_ / "empty.txt", "# nothing\n\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "empty.txt"); }),
              AllOf(HasSubstr("empty.txt"), HasSubstr("no points")));
  write_bytes(dir_ / "empty.bin", "");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "empty.bin"); }),
              AllOf(HasSubstr("empty.bin"), HasSubstr("no points")));
  write_bytes(dir_ / "empty.pcd",
              "VERSION 0.7\nFIELDS x y z\nSIZE 4 4 4\nTYPE F F F\nCOUNT 1 1 1\nWIDTH 0\nHEIGHT 1\nPOINTS 0\n"
              "DATA ascii\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "empty.pcd"); }),
              AllOf(HasSubstr("empty.pcd"), HasSubstr("no points")));
}

TEST_F(PointCloudIoTest, NoXyzFields) {
  // An image stored as PCD (PCL's stereo test files): rgba only.
  write_bytes(
      dir_ / "image.pcd",
      "VERSION 0.7\nFIELDS rgba\nSIZE 4\nTYPE U\nCOUNT 1\nWIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n1\n2\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "image.pcd"); }),
              AllOf(HasSubstr("image.pcd"), HasSubstr("no x/y/z fields (fields: rgba)")));
}

TEST_F(PointCloudIoTest, BinSizeMustBeAMultipleOf16) {
  write_bytes(dir_ / "odd.bin", std::string(20, '\0'));
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "odd.bin"); }),
              AllOf(HasSubstr("odd.bin"), HasSubstr("size 20 bytes is not a multiple of 16")));
}

TEST_F(PointCloudIoTest, AllPointsNonFinite) {
  write_bytes(dir_ / "nan.xyz", "nan 1 2\n3 nan 4\n");
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "nan.xyz"); }),
              AllOf(HasSubstr("nan.xyz"), HasSubstr("no finite points (all 2 points")));
  PointCloud cloud;
  cloud.points = {kNaN, kNaN, kNaN};
  write_point_cloud(dir_ / "nan.pcd", cloud);  // writing NaN is fine: organised clouds have them
  EXPECT_THAT(error_of([&] { read_point_cloud(dir_ / "nan.pcd"); }), HasSubstr("no finite points"));
}

}  // namespace
}  // namespace pcv
