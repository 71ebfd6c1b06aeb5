// Opening a safetensors file: map it, then refuse anything the format does not allow before handing out
// a single tensor. Every check is on numbers read from the file before any pointer is formed from them,
// so no header, however hostile, makes us read outside the mapping.
//
// Refused, each with a pcv::Error naming the file (and the tensor, where there is one):
//   - files shorter than the 8-byte header length ("truncated");
//   - a header length over 100 MB or over the rest of the file ("header length ... exceeds");
//   - a header that is not UTF-8 ("not valid UTF-8"), not JSON ("not valid JSON"), not a JSON object
//     ("not a JSON object"), repeats a key in any object ("duplicate key"), or nests over 64 deep;
//   - entries that are not objects, miss or mistype dtype/shape/data_offsets, have unknown keys, negative
//     dimensions or more than PCV_MAX_NDIM of them, or an empty tensor name;
//   - dtypes pcv has no dtype for ("not supported") and dtypes the format does not know ("unknown dtype");
//   - data_offsets that begin after they end, or end past the byte buffer ("outside the file");
//   - byte ranges that do not match the shape and dtype ("... bytes but shape ... of F32 needs ...");
//   - tensors sharing bytes ("overlaps tensor") and bytes no tensor covers ("belong to no tensor");
//   - a "__metadata__" that is not an object of strings.
#include <pcv/error.hpp>
#include <pcv/safetensors.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <system_error>
#include <tuple>

#include "model/safetensors_format.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
namespace format = safetensors;
using nlohmann::json;

// Deeper JSON is no safetensors header; the limit keeps a hostile one from costing more than it must.
constexpr std::size_t kMaxJsonDepth = 64;

// A read-only private mapping of a whole file, unmapped when the last view of it is gone.
struct Mapping {
  void* address = MAP_FAILED;
  std::size_t size = 0;
  Mapping() = default;
  Mapping(const Mapping&) = delete;
  Mapping& operator=(const Mapping&) = delete;
  ~Mapping() {
    if (address != MAP_FAILED) ::munmap(address, size);
  }
};

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Builds the messages: every one starts by naming the file.
class Reporter {
 public:
  explicit Reporter(const fs::path& path) : prefix_("safetensors file '" + path.string() + "': ") {}

  [[noreturn]] void fail(const std::string& problem, pcv_status code = PCV_ERR_INVALID_ARGUMENT) const {
    throw Error(prefix_ + problem, code);
  }
  [[noreturn]] void fail(const std::string& tensor, const std::string& problem,
                         pcv_status code = PCV_ERR_INVALID_ARGUMENT) const {
    throw Error(prefix_ + "tensor '" + tensor + "': " + problem, code);
  }
  [[noreturn]] void fail_os(const std::string& what, int err) const {
    fail(what + ": " + std::system_category().message(err));
  }

 private:
  std::string prefix_;
};

std::string range_string(std::uint64_t begin, std::uint64_t end) {
  return "[" + std::to_string(begin) + ", " + std::to_string(end) + "]";
}

std::shared_ptr<Mapping> map_file(const fs::path& path, const Reporter& report) {
  const FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) report.fail_os("cannot open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) report.fail_os("cannot stat", errno);
  if (!S_ISREG(st.st_mode)) report.fail("not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < format::kLengthFieldBytes)
    report.fail("truncated: " + std::to_string(size) + " bytes, too short for the 8-byte header length");
  auto mapping = std::make_shared<Mapping>();
  // Private and writable: a tensor changed in place (inference folds batch norms into weights)
  // turns the pages it touches into this process's own copy; the file never changes.
  mapping->address = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd.get(), 0);
  if (mapping->address == MAP_FAILED)
    report.fail_os("cannot memory-map " + std::to_string(size) + " bytes", errno);
  mapping->size = size;
  return mapping;
}

std::uint64_t read_u64_le(std::span<const std::byte> bytes) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | std::to_integer<std::uint64_t>(bytes[i]);
  return value;
}

