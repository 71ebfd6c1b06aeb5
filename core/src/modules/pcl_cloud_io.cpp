// The PCL module (see pcl_cloud_io.hpp): PCL's readers and writers, and the conversion between its
// PCLPointCloud2 records and pcv's PointCloud.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>

#include <pcl/PCLPointCloud2.h>
#include <pcl/console/print.h>
#include <pcl/exceptions.h>
#include <pcl/io/pcd_io.h>
#include <pcl/io/ply_io.h>

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <string>

#include "modules/pcl_cloud_io.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using detail::read_bytes;

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

[[noreturn]] void malformed(const fs::path& path, const char* format, const std::string& what) {
  fail(path, std::string("not a readable ") + format + " file: " + what);
}

// PCL reports failures on stderr; pcv reports them in the exception instead, so PCL is silenced once for
// the process (the setting is global in PCL).
void silence_pcl() {
  static std::once_flag once;
  std::call_once(once, [] { pcl::console::setVerbosityLevel(pcl::console::L_ALWAYS); });
}

const pcl::PCLPointField* find_field(const pcl::PCLPointCloud2& blob,
                                     std::initializer_list<const char*> names) {
  for (const char* name : names)
    for (const pcl::PCLPointField& f : blob.fields)
      if (f.name == name) return &f;
  return nullptr;
}

std::size_t field_type_size(std::uint8_t type) {
  using F = pcl::PCLPointField;
  switch (type) {
    case F::INT8:
    case F::UINT8:
      return 1;
    case F::INT16:
    case F::UINT16:
      return 2;
    case F::INT32:
    case F::UINT32:
    case F::FLOAT32:
      return 4;
    case F::INT64:
    case F::UINT64:
    case F::FLOAT64:
      return 8;
    default:
      return 0;
  }
}

template <class T>
float load_as_float(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);
  return static_cast<float>(v);
}

float field_value(const std::uint8_t* p, std::uint8_t type) {
  using F = pcl::PCLPointField;
  switch (type) {
    case F::INT8:
      return load_as_float<std::int8_t>(p);
    case F::UINT8:
      return load_as_float<std::uint8_t>(p);
    case F::INT16:
      return load_as_float<std::int16_t>(p);
    case F::UINT16:
      return load_as_float<std::uint16_t>(p);
    case F::INT32:
      return load_as_float<std::int32_t>(p);
    case F::UINT32:
      return load_as_float<std::uint32_t>(p);
    case F::INT64:
      return load_as_float<std::int64_t>(p);
    case F::UINT64:
      return load_as_float<std::uint64_t>(p);
    case F::FLOAT64:
      return load_as_float<double>(p);
    default:
      return load_as_float<float>(p);
  }
}

// A class index: a whole number in [0, 2^24) (exact in the float field_value reads it as).
std::int32_t label_value(const std::uint8_t* p, std::uint8_t type, const fs::path& path) {
  const float v = field_value(p, type);
  if (!(v >= 0 && v < 16777216.0f) || v != std::floor(v))
    fail(path, "a point's label is " + std::to_string(v) + "; labels must be whole numbers from 0");
  return static_cast<std::int32_t>(v);
}

// The three fields of a vector (x/y/z or a normal), checked to lie inside each point's record.
std::optional<std::array<const pcl::PCLPointField*, 3>> vector_fields(const pcl::PCLPointCloud2& blob,
                                                                      const fs::path& path,
                                                                      std::initializer_list<const char*> x,
                                                                      std::initializer_list<const char*> y,
                                                                      std::initializer_list<const char*> z) {
  std::array<const pcl::PCLPointField*, 3> f = {find_field(blob, x), find_field(blob, y),
                                                find_field(blob, z)};
  if (!f[0] || !f[1] || !f[2]) return std::nullopt;
  for (const pcl::PCLPointField* field : f) {
    const std::size_t size = field_type_size(field->datatype);
    if (size == 0) fail(path, "field '" + field->name + "' has an unsupported data type");
    if (field->offset + size > blob.point_step)
      fail(path, "field '" + field->name + "' lies outside the point record (corrupt header?)");
  }
  return f;
}

std::string field_names(const pcl::PCLPointCloud2& blob) {
  std::string s;
  for (const pcl::PCLPointField& f : blob.fields) s += (s.empty() ? "" : " ") + f.name;
  return s.empty() ? "none" : s;
}

PointCloud from_blob(const pcl::PCLPointCloud2& blob, const fs::path& path) {
  const std::uint64_t width = blob.width, height = blob.height;
  if (width * height == 0) fail(path, "no points");
  const auto xyz = vector_fields(blob, path, {"x"}, {"y"}, {"z"});
  if (!xyz) fail(path, "no x/y/z fields (fields: " + field_names(blob) + ")");
  const auto normal = vector_fields(blob, path, {"normal_x", "nx"}, {"normal_y", "ny"}, {"normal_z", "nz"});
  const pcl::PCLPointField* label = find_field(blob, {"label"});
  if (label && (field_type_size(label->datatype) == 0 ||
                label->offset + field_type_size(label->datatype) > blob.point_step))
    fail(path, "field 'label' has an unsupported data type or lies outside the point record");
  const std::uint64_t row_step = blob.row_step != 0 ? blob.row_step : width * blob.point_step;
  if (row_step < width * blob.point_step ||
      (height - 1) * row_step + width * blob.point_step > blob.data.size())
    fail(path, "the point data is shorter than the header says (" + std::to_string(blob.data.size()) +
                   " bytes for " + std::to_string(width * height) + " points)");
  PointCloud cloud;
  cloud.points.reserve(3 * width * height);
  if (normal) cloud.normals.reserve(3 * width * height);
  for (std::uint64_t r = 0; r < height; ++r) {
    for (std::uint64_t c = 0; c < width; ++c) {
      const std::uint8_t* record = blob.data.data() + r * row_step + c * blob.point_step;
      for (const pcl::PCLPointField* f : *xyz)
        cloud.points.push_back(field_value(record + f->offset, f->datatype));
      if (normal)
        for (const pcl::PCLPointField* f : *normal)
          cloud.normals.push_back(field_value(record + f->offset, f->datatype));
      if (label) cloud.labels.push_back(label_value(record + label->offset, label->datatype, path));
    }
  }
  return cloud;
}

