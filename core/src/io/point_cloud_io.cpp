// Reading and writing point clouds. PCL handles .pcd and .ply (its headers stay in this file); text and
// KITTI .bin files are simple enough to parse here, which also gives line-accurate error messages.
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
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>

namespace pcv {
namespace {

namespace fs = std::filesystem;

const std::vector<std::string>& extensions() {
  static const std::vector<std::string> list = {".pcd", ".ply", ".txt", ".xyz", ".csv", ".bin"};
  return list;
}

std::string extension_list() {
  std::string s;
  for (const std::string& e : extensions()) s += (s.empty() ? "" : ", ") + e;
  return s;
}

std::string lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
}

// PCL reports failures on stderr; pcv reports them in the exception instead, so PCL is silenced once for
// the process (the setting is global in PCL).
void silence_pcl() {
  static std::once_flag once;
  std::call_once(once, [] { pcl::console::setVerbosityLevel(pcl::console::L_ALWAYS); });
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, std::string("read error: ") + std::strerror(errno));
  return bytes;
}

void check_readable_file(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) fail(path, "file not found");
  if (fs::is_directory(st)) fail(path, "is a directory, not a point-cloud file");
}

// ---------------------------------------------------------------------------------------------------
// Dropping non-finite points.

bool finite3(const float* p) { return std::isfinite(p[0]) && std::isfinite(p[1]) && std::isfinite(p[2]); }

void keep_finite(PointCloud& cloud, const fs::path& path, ReadReport* report) {
  const std::int64_t n = cloud.size();
  if (n == 0) fail(path, "no points");
  const auto warn = [&](const std::string& what) {
    if (report) report->warnings.push_back(path.string() + ": " + what);
  };
  // A normals field that is NaN throughout (computed but never filled) should not cost every point.
  if (cloud.has_normals()) {
    bool any_finite = false;
    for (std::int64_t i = 0; i < n && !any_finite; ++i) any_finite = finite3(&cloud.normals[3 * i]);
    if (!any_finite) {
      cloud.normals.clear();
      warn("every normal is NaN or infinite; the normals were dropped");
    }
  }
  const bool normals = cloud.has_normals();
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!finite3(&cloud.points[3 * i]) || (normals && !finite3(&cloud.normals[3 * i]))) continue;
    if (kept != i) {
      std::copy_n(&cloud.points[3 * i], 3, &cloud.points[3 * kept]);
      if (normals) std::copy_n(&cloud.normals[3 * i], 3, &cloud.normals[3 * kept]);
    }
    ++kept;
  }
  if (kept == 0)
    fail(path, "no finite points (all " + std::to_string(n) + " points have NaN or infinite coordinates" +
                   (normals ? " or normals)" : ")"));
  if (kept == n) return;
  cloud.points.resize(static_cast<std::size_t>(3 * kept));
  if (normals) cloud.normals.resize(static_cast<std::size_t>(3 * kept));
  const std::int64_t dropped = n - kept;
  if (report) report->dropped_non_finite += dropped;
  warn("dropped " + std::to_string(dropped) + " of " + std::to_string(n) + " points with NaN or infinite " +
       (normals ? "coordinates or normals" : "coordinates"));
}

// ---------------------------------------------------------------------------------------------------
// PCD and PLY through PCL.

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
    }
  }
  return cloud;
}

