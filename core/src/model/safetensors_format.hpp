// What the safetensors reader and writer agree on: layout constants, the dtype names, UTF-8 validity.
#pragma once

#include <pcv/types.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pcv::safetensors {

// The file starts with the header length as a little-endian u64.
inline constexpr std::uint64_t kLengthFieldBytes = 8;
// Larger headers are refused: no real checkpoint needs one, and a hostile file should not make us parse
// gigabytes of JSON.
inline constexpr std::uint64_t kMaxHeaderBytes = 100'000'000;
// The writer pads the header with spaces so that the byte buffer starts at a multiple of this.
inline constexpr std::uint64_t kBufferAlignment = 64;
inline constexpr std::string_view kMetadataKey = "__metadata__";

struct DtypeName {
  std::string_view name;
  pcv_dtype dtype;
};

// The safetensors dtypes that have a pcv dtype.
inline constexpr std::array<DtypeName, 5> kSupportedDtypes{{
    {"F32", kFloat32},
    {"F64", kFloat64},
    {"I32", kInt32},
    {"I64", kInt64},
    {"U8", kUInt8},
}};

// Valid in the format, but pcv has no dtype for them.
inline constexpr std::array<std::string_view, 15> kUnsupportedDtypes{
    "BOOL", "I8", "I16",     "U16",     "U32",     "U64",     "F16",     "BF16",
    "C64",  "F4", "F6_E2M3", "F6_E3M2", "F8_E4M3", "F8_E5M2", "F8_E8M0",
};

inline std::optional<pcv_dtype> dtype_from_name(std::string_view name) {
  for (const DtypeName& d : kSupportedDtypes)
    if (d.name == name) return d.dtype;
  return std::nullopt;
}

inline std::optional<std::string_view> name_of_dtype(pcv_dtype dtype) {
  for (const DtypeName& d : kSupportedDtypes)
    if (same_dtype(d.dtype, dtype)) return d.name;
  return std::nullopt;
}

inline bool is_unsupported_dtype(std::string_view name) {
  for (std::string_view n : kUnsupportedDtypes)
    if (n == name) return true;
  return false;
}

// "F32, F64, I32, I64, U8"
inline std::string supported_dtype_list() {
  std::string list;
  for (const DtypeName& d : kSupportedDtypes) list += (list.empty() ? "" : ", ") + std::string(d.name);
  return list;
}

// Offset of the first byte that breaks UTF-8 as RFC 3629 defines it (no overlong forms, no surrogates,
// nothing past U+10FFFF), or npos if there is none.
inline std::size_t find_invalid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto lead = static_cast<unsigned char>(s[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char second_min = 0x80, second_max = 0xBF;  // the second byte's range depends on the first
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;  // overlong
      if (lead == 0xED) second_max = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;  // overlong
      if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
    } else {
      return i;
    }
    if (s.size() - i < length) return i;
    const auto second = static_cast<unsigned char>(s[i + 1]);
    if (second < second_min || second > second_max) return i;
    for (std::size_t k = 2; k < length; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return i;
    i += length;
  }
  return std::string_view::npos;
}

}  // namespace pcv::safetensors
