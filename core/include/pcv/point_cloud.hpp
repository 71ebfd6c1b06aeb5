// Point clouds in memory and on disk: reading and writing .pcd, .ply, text and KITTI-style .bin files.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pcv {

// N points as flat row-major arrays: points[3*i + 0..2] is point i's x, y, z, and normals, when
// present, holds one normal per point in the same layout. Labels, when present, give each point a
// class index (segmentation ground truth or predictions).
struct PointCloud {
  std::vector<float> points;         // N×3 xyz
  std::vector<float> normals;        // N×3, or empty when the cloud has no normals
  std::vector<std::int32_t> labels;  // N, or empty when the cloud has no labels

  std::int64_t size() const { return static_cast<std::int64_t>(points.size() / 3); }
  bool has_normals() const { return !normals.empty(); }
  bool has_labels() const { return !labels.empty(); }
};

// What read_point_cloud() did that the caller may want to know about but that is no error.
struct ReadReport {
  // Points dropped because a coordinate (or, in a cloud with normals, a normal component) was NaN or
  // infinite: organised Kinect clouds mark invalid pixels that way.
  std::int64_t dropped_non_finite = 0;
  // One human-readable line per event, each naming the file.
  std::vector<std::string> warnings;
};

// Reads a cloud; the format follows the (case-insensitive) extension:
//   .pcd, .ply  through PCL, any encoding (PCD ascii / binary / binary_compressed, PLY ascii / binary).
//               The x, y, z fields are required; normal_x/y/z (PLY also nx/ny/nz) are read when all three
//               are present. Other fields (rgb, intensity, curvature, padding...) are ignored, and fields
//               of any numeric type are converted to float.
//   .txt, .xyz, .csv  one point per line: 3 numbers (x y z) or 6 (x y z nx ny nz), separated by commas
//               and/or white space; every point line has the same count. Blank lines and lines starting
//               with '#' are skipped.
//   .bin        KITTI-style headerless little-endian float32 records x, y, z, intensity (intensity is
//               ignored). Other record layouts (nuScenes' 5 floats, ScanNet's 6) cannot be told apart
//               from it by size and must be converted first.
// Points with a non-finite coordinate or normal are dropped and counted in `report` (if given). If
// every normal is non-finite, the normals are dropped instead of the points (with a warning).
// Throws pcv::Error naming the file for: a missing file, an unsupported extension, a malformed file,
// a cloud with no points, no x/y/z fields, a .bin size that is not a multiple of 16 bytes, and a
// cloud with no finite points left.
PointCloud read_point_cloud(const std::filesystem::path& path, ReadReport* report = nullptr);

// Writes a cloud (with its normals, if any) atomically: readers see the old file or the complete new
// one. By extension: .pcd (PCL, binary), .ply (PCL, binary little-endian), .txt/.xyz (space-separated
// text), .csv (comma-separated text), .bin (KITTI layout with intensity 0; refuses a cloud with
// normals, which the format cannot hold). Labels are written to .pcd and .ply only, as a uint32
// `label` field plus an rgb colour per label (label_colour()) so viewers show the classes; the other
// formats refuse a labelled cloud. Text keeps float precision (9 significant digits), so a
// round trip is exact. Throws pcv::Error naming the file on failure.
void write_point_cloud(const std::filesystem::path& path, const PointCloud& cloud);

// A distinct display colour for a class index, 0xRRGGBB (a fixed palette that repeats after 12).
std::uint32_t label_colour(std::int32_t label);

// The extensions read_point_cloud() accepts, lower case with the dot: ".pcd", ".ply", ".txt", ...
std::vector<std::string> point_cloud_extensions();

// Whether read_point_cloud() accepts this file's extension (case-insensitive).
bool is_point_cloud_file(const std::filesystem::path& path);

}  // namespace pcv
