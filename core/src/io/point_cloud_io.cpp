// Reading and writing point clouds. PCL handles .pcd and .ply, in a module loaded on first use (see
// io/pcl_cloud_io.hpp) after the checks here; text and KITTI .bin files are simple enough to parse
// here, which also gives line-accurate error messages.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/point_cloud.hpp>

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
#include <string>
#include <string_view>
#include <system_error>

#include "modules/pcl_cloud_io.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
using detail::lower_extension;
using detail::read_bytes;

const std::vector<std::string>& extensions() {
  static const std::vector<std::string> list = {".pcd", ".ply", ".txt", ".xyz", ".csv", ".bin"};
  return list;
}

std::string extension_list() {
  std::string s;
  for (const std::string& e : extensions()) s += (s.empty() ? "" : ", ") + e;
  return s;
}

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw Error(path.string() + ": " + what);
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
  const bool normals = cloud.has_normals(), labels = cloud.has_labels();
  std::int64_t kept = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    if (!finite3(&cloud.points[3 * i]) || (normals && !finite3(&cloud.normals[3 * i]))) continue;
    if (kept != i) {
      std::copy_n(&cloud.points[3 * i], 3, &cloud.points[3 * kept]);
      if (normals) std::copy_n(&cloud.normals[3 * i], 3, &cloud.normals[3 * kept]);
      if (labels) cloud.labels[kept] = cloud.labels[i];
    }
    ++kept;
  }
  if (kept == 0)
    fail(path, "no finite points (all " + std::to_string(n) + " points have NaN or infinite coordinates" +
                   (normals ? " or normals)" : ")"));
  if (kept == n) return;
  cloud.points.resize(static_cast<std::size_t>(3 * kept));
  if (normals) cloud.normals.resize(static_cast<std::size_t>(3 * kept));
  if (labels) cloud.labels.resize(static_cast<std::size_t>(kept));
  const std::int64_t dropped = n - kept;
  if (report) report->dropped_non_finite += dropped;
  warn("dropped " + std::to_string(dropped) + " of " + std::to_string(n) + " points with NaN or infinite " +
       (normals ? "coordinates or normals" : "coordinates"));
}

// PCL 1.13's readers trust the header: a file without FIELDS makes PCDReader crash, and data shorter
// than the header says is read past. So pcv checks a file's structure before PCL sees it: the header
// must be consistent and the data long enough. This also gives messages that say what is wrong, which
// PCL (silenced) would not.

[[noreturn]] void malformed(const fs::path& path, const char* format, const std::string& what) {
  fail(path, std::string("not a readable ") + format + " file: " + what);
}

std::vector<std::string> words_of(std::string_view line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    const std::size_t start = i;
    while (i < line.size() && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i > start) words.emplace_back(line.substr(start, i - start));
  }
  return words;
}

