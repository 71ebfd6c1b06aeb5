// Reading and writing the safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8
// JSON naming each tensor's dtype, shape and byte range, then the tensors' bytes, back to back.
#pragma once

#include <pcv/plugin.h>
#include <pcv/tensor.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pcv {

// One tensor as the header describes it.
struct SafetensorsEntry {
  std::string name;
  std::string dtype_name;  // as spelled in the file: "F32", "I64", ...
  pcv_dtype dtype = kFloat32;
  Shape shape;
  std::uint64_t begin = 0;  // data_offsets: the byte range [begin, end) relative to the byte buffer
  std::uint64_t end = 0;
};

// A safetensors file opened read-only and memory-mapped: tensors are zero-copy views into the mapping,
// which stays alive while any of them (or the file object, or a copy of it) does.
//
// The views' memory is read-only: writing through raw_data() or data<T>() of a tensor from tensor()
// is forbidden (the pages are mapped PROT_READ, so it crashes). clone() one to get a writable copy.
// A tensor whose bytes are not aligned to its element size (possible in files from other writers)
// is returned as an aligned copy instead of a view. Truncating the file while it is mapped makes
// reads of the lost pages raise SIGBUS, as with any mapped file; replace files with
// write_safetensors (which renames a new file into place) instead.
class SafetensorsFile {
 public:
  // Maps the file and validates the whole header up front (see the list in safetensors_reader.cpp);
  // every violation throws pcv::Error naming the file and, where there is one, the tensor.
  static SafetensorsFile open(const std::filesystem::path& path);

  const std::filesystem::path& path() const { return path_; }
  // The "__metadata__" object; empty if the file has none.
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Tensor names in data-offset order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(std::string_view name) const;
  // Throws pcv::Error naming the file and the tensor if there is no such tensor.
  const SafetensorsEntry& entry(std::string_view name) const;
  Tensor tensor(std::string_view name) const;
  // Every tensor, in data-offset order.
  std::vector<std::pair<std::string, Tensor>> tensors() const;

  // File offset of the byte buffer: 8 + the header length.
  std::uint64_t data_start() const { return data_start_; }
  // The whole file as mapped.
  std::span<const std::byte> mapped_bytes() const { return file_; }

 private:
  SafetensorsFile() = default;

  std::filesystem::path path_;
  std::shared_ptr<void> mapping_;  // the owner every view holds on to
  std::span<const std::byte> file_;
  std::uint64_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> names_;
  std::map<std::string, SafetensorsEntry, std::less<>> entries_;
};

// Writes tensors (CPU; F32, F64, I32, I64 or U8) and metadata atomically (see write_file_atomically):
// the file at `path` is replaced only once the new one is complete.
//
// Tensor names must be unique, non-empty, valid UTF-8 and not "__metadata__"; metadata keys and values
// must be valid UTF-8. The header is padded with spaces so that the byte buffer starts at a multiple of
// 64 bytes from the file start. The tensors are laid out back to back (the format allows no gaps), those
// with larger elements first (keeping the given order among equals), so every tensor's data is aligned
// to its element size when the file is mapped; names() of the file read back follows that order.
void write_safetensors(const std::filesystem::path& path,
                       const std::vector<std::pair<std::string, Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace pcv