PointCloud read_cloud(const fs::path& path, bool pcd) {
  const char* format = pcd ? "PCD" : "PLY";
  silence_pcl();
  pcl::PCLPointCloud2 blob;
  int code = 0;
  try {
    if (pcd) {
      pcl::PCDReader reader;
      code = reader.read(path.string(), blob);
    } else {
      pcl::PLYReader reader;
      code = reader.read(path.string(), blob);
    }
  } catch (const pcl::PCLException& e) {
    malformed(path, format, e.detailedMessage());
  } catch (const std::exception& e) {
    malformed(path, format, e.what());
  }
  // PCL 1.13 prints its reason (silenced) and returns only a code; the checks above catch the usual causes.
  if (code < 0)
    malformed(path, format, std::string("PCL's reader failed (code ") + std::to_string(code) + ")");
  return from_blob(blob, path);
}

// Records of 4-byte fields: x y z [normal_x normal_y normal_z] [rgb label]. PCL's PLY writer turns
// a packed rgb field into red/green/blue properties, which viewers colour points by.
pcl::PCLPointCloud2 to_blob(const PointCloud& cloud) {
  pcl::PCLPointCloud2 blob;
  using F = pcl::PCLPointField;
  std::vector<std::pair<const char*, std::uint8_t>> fields = {
      {"x", F::FLOAT32}, {"y", F::FLOAT32}, {"z", F::FLOAT32}};
  if (cloud.has_normals())
    fields.insert(fields.end(),
                  {{"normal_x", F::FLOAT32}, {"normal_y", F::FLOAT32}, {"normal_z", F::FLOAT32}});
  if (cloud.has_labels()) fields.insert(fields.end(), {{"rgb", F::FLOAT32}, {"label", F::UINT32}});
  for (std::size_t c = 0; c < fields.size(); ++c) {
    pcl::PCLPointField f;
    f.name = fields[c].first;
    f.offset = static_cast<std::uint32_t>(4 * c);
    f.datatype = fields[c].second;
    f.count = 1;
    blob.fields.push_back(f);
  }
  const std::size_t n = static_cast<std::size_t>(cloud.size()), step = 4 * fields.size();
  blob.width = static_cast<std::uint32_t>(n);
  blob.height = 1;
  blob.point_step = static_cast<std::uint32_t>(step);
  blob.row_step = static_cast<std::uint32_t>(step * n);
  blob.is_bigendian = std::endian::native == std::endian::big;
  blob.is_dense =
      std::all_of(cloud.points.begin(), cloud.points.end(), [](float v) { return std::isfinite(v); });
  blob.data.resize(step * n);
  for (std::size_t i = 0; i < n; ++i) {
    std::uint8_t* record = &blob.data[step * i];
    std::memcpy(record, &cloud.points[3 * i], 12);
    record += 12;
    if (cloud.has_normals()) {
      std::memcpy(record, &cloud.normals[3 * i], 12);
      record += 12;
    }
    if (cloud.has_labels()) {
      const std::uint32_t rgb = label_colour(cloud.labels[i]);
      const auto label = static_cast<std::uint32_t>(cloud.labels[i]);
      std::memcpy(record, &rgb, 4);
      std::memcpy(record + 4, &label, 4);
    }
  }
  return blob;
}

// A private temporary file, removed when this goes out of scope.
class TempFile {
 public:
  explicit TempFile(const std::string& suffix) {
    std::string pattern = (fs::temp_directory_path() / ("pcv-cloud-XXXXXX" + suffix)).string();
    const int fd = mkstemps(pattern.data(), static_cast<int>(suffix.size()));
    if (fd < 0)
      throw Error("cannot create a temporary file in " + fs::temp_directory_path().string() + ": " +
                  std::strerror(errno));
    ::close(fd);
    path_ = pattern;
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// PCL writes only to a named file, so it writes a private temporary file whose bytes then replace
// `path` atomically (fsync, permissions and all, like every other pcv output).
void write_cloud(const fs::path& path, const PointCloud& cloud, bool pcd) {
  silence_pcl();
  const pcl::PCLPointCloud2 blob = to_blob(cloud);
  const TempFile temp(pcd ? ".pcd" : ".ply");
  int code = 0;
  try {
    if (pcd) {
      pcl::PCDWriter writer;
      code = writer.writeBinary(temp.path().string(), blob);
    } else {
      pcl::PLYWriter writer;
      code = writer.writeBinary(temp.path().string(), blob);
    }
  } catch (const pcl::PCLException& e) {
    fail(path, std::string("PCL could not write the cloud: ") + e.detailedMessage());
  }
  if (code < 0) fail(path, "PCL could not write the cloud (code " + std::to_string(code) + ")");
  write_file_atomically(path, read_bytes(temp.path()));
}

}  // namespace
}  // namespace pcv

extern "C" __attribute__((visibility("default"))) const pcv::detail::PclCloudIo* pcv_pcl_cloud_io() {
  static const pcv::detail::PclCloudIo io{&pcv::read_cloud, &pcv::write_cloud};
  return &io;
}