std::optional<std::uint64_t> parse_count(const std::string& s) {
  std::uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// a * b, or nullopt on overflow.
std::optional<std::uint64_t> product(std::uint64_t a, std::uint64_t b) {
  std::uint64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

std::uint64_t bytes_after(std::istream& in, const fs::path& path) {
  std::error_code ec;
  const std::uint64_t size = fs::file_size(path, ec);
  const std::streamoff at = in.tellg();
  return ec || at < 0 || size < static_cast<std::uint64_t>(at) ? 0 : size - static_cast<std::uint64_t>(at);
}

constexpr int kMaxHeaderLines = 1000;

struct PcdHeader {
  std::vector<std::string> fields, types;
  std::vector<std::uint64_t> sizes, counts;
  std::optional<std::uint64_t> width, height, points;
  std::string data;
  int lines = 0;  // header lines, DATA included
};

PcdHeader read_pcd_header(std::istream& in, const fs::path& path) {
  const auto bad = [&](const std::string& what) { malformed(path, "PCD", what); };
  PcdHeader h;
  std::string line;
  for (int line_no = 1; h.data.empty(); ++line_no) {
    if (line_no > kMaxHeaderLines || !std::getline(in, line)) bad("the header has no DATA line");
    h.lines = line_no;
    const std::vector<std::string> words = words_of(line);
    if (words.empty() || words[0][0] == '#') continue;
    const std::string& key = words[0];
    const std::vector<std::string> values(words.begin() + 1, words.end());
    const auto numbers = [&] {
      std::vector<std::uint64_t> v;
      for (const std::string& s : values) {
        const auto n = parse_count(s);
        if (!n) bad("header line " + std::to_string(line_no) + ": " + key + " has a bad value '" + s + "'");
        v.push_back(*n);
      }
      return v;
    };
    const auto number = [&] {
      if (values.size() != 1) bad("header line " + std::to_string(line_no) + ": " + key + " needs one value");
      return numbers()[0];
    };
    if (key == "VERSION" || key == "VIEWPOINT") continue;
    if (key == "FIELDS" || key == "COLUMNS")
      h.fields = values;
    else if (key == "SIZE")
      h.sizes = numbers();
    else if (key == "TYPE")
      h.types = values;
    else if (key == "COUNT")
      h.counts = numbers();
    else if (key == "WIDTH")
      h.width = number();
    else if (key == "HEIGHT")
      h.height = number();
    else if (key == "POINTS")
      h.points = number();
    else if (key == "DATA" && values.size() == 1)
      h.data = values[0];
    else
      bad("header line " + std::to_string(line_no) + " is not a PCD header entry: '" + line.substr(0, 60) +
          "'");
  }
  return h;
}

// Bytes per point, after checking that FIELDS, SIZE, TYPE and COUNT agree.
std::uint64_t pcd_record_size(PcdHeader& h, const fs::path& path) {
  const auto bad = [&](const std::string& what) { malformed(path, "PCD", what); };
  const std::size_t n = h.fields.size();
  if (n == 0) bad("the header has no FIELDS");
  if (h.counts.empty()) h.counts.assign(n, 1);
  if (h.sizes.size() != n || h.types.size() != n || h.counts.size() != n)
    bad("FIELDS, SIZE, TYPE and COUNT have different lengths (" + std::to_string(n) + ", " +
        std::to_string(h.sizes.size()) + ", " + std::to_string(h.types.size()) + ", " +
        std::to_string(h.counts.size()) + ")");
  std::uint64_t record = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint64_t s = h.sizes[i];
    const std::string& t = h.types[i];
    const bool ok =
        (t == "I" || t == "U") ? (s == 1 || s == 2 || s == 4 || s == 8) : t == "F" && (s == 4 || s == 8);
    if (!ok)
      bad("field '" + h.fields[i] + "' has an unsupported TYPE " + t + " of SIZE " + std::to_string(s));
    if (h.counts[i] == 0 || h.counts[i] > 1000000) bad("field '" + h.fields[i] + "' has a bad COUNT");
    record += s * h.counts[i];
  }
  return record;
}

void check_pcd_ascii_rows(std::istream& in, const fs::path& path, std::uint64_t points, std::uint64_t values,
                          int header_lines) {
  std::string line;
  std::uint64_t rows = 0;
  for (int line_no = header_lines + 1; rows < points && std::getline(in, line); ++line_no) {
    const std::size_t n = words_of(line).size();
    if (n == 0) continue;
    if (n != values)
      malformed(path, "PCD",
                "line " + std::to_string(line_no) + " has " + std::to_string(n) +
                    " values, the header's fields need " + std::to_string(values));
    ++rows;
  }
  if (rows < points)
    malformed(path, "PCD",
              "truncated: the ascii data has " + std::to_string(rows) + " rows, the header says " +
                  std::to_string(points) + " points");
}

void check_pcd(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  const auto bad = [&](const std::string& what) { malformed(path, "PCD", what); };
  PcdHeader h = read_pcd_header(in, path);
  const std::uint64_t record = pcd_record_size(h, path);
  if (!h.width) {
    if (!h.points) bad("the header has neither WIDTH nor POINTS");
    h.width = h.points;
  }
  const auto n = product(*h.width, h.height.value_or(1));
  if (!n) bad("WIDTH x HEIGHT overflows");
  if (h.points && *h.points != *n)
    bad("WIDTH x HEIGHT (" + std::to_string(*h.width) + " x " + std::to_string(h.height.value_or(1)) +
        ") is not POINTS (" + std::to_string(*h.points) + ")");
  if (*n == 0) fail(path, "no points");
  const auto data_bytes = product(*n, record);
  if (!data_bytes) bad("the data size overflows");
  const std::uint64_t body = bytes_after(in, path);
  if (h.data == "binary") {
    if (body < *data_bytes)
      bad("truncated: the binary data has " + std::to_string(body) + " bytes, the header describes " +
          std::to_string(*data_bytes));
  } else if (h.data == "binary_compressed") {
    std::uint32_t sizes[2] = {0, 0};  // compressed, uncompressed
    if (body < 8 || !in.read(reinterpret_cast<char*>(sizes), 8))
      bad("truncated: no compressed data after the header");
    if (std::endian::native == std::endian::big)
      for (std::uint32_t& s : sizes) s = __builtin_bswap32(s);
    if (sizes[0] > body - 8)
      bad("truncated: " + std::to_string(body - 8) + " bytes of compressed data, the file says " +
          std::to_string(sizes[0]));
    if (sizes[1] != *data_bytes)
      bad("the uncompressed size " + std::to_string(sizes[1]) + " does not match the header's " +
          std::to_string(*data_bytes) + " bytes");
  } else if (h.data == "ascii") {
    std::uint64_t values = 0;
    for (std::uint64_t c : h.counts) values += c;
    check_pcd_ascii_rows(in, path, *n, values, h.lines);
  } else {
    bad("unknown DATA encoding '" + h.data + "' (ascii, binary or binary_compressed)");
  }
}

// PLY: the header's elements and properties; the data must be long enough for the elements up to and
// including "vertex".
struct PlyElement {
  std::string name;
  std::uint64_t count = 0;
  std::vector<std::string> properties;
  std::uint64_t row_bytes = 0;  // the size of one row, unless
  bool has_list = false;        // a list property makes rows vary
};

std::uint64_t ply_type_size(const std::string& t) {
  if (t == "char" || t == "uchar" || t == "int8" || t == "uint8") return 1;
  if (t == "short" || t == "ushort" || t == "int16" || t == "uint16") return 2;
  if (t == "int" || t == "uint" || t == "float" || t == "int32" || t == "uint32" || t == "float32") return 4;
  if (t == "double" || t == "float64") return 8;
  return 0;
}

void check_ply(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  const auto bad = [&](const std::string& what) { malformed(path, "PLY", what); };
  std::string line;
  if (!std::getline(in, line) || words_of(line) != std::vector<std::string>{"ply"})
    bad("it does not start with 'ply'");
  std::string format;
  std::vector<PlyElement> elements;
  bool end_header = false;
  for (int line_no = 2; !end_header; ++line_no) {
    if (line_no > kMaxHeaderLines || !std::getline(in, line)) bad("the header has no 'end_header' line");
    const std::vector<std::string> w = words_of(line);
    const std::string where = "header line " + std::to_string(line_no) + ": ";
    if (w.empty() || w[0] == "comment" || w[0] == "obj_info") continue;
    if (w[0] == "end_header") {
      end_header = true;
    } else if (w[0] == "format" && w.size() == 3) {
      format = w[1];
      if (format != "ascii" && format != "binary_little_endian" && format != "binary_big_endian")
        bad(where + "unknown format '" + format + "'");
    } else if (w[0] == "element" && w.size() == 3) {
      const auto count = parse_count(w[2]);
      if (!count) bad(where + "bad element count '" + w[2] + "'");
      elements.push_back({w[1], *count, {}, 0, false});
    } else if (w[0] == "property" && !elements.empty() && w.size() == 3 && ply_type_size(w[1]) > 0) {
      elements.back().properties.push_back(w[2]);
      elements.back().row_bytes += ply_type_size(w[1]);
    } else if (w[0] == "property" && !elements.empty() && w.size() == 5 && w[1] == "list" &&
               ply_type_size(w[2]) > 0 && ply_type_size(w[3]) > 0) {
      elements.back().properties.push_back(w[4]);
      elements.back().has_list = true;
    } else {
      bad(where + "not a PLY header entry: '" + line.substr(0, 60) + "'");
    }
  }
  if (format.empty()) bad("the header has no 'format' line");
  const auto vertex =
      std::find_if(elements.begin(), elements.end(), [](const PlyElement& e) { return e.name == "vertex"; });
  if (vertex == elements.end()) bad("the header has no 'vertex' element");
  if (vertex->count == 0) fail(path, "no points");
  for (const char* axis : {"x", "y", "z"}) {
    if (std::find(vertex->properties.begin(), vertex->properties.end(), axis) != vertex->properties.end())
      continue;
    std::string names;
    for (const std::string& p : vertex->properties) names += (names.empty() ? "" : " ") + p;
    fail(path, "no x/y/z fields (vertex properties: " + (names.empty() ? std::string("none") : names) + ")");
  }
  const std::uint64_t body = bytes_after(in, path);
  // Every row takes at least a byte (a line in ascii), so a larger count is corrupt; PCL would loop
  // over it, for hours with an element that has no properties.
  for (const PlyElement& e : elements)
    if (e.count > body)
      bad("element '" + e.name + "' has " + std::to_string(e.count) + " rows in " + std::to_string(body) +
          " bytes of data");
  if (format == "ascii") {
    std::uint64_t rows = 0, needed = 0;
    for (auto e = elements.begin(); e <= vertex; ++e) needed += e->count;
    while (rows < needed && std::getline(in, line))
      if (!words_of(line).empty()) ++rows;
    if (rows < needed)
      bad("truncated: " + std::to_string(rows) + " data lines, the header needs at least " +
          std::to_string(needed));
    return;
  }
  // Binary: the rows of fixed size, up to the first element with a list property, must fit.
  std::uint64_t needed = 0;
  for (const PlyElement& e : elements) {
    if (e.has_list) break;
    const auto bytes = product(e.count, e.row_bytes);
    if (!bytes || __builtin_add_overflow(needed, *bytes, &needed)) bad("the data size overflows");
  }
  if (body < needed)
    bad("truncated: the binary data has " + std::to_string(body) + " bytes, the header describes at least " +
        std::to_string(needed));
}

PointCloud read_with_pcl(const fs::path& path, const std::string& ext) {
  std::error_code ec;
  if (fs::file_size(path, ec) == 0 && !ec) fail(path, "the file is empty");
  if (ext == ".pcd")
    check_pcd(path);
  else
    check_ply(path);
  return detail::pcl_cloud_io().read(path, ext == ".pcd");
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
  if (cloud.has_labels() && cloud.labels.size() != static_cast<std::size_t>(cloud.size()))
    fail(path, "cannot write: " + std::to_string(cloud.labels.size()) + " labels for " +
                   std::to_string(cloud.size()) + " points");
  const std::string ext = lower_extension(path);
  if (cloud.has_labels() && ext != ".pcd" && ext != ".ply")
    fail(path, "cannot write labels to a " + ext + " file; use .ply or .pcd");
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

std::uint32_t label_colour(std::int32_t label) {
  // Green then earth brown (non-ground / ground in the terrain model), then well-separated hues.
  static constexpr std::uint32_t palette[] = {0x1f9e2c, 0x8c5a2b, 0x1f77b4, 0xd62728, 0x9467bd, 0xff7f0e,
                                              0x17becf, 0xe377c2, 0xbcbd22, 0x7f7f7f, 0x393b79, 0xf7b6d2};
  constexpr auto size = static_cast<std::int32_t>(std::size(palette));
  return palette[((label % size) + size) % size];
}

std::string detail::lower_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

std::string detail::read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path, std::string("read error: ") + std::strerror(errno));
  return bytes;
}

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
    detail::pcl_cloud_io().write(path, cloud, ext == ".pcd");
  else if (ext == ".bin")
    write_bin(path, cloud);
  else
    write_text(path, cloud, ext == ".csv" ? ',' : ' ');
}

}  // namespace pcv