// PCL 1.13 only prints why it failed (and we silence that), so the message is pcv's own look at the
// header: the common ways a PCD file goes bad, else PCL's return code.
std::string diagnose_pcd(const fs::path& path, int code) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  std::vector<std::string> fields;
  std::vector<std::uint64_t> sizes, counts;
  std::uint64_t width = 0, height = 1, points = 0;
  bool has_points = false;
  std::string data;
  int line_no = 0;
  while (data.empty() && line_no < 1000 && std::getline(in, line)) {
    ++line_no;
    std::istringstream words(line);
    std::string key;
    if (!(words >> key) || key[0] == '#') continue;
    std::vector<std::string> values{std::istream_iterator<std::string>(words), {}};
    const auto numbers = [&] {
      std::vector<std::uint64_t> v;
      for (const std::string& s : values) v.push_back(std::strtoull(s.c_str(), nullptr, 10));
      return v;
    };
    if (key == "VERSION" || key == "VIEWPOINT" || key == "TYPE") continue;
    if (key == "FIELDS" || key == "COLUMNS") {
      fields = values;
    } else if (key == "SIZE") {
      sizes = numbers();
    } else if (key == "COUNT") {
      counts = numbers();
    } else if (key == "WIDTH") {
      width = values.empty() ? 0 : numbers()[0];
    } else if (key == "HEIGHT") {
      height = values.empty() ? 0 : numbers()[0];
    } else if (key == "POINTS") {
      points = values.empty() ? 0 : numbers()[0];
      has_points = true;
    } else if (key == "DATA") {
      data = values.empty() ? "?" : values[0];
    } else {
      return "header line " + std::to_string(line_no) + " is not a PCD header entry: '" + line.substr(0, 60) +
             "'";
    }
  }
  if (line_no == 0) return "the file is empty";
  if (data.empty()) return "the header has no DATA line";
  if (data != "ascii" && data != "binary" && data != "binary_compressed")
    return "unknown DATA encoding '" + data + "'";
  if (fields.empty()) return "the header has no FIELDS line";
  if (sizes.size() != fields.size()) return "SIZE and FIELDS have different lengths";
  if (!counts.empty() && counts.size() != fields.size()) return "COUNT and FIELDS have different lengths";
  if (has_points && width * height != points)
    return "WIDTH x HEIGHT (" + std::to_string(width) + " x " + std::to_string(height) + ") is not POINTS (" +
           std::to_string(points) + ")";
  std::uint64_t record = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) record += sizes[i] * (counts.empty() ? 1 : counts[i]);
  const std::uint64_t body_start = in.tellg() < 0 ? 0 : static_cast<std::uint64_t>(in.tellg());
  std::error_code ec;
  const std::uint64_t file_size = fs::file_size(path, ec);
  const std::uint64_t body = file_size > body_start ? file_size - body_start : 0;
  if (data == "binary" && body < record * width * height)
    return "truncated: the binary data has " + std::to_string(body) + " bytes, the header describes " +
           std::to_string(record * width * height);
  if (data == "binary_compressed" && body < 8) return "truncated: no compressed data after the header";
  if (data == "ascii") {
    std::uint64_t rows = 0;
    while (std::getline(in, line))
      if (line.find_first_not_of(" \t\r") != std::string::npos) ++rows;
    if (rows < width * height)
      return "the ascii data has " + std::to_string(rows) + " rows, the header says " +
             std::to_string(width * height) + " points";
  }
  return "PCL's PCD reader failed (code " + std::to_string(code) + ")";
}

std::string diagnose_ply(const fs::path& path, int code) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  if (!std::getline(in, line)) return "the file is empty";
  if (line.rfind("ply", 0) != 0) return "it does not start with 'ply'";
  bool end_header = false;
  for (int i = 0; i < 1000 && std::getline(in, line); ++i)
    if (line.rfind("end_header", 0) == 0) {
      end_header = true;
      break;
    }
  if (!end_header) return "the header has no 'end_header' line";
  return "PCL's PLY reader failed (code " + std::to_string(code) +
         "; truncated data or an unsupported "
         "property type?)";
}

PointCloud read_with_pcl(const fs::path& path, const std::string& ext) {
  silence_pcl();
  pcl::PCLPointCloud2 blob;
  int code = 0;
  const char* format = ext == ".pcd" ? "PCD" : "PLY";
  try {
    if (ext == ".pcd") {
      pcl::PCDReader reader;
      code = reader.read(path.string(), blob);
    } else {
      pcl::PLYReader reader;
      code = reader.read(path.string(), blob);
    }
  } catch (const pcl::PCLException& e) {
    fail(path, std::string("not a readable ") + format + " file: " + e.detailedMessage());
  } catch (const std::exception& e) {
    fail(path, std::string("not a readable ") + format + " file: " + e.what());
  }
  if (code < 0) {
    // An empty file is the most common bad download; say so rather than "code -1".
    std::error_code ec;
    if (fs::file_size(path, ec) == 0 && !ec) fail(path, "the file is empty");
    fail(path, std::string("not a readable ") + format +
                   " file: " + (ext == ".pcd" ? diagnose_pcd(path, code) : diagnose_ply(path, code)));
  }
  return from_blob(blob, path);
}

// ---------------------------------------------------------------------------------------------------
// Text: 3 or 6 numbers per line.

bool is_separator(char c) { return c == ',' || c == ' ' || c == '\t' || c == '\r' || c == ';'; }