std::uint64_t read_header_length(std::span<const std::byte> file, const Reporter& report) {
  const std::uint64_t length = read_u64_le(file.first(format::kLengthFieldBytes));
  if (length > format::kMaxHeaderBytes)
    report.fail("header length " + std::to_string(length) + " exceeds the limit of " +
                std::to_string(format::kMaxHeaderBytes) + " bytes");
  const std::uint64_t rest = file.size() - format::kLengthFieldBytes;
  if (length > rest)
    report.fail("header length " + std::to_string(length) + " exceeds the " + std::to_string(rest) +
                " bytes after the length field (truncated file?)");
  return length;
}

// A parser callback refusing what nlohmann::json would let through: repeated keys (it silently keeps the
// last one; the format wants them refused) and absurd nesting.
class HeaderGuard {
 public:
  explicit HeaderGuard(const Reporter& report) : report_(report) {}

  bool operator()(int depth, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        if (static_cast<std::size_t>(depth) >= kMaxJsonDepth)
          report_.fail("header nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
        if (event == json::parse_event_t::object_start) open_objects_.emplace_back();
        break;
      case json::parse_event_t::key:
        note_key(parsed.get<std::string>());
        break;
      case json::parse_event_t::object_end:
        open_objects_.pop_back();
        break;
      default:
        break;
    }
    return true;
  }

 private:
  struct OpenObject {
    std::set<std::string> keys;
    std::string last_key;
  };

  void note_key(const std::string& key) {
    OpenObject& object = open_objects_.back();
    object.last_key = key;
    if (object.keys.insert(key).second) return;
    const std::size_t n = open_objects_.size();
    const std::string where = n > 1 ? " in '" + open_objects_[n - 2].last_key + "'" : "";
    report_.fail("header has duplicate key '" + key + "'" + where);
  }

  const Reporter& report_;
  std::vector<OpenObject> open_objects_;
};

