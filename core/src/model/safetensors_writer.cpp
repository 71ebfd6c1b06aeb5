// Writing a safetensors file: check the tensors, lay them out back to back with the widest elements first,
// and write header and bytes through write_file_atomically.
#include <pcv/atomic_file.hpp>
#include <pcv/error.hpp>
#include <pcv/safetensors.hpp>

#include <algorithm>
#include <array>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>

#include "model/safetensors_format.hpp"

namespace pcv {
namespace {

namespace fs = std::filesystem;
namespace format = safetensors;

class Reporter {
 public:
  explicit Reporter(const fs::path& path)
      : prefix_("cannot write safetensors file '" + path.string() + "': ") {}
  [[noreturn]] void fail(const std::string& problem) const { throw Error(prefix_ + problem); }

 private:
  std::string prefix_;
};

void require_utf8(std::string_view text, const std::string& what, const Reporter& report) {
  if (const std::size_t bad = format::find_invalid_utf8(text); bad != std::string_view::npos)
    report.fail(what + " is not valid UTF-8 (byte " + std::to_string(bad) + ")");
}

void check_name(const std::string& name, std::set<std::string_view>& seen, const Reporter& report) {
  if (name.empty()) report.fail("a tensor has an empty name");
  if (name == format::kMetadataKey) report.fail("\"__metadata__\" is not a tensor name");
  require_utf8(name, "tensor name '" + name + "'", report);
  if (!seen.insert(name).second) report.fail("tensor name '" + name + "' is given twice");
}

void check_tensor(const std::string& name, const Tensor& t, const Reporter& report) {
  if (!t.defined()) report.fail("tensor '" + name + "' is absent (a default-constructed Tensor)");
  if (t.device().device_type != PCV_DEVICE_CPU)
    report.fail("tensor '" + name + "' is on " + device_name(t.device()) +
                "; only CPU tensors can be written");
  if (!format::name_of_dtype(t.dtype()))
    report.fail("tensor '" + name + "' has dtype " + dtype_name(t.dtype()) +
                ", which safetensors files of pcv " +
                "cannot hold (supported: " + format::supported_dtype_list() + ")");
}

void check_metadata(const std::map<std::string, std::string>& metadata, const Reporter& report) {
  for (const auto& [key, value] : metadata) {
    require_utf8(key, "metadata key '" + key + "'", report);
    require_utf8(value, "metadata value of '" + key + "'", report);
  }
}

// Widest elements first: every tensor then starts at a multiple of its element size (sizes are powers of
// two), so with the buffer 64-byte aligned each one can be mapped in place.
std::vector<std::size_t> layout_order(const std::vector<std::pair<std::string, Tensor>>& tensors) {
  std::vector<std::size_t> order(tensors.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::ranges::stable_sort(order, std::greater<>{},
                           [&](std::size_t i) { return element_size(tensors[i].second.dtype()); });
  return order;
}

// The JSON header, padded with spaces so that 8 + its length is a multiple of 64.
std::string make_header(const std::vector<std::pair<std::string, Tensor>>& tensors,
                        const std::vector<std::size_t>& order,
                        const std::map<std::string, std::string>& metadata) {
  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header[std::string(format::kMetadataKey)] = metadata;
  std::uint64_t offset = 0;
  for (std::size_t i : order) {
    const auto& [name, t] = tensors[i];
    header[name] = {{"dtype", std::string(*format::name_of_dtype(t.dtype()))},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text = header.dump();
  const std::uint64_t unpadded = format::kLengthFieldBytes + text.size();
  const std::uint64_t padded =
      (unpadded + format::kBufferAlignment - 1) / format::kBufferAlignment * format::kBufferAlignment;
  text.append(padded - unpadded, ' ');
  return text;
}

void write_u64_le(std::ostream& out, std::uint64_t value) {
  std::array<char, 8> bytes{};
  for (char& b : bytes) {
    b = static_cast<char>(value & 0xFF);
    value >>= 8;
  }
  out.write(bytes.data(), bytes.size());
}

}  // namespace

void write_safetensors(const fs::path& path, const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const Reporter report(path);
  std::set<std::string_view> seen;
  for (const auto& [name, t] : tensors) {
    check_name(name, seen, report);
    check_tensor(name, t, report);
  }
  check_metadata(metadata, report);

  const std::vector<std::size_t> order = layout_order(tensors);
  const std::string header = make_header(tensors, order, metadata);
  if (header.size() > format::kMaxHeaderBytes)
    report.fail("the header would be " + std::to_string(header.size()) + " bytes, more than the " +
                std::to_string(format::kMaxHeaderBytes) + " readers accept");

  write_file_atomically(path, [&](std::ostream& out) {
    write_u64_le(out, header.size());
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    for (std::size_t i : order) {
      const Tensor& t = tensors[i].second;
      out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
    }
  });
}

}  // namespace pcv