std::string line_prefix(const fs::path& path, std::size_t line_no) {
  return path.string() + ":" + std::to_string(line_no) + ": ";
}

// Parses one number; from_chars is locale-independent and rejects trailing junk.
float parse_number(std::string_view token, const fs::path& path, std::size_t line_no) {
  std::string_view digits = token;
  if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);  // from_chars does not take '+'
  float value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (ec == std::errc::result_out_of_range)
    throw Error(line_prefix(path, line_no) + "'" + std::string(token) + "' is out of float range");
  if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty())
    throw Error(line_prefix(path, line_no) + "'" + std::string(token.substr(0, 40)) + "' is not a number");
  return value;
}

PointCloud read_text(const fs::path& path) {
  const std::string text = read_bytes(path);
  PointCloud cloud;
  std::size_t per_line = 0, first_line = 0, line_no = 0;
  float values[6];
  const std::size_t bom = text.rfind("\xEF\xBB\xBF", 0) == 0 ? 3 : 0;  // editors on Windows add one
  for (std::size_t pos = bom; pos < text.size();) {
    std::size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string_view line(text.data() + pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    std::size_t i = 0;
    while (i < line.size() && is_separator(line[i])) ++i;
    if (i == line.size() || line[i] == '#') continue;
    std::size_t count = 0;
    while (i < line.size()) {
      const std::size_t start = i;
      while (i < line.size() && !is_separator(line[i])) ++i;
      if (i > start) {
        if (count == 6)
          throw Error(line_prefix(path, line_no) + "more than 6 numbers (expected x y z or x y z nx ny nz)");
        values[count++] = parse_number(line.substr(start, i - start), path, line_no);
      }
      while (i < line.size() && is_separator(line[i])) ++i;
    }
    if (count != 3 && count != 6)
      throw Error(line_prefix(path, line_no) + "expected 3 numbers (x y z) or 6 (x y z nx ny nz), found " +
                  std::to_string(count));
    if (per_line == 0) {
      per_line = count;
      first_line = line_no;
    } else if (count != per_line) {
      throw Error(line_prefix(path, line_no) + std::to_string(count) +
                  " numbers, but the first point (line " + std::to_string(first_line) + ") has " +
                  std::to_string(per_line));
    }
    cloud.points.insert(cloud.points.end(), values, values + 3);
    if (count == 6) cloud.normals.insert(cloud.normals.end(), values + 3, values + 6);
  }
  return cloud;
}

// ---------------------------------------------------------------------------------------------------
// KITTI .bin: little-endian float32 x, y, z, intensity.

constexpr std::size_t kBinRecord = 16;

float little_endian_float(const char* p) {
  std::uint32_t bits;
  std::memcpy(&bits, p, 4);
  if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
  return std::bit_cast<float>(bits);
}

PointCloud read_bin(const fs::path& path) {
  const std::string bytes = read_bytes(path);
  if (bytes.empty()) fail(path, "no points (the file is empty)");
  if (bytes.size() % kBinRecord != 0)
    fail(path, "size " + std::to_string(bytes.size()) +
                   " bytes is not a multiple of 16 (a .bin cloud holds float32 x, y, z, intensity records)");
  PointCloud cloud;
  const std::size_t n = bytes.size() / kBinRecord;
  cloud.points.resize(3 * n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < 3; ++k)
      cloud.points[3 * i + k] = little_endian_float(&bytes[i * kBinRecord + 4 * k]);
  return cloud;
}

// ---------------------------------------------------------------------------------------------------
// Writing.

void check_writable_cloud(const fs::path& path, const PointCloud& cloud) {
  if (cloud.points.size() % 3 != 0)
    fail(path,
         "cannot write: points has " + std::to_string(cloud.points.size()) + " floats, not a multiple of 3");
  if (cloud.has_normals() && cloud.normals.size() != cloud.points.size())
    fail(path, "cannot write: " + std::to_string(cloud.normals.size() / 3) + " normals for " +
                   std::to_string(cloud.size()) + " points");
  if (cloud.size() == 0) fail(path, "cannot write an empty cloud (no reader accepts one)");
}

pcl::PCLPointCloud2 to_blob(const PointCloud& cloud) {
  pcl::PCLPointCloud2 blob;
  const char* names[] = {"x", "y", "z", "normal_x", "normal_y", "normal_z"};
  const std::size_t channels = cloud.has_normals() ? 6 : 3;
  for (std::size_t c = 0; c < channels; ++c) {
    pcl::PCLPointField f;
    f.name = names[c];
    f.offset = static_cast<std::uint32_t>(4 * c);
    f.datatype = pcl::PCLPointField::FLOAT32;
    f.count = 1;
    blob.fields.push_back(f);
  }
  const auto n = static_cast<std::size_t>(cloud.size());
  blob.width = static_cast<std::uint32_t>(n);
  blob.height = 1;
  blob.point_step = static_cast<std::uint32_t>(4 * channels);
  blob.row_step = static_cast<std::uint32_t>(4 * channels * n);
  blob.is_bigendian = std::endian::native == std::endian::big;
  blob.is_dense =
      std::all_of(cloud.points.begin(), cloud.points.end(), [](float v) { return std::isfinite(v); });
  blob.data.resize(4 * channels * n);
  for (std::size_t i = 0; i < n; ++i) {
    std::memcpy(&blob.data[4 * channels * i], &cloud.points[3 * i], 12);
    if (channels == 6) std::memcpy(&blob.data[4 * channels * i + 12], &cloud.normals[3 * i], 12);
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
void write_with_pcl(const fs::path& path, const PointCloud& cloud, const std::string& ext) {
  silence_pcl();
  const pcl::PCLPointCloud2 blob = to_blob(cloud);
  const TempFile temp(ext);
  int code = 0;
  try {
    if (ext == ".pcd") {
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

void write_text(const fs::path& path, const PointCloud& cloud, char separator) {
  write_file_atomically(path, [&](std::ostream& out) {
    char buffer[32];
    std::string line;
    const auto append = [&](float v) {
      if (!line.empty()) line += separator;
      // Shortest representation that reads back as the same float.
      const auto r = std::to_chars(buffer, buffer + sizeof buffer, v);
      line.append(buffer, r.ptr);
    };
    for (std::int64_t i = 0; i < cloud.size(); ++i) {
      line.clear();
      for (int k = 0; k < 3; ++k) append(cloud.points[3 * i + k]);
      if (cloud.has_normals())
        for (int k = 0; k < 3; ++k) append(cloud.normals[3 * i + k]);
      line += '\n';
      out << line;
    }
  });
}

void write_bin(const fs::path& path, const PointCloud& cloud) {
  if (cloud.has_normals()) fail(path, "a .bin cloud (x, y, z, intensity) cannot hold normals");
  std::string bytes(static_cast<std::size_t>(cloud.size()) * kBinRecord, '\0');
  for (std::int64_t i = 0; i < cloud.size(); ++i)
    for (int k = 0; k < 3; ++k) {
      std::uint32_t bits = std::bit_cast<std::uint32_t>(cloud.points[3 * i + k]);
      if constexpr (std::endian::native == std::endian::big) bits = __builtin_bswap32(bits);
      std::memcpy(&bytes[i * kBinRecord + 4 * k], &bits, 4);
    }
  write_file_atomically(path, bytes);
}

}  // namespace

std::vector<std::string> point_cloud_extensions() { return extensions(); }

bool is_point_cloud_file(const fs::path& path) {
  const std::string ext = lower_extension(path);
  return std::find(extensions().begin(), extensions().end(), ext) != extensions().end();
}

PointCloud read_point_cloud(const fs::path& path, ReadReport* report) {
  const std::string ext = lower_extension(path);
  if (!is_point_cloud_file(path))
    fail(path, "unsupported extension '" + ext + "' (supported: " + extension_list() + ")");
  check_readable_file(path);
  PointCloud cloud;
  if (ext == ".pcd" || ext == ".ply")
    cloud = read_with_pcl(path, ext);
  else if (ext == ".bin")
    cloud = read_bin(path);
  else
    cloud = read_text(path);
  keep_finite(cloud, path, report);
  return cloud;
}

void write_point_cloud(const fs::path& path, const PointCloud& cloud) {
  const std::string ext = lower_extension(path);
  if (!is_point_cloud_file(path))
    fail(path, "unsupported extension '" + ext + "' (supported: " + extension_list() + ")");
  check_writable_cloud(path, cloud);
  if (ext == ".pcd" || ext == ".ply")
    write_with_pcl(path, cloud, ext);
  else if (ext == ".bin")
    write_bin(path, cloud);
  else
    write_text(path, cloud, ext == ".csv" ? ',' : ' ');
}

}  // namespace pcv