json parse_header(std::string_view text, const Reporter& report) {
  if (const std::size_t bad = format::find_invalid_utf8(text); bad != std::string_view::npos)
    report.fail("header is not valid UTF-8 (bad byte at offset " + std::to_string(bad) + ")");
  // nlohmann::json takes a NUL byte for the end of its input and would ignore whatever follows.
  if (const std::size_t nul = text.find('\0'); nul != std::string_view::npos)
    report.fail("header is not valid JSON: NUL byte at offset " + std::to_string(nul));
  json header;
  try {
    header = json::parse(text.begin(), text.end(), HeaderGuard(report));
  } catch (const json::exception& e) {
    report.fail(std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) report.fail(std::string("header is not a JSON object but ") + header.type_name());
  return header;
}

std::map<std::string, std::string> parse_metadata(const json& value, const Reporter& report) {
  const std::string key(format::kMetadataKey);
  if (!value.is_object())
    report.fail("\"" + key + "\" must be an object of string to string, not " +
                std::string(value.type_name()));
  std::map<std::string, std::string> metadata;
  for (const auto& [name, item] : value.items()) {
    if (!item.is_string())
      report.fail("\"" + key + "\" must be an object of string to string, but '" + name + "' is " +
                  std::string(item.type_name()) + " " + item.dump());
    metadata.emplace(name, item.get<std::string>());
  }
  return metadata;
}

const json& required_field(const json& entry, const char* key, const std::string& tensor,
                           const Reporter& report) {
  const auto found = entry.find(key);
  if (found == entry.end()) report.fail(tensor, std::string("missing \"") + key + "\"");
  return *found;
}

void refuse_unknown_fields(const json& entry, const std::string& tensor, const Reporter& report) {
  for (const auto& [key, value] : entry.items())
    if (key != "dtype" && key != "shape" && key != "data_offsets")
      report.fail(tensor, "unknown key '" + key + "' (an entry has only dtype, shape and data_offsets)");
}

pcv_dtype parse_dtype(const json& value, const std::string& tensor, const Reporter& report) {
  if (!value.is_string()) report.fail(tensor, "\"dtype\" must be a string, not " + value.dump());
  const auto& name = value.get_ref<const std::string&>();
  if (auto dtype = format::dtype_from_name(name)) return *dtype;
  if (format::is_unsupported_dtype(name))
    report.fail(tensor,
                "dtype '" + name + "' is not supported (pcv reads " + format::supported_dtype_list() + ")",
                PCV_ERR_NOT_SUPPORTED);
  report.fail(tensor, "unknown dtype '" + name + "'");
}

Shape parse_shape(const json& value, const std::string& tensor, const Reporter& report) {
  if (!value.is_array())
    report.fail(tensor, "\"shape\" must be an array of non-negative integers, not " + value.dump());
  if (value.size() > PCV_MAX_NDIM)
    report.fail(tensor, "shape " + value.dump() + " has " + std::to_string(value.size()) +
                            " dimensions, more than the " + std::to_string(PCV_MAX_NDIM) + " pcv supports");
  Shape shape;
  for (const json& dim : value) {
    if (dim.is_number_integer() && !dim.is_number_unsigned() && dim.get<std::int64_t>() < 0)
      report.fail(tensor, "shape " + value.dump() + " has a negative dimension");
    if (!dim.is_number_integer())
      report.fail(tensor, "\"shape\" must be an array of non-negative integers, not " + value.dump());
    const auto d = dim.is_number_unsigned() ? dim.get<std::uint64_t>() : std::uint64_t{0};  // "-0" is 0
    if (d > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      report.fail(tensor, "shape " + value.dump() + " has a dimension too large for pcv");
    shape.push_back(static_cast<std::int64_t>(d));
  }
  return shape;
}

std::pair<std::uint64_t, std::uint64_t> parse_offsets(const json& value, const std::string& tensor,
                                                      const Reporter& report) {
  if (!value.is_array() || value.size() != 2 || !value[0].is_number_unsigned() ||
      !value[1].is_number_unsigned())
    report.fail(tensor,
                "\"data_offsets\" must be an array of two non-negative integers, not " + value.dump());
  return {value[0].get<std::uint64_t>(), value[1].get<std::uint64_t>()};
}

// Bytes the shape needs, or nothing if the element count does not fit in an int64 (pcv counts elements
// in int64; checking the product of the non-zero dimensions keeps every partial product in range too).
std::optional<std::uint64_t> bytes_needed(const Shape& shape, pcv_dtype dtype) {
  std::uint64_t count = 1;
  bool empty = false;
  for (std::int64_t d : shape) {
    if (d == 0) {
      empty = true;
      continue;
    }
    if (__builtin_mul_overflow(count, static_cast<std::uint64_t>(d), &count)) return std::nullopt;
  }
  if (count > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return std::nullopt;
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(count, element_size(dtype), &bytes)) return std::nullopt;
  return empty ? 0 : bytes;
}

void check_byte_range(const SafetensorsEntry& e, std::uint64_t buffer_size, const Reporter& report) {
  const std::string offsets = "data_offsets " + range_string(e.begin, e.end);
  if (e.begin > e.end) report.fail(e.name, offsets + " begin after they end");
  if (e.end > buffer_size)
    report.fail(e.name, offsets + " end outside the file: the byte buffer has only " +
                            std::to_string(buffer_size) + " bytes (truncated data?)");
  const std::optional<std::uint64_t> needed = bytes_needed(e.shape, e.dtype);
  if (!needed) report.fail(e.name, "shape " + shape_string(e.shape) + " has too many elements");
  if (e.end - e.begin != *needed)
    report.fail(e.name, offsets + " span " + std::to_string(e.end - e.begin) + " bytes but shape " +
                            shape_string(e.shape) + " of " + e.dtype_name + " needs " +
                            std::to_string(*needed));
}

SafetensorsEntry parse_entry(const std::string& name, const json& value, std::uint64_t buffer_size,
                             const Reporter& report) {
  if (name.empty()) report.fail("header has a tensor with an empty name");
  if (!value.is_object())
    report.fail(name, "entry is not a JSON object but " + std::string(value.type_name()));
  refuse_unknown_fields(value, name, report);
  SafetensorsEntry e;
  e.name = name;
  e.dtype = parse_dtype(required_field(value, "dtype", name, report), name, report);
  e.dtype_name = value["dtype"].get<std::string>();
  e.shape = parse_shape(required_field(value, "shape", name, report), name, report);
  std::tie(e.begin, e.end) = parse_offsets(required_field(value, "data_offsets", name, report), name, report);
  check_byte_range(e, buffer_size, report);
  return e;
}

// The format wants the byte buffer exactly tiled by the tensors: no byte shared, no byte unused.
// `entries` are sorted by (begin, end).
void check_tiling(const std::vector<const SafetensorsEntry*>& entries, std::uint64_t buffer_size,
                  const Reporter& report) {
  std::uint64_t covered = 0;  // bytes [0, covered) belong to the tensors seen so far
  const SafetensorsEntry* last = nullptr;
  for (const SafetensorsEntry* e : entries) {
    if (e->begin < covered)
      report.fail(e->name, "data_offsets " + range_string(e->begin, e->end) + " overlaps tensor '" +
                               last->name + "' (data_offsets " + range_string(last->begin, last->end) + ")");
    if (e->begin > covered)
      report.fail("bytes [" + std::to_string(covered) + ", " + std::to_string(e->begin) +
                  ") of the byte buffer belong to no tensor (the format allows no holes)");
    covered = e->end;
    last = e;
  }
  if (covered < buffer_size)
    report.fail("the last " + std::to_string(buffer_size - covered) + " bytes of the byte buffer (from " +
                std::to_string(covered) + ") belong to no tensor (the format allows no trailing bytes)");
}

}  // namespace

SafetensorsFile SafetensorsFile::open(const fs::path& path) {
  const Reporter report(path);
  std::shared_ptr<Mapping> mapping = map_file(path, report);
  const std::span<const std::byte> file(static_cast<const std::byte*>(mapping->address), mapping->size);
  const std::uint64_t header_length = read_header_length(file, report);
  const std::span<const std::byte> header_bytes = file.subspan(format::kLengthFieldBytes, header_length);
  const json header = parse_header(
      std::string_view(reinterpret_cast<const char*>(header_bytes.data()), header_bytes.size()), report);

  SafetensorsFile result;
  result.path_ = path;
  result.file_ = file;
  result.data_start_ = format::kLengthFieldBytes + header_length;
  const std::uint64_t buffer_size = file.size() - result.data_start_;
  for (const auto& [name, value] : header.items()) {
    if (name == format::kMetadataKey)
      result.metadata_ = parse_metadata(value, report);
    else
      result.entries_.emplace(name, parse_entry(name, value, buffer_size, report));
  }

  std::vector<const SafetensorsEntry*> by_offset;
  for (const auto& [name, e] : result.entries_) by_offset.push_back(&e);
  std::ranges::stable_sort(by_offset, {},
                           [](const SafetensorsEntry* e) { return std::pair(e->begin, e->end); });
  check_tiling(by_offset, buffer_size, report);
  for (const SafetensorsEntry* e : by_offset) result.names_.push_back(e->name);
  result.mapping_ = std::move(mapping);
  return result;
}

bool SafetensorsFile::contains(std::string_view name) const { return entries_.find(name) != entries_.end(); }

const SafetensorsEntry& SafetensorsFile::entry(std::string_view name) const {
  const auto found = entries_.find(name);
  if (found == entries_.end())
    throw Error("safetensors file '" + path_.string() + "' has no tensor '" + std::string(name) +
                "' (it has " + std::to_string(names_.size()) + " tensors)");
  return found->second;
}

Tensor SafetensorsFile::tensor(std::string_view name) const {
  const SafetensorsEntry& e = entry(name);
  // Validated in open(): [begin, end) lies inside the mapping. Writes stay in this process (a
  // private mapping); the header tells callers to clone before changing a tensor they share.
  auto* data = const_cast<std::byte*>(file_.data() + data_start_ + e.begin);
  Tensor view = Tensor::wrap(data, e.dtype, e.shape, mapping_);
  if (reinterpret_cast<std::uintptr_t>(data) % element_size(e.dtype) == 0) return view;
  return view.clone();  // typed access to misaligned elements would be undefined behaviour
}

std::vector<std::pair<std::string, Tensor>> SafetensorsFile::tensors() const {
  std::vector<std::pair<std::string, Tensor>> all;
  all.reserve(names_.size());
  for (const std::string& name : names_) all.emplace_back(name, tensor(name));
  return all;
}

}  // namespace pcv
