// Names and constants for the codes of pcv/plugin.h: dtypes, devices, attribute types,
// status codes. Header-only, shared by the host and by plugins.
#pragma once

#include <pcv/plugin.h>

#include <cstdint>
#include <span>
#include <string>
#include <type_traits>

namespace pcv {

inline constexpr pcv_dtype kFloat32{PCV_DTYPE_FLOAT, 32, 1};
inline constexpr pcv_dtype kFloat64{PCV_DTYPE_FLOAT, 64, 1};
inline constexpr pcv_dtype kInt32{PCV_DTYPE_INT, 32, 1};
inline constexpr pcv_dtype kInt64{PCV_DTYPE_INT, 64, 1};
inline constexpr pcv_dtype kUInt8{PCV_DTYPE_UINT, 8, 1};

constexpr bool same_dtype(pcv_dtype a, pcv_dtype b) {
  return a.code == b.code && a.bits == b.bits && a.lanes == b.lanes;
}

// Bytes per element, rounded up to whole bytes.
constexpr std::uint64_t element_size(pcv_dtype t) { return (std::uint64_t{t.bits} * t.lanes + 7) / 8; }

template <class T>
constexpr pcv_dtype dtype_of() {
  using U = std::remove_cv_t<T>;
  if constexpr (std::is_same_v<U, float>)
    return kFloat32;
  else if constexpr (std::is_same_v<U, double>)
    return kFloat64;
  else if constexpr (std::is_same_v<U, std::int32_t>)
    return kInt32;
  else if constexpr (std::is_same_v<U, std::int64_t>)
    return kInt64;
  else if constexpr (std::is_same_v<U, std::uint8_t>)
    return kUInt8;
  else
    static_assert(sizeof(T) == 0, "no pcv dtype for this C++ type");
}

// "float32", "int64", "uint8x4", ...
inline std::string dtype_name(pcv_dtype t) {
  std::string base;
  switch (t.code) {
    case PCV_DTYPE_INT:
      base = "int";
      break;
    case PCV_DTYPE_UINT:
      base = "uint";
      break;
    case PCV_DTYPE_FLOAT:
      base = "float";
      break;
    case PCV_DTYPE_BFLOAT:
      base = "bfloat";
      break;
    default:
      base = "code" + std::to_string(t.code) + "_";
      break;
  }
  base += std::to_string(t.bits);
  if (t.lanes != 1) base += "x" + std::to_string(t.lanes);
  return base;
}

inline std::string device_name(pcv_device d) {
  switch (d.device_type) {
    case PCV_DEVICE_CPU:
      return "cpu";
    case PCV_DEVICE_CUDA:
      return "cuda:" + std::to_string(d.device_id);
    case PCV_DEVICE_CUDA_HOST:
      return "cuda_host";
    case PCV_DEVICE_CUDA_MANAGED:
      return "cuda_managed:" + std::to_string(d.device_id);
    default:
      return "device" + std::to_string(d.device_type);
  }
}

inline constexpr pcv_device kCpu{PCV_DEVICE_CPU, 0};

inline std::int64_t numel(std::span<const std::int64_t> shape) {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

// "[2, 3]"
inline std::string shape_string(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

inline const char* attr_type_name(std::int32_t type) {
  switch (type) {
    case PCV_ATTR_INT:
      return "int";
    case PCV_ATTR_FLOAT:
      return "float";
    case PCV_ATTR_STRING:
      return "string";
    case PCV_ATTR_INTS:
      return "ints";
    case PCV_ATTR_FLOATS:
      return "floats";
    case PCV_ATTR_BOOL:
      return "bool";
    default:
      return "unknown";
  }
}

inline const char* status_name(pcv_status code) {
  switch (code) {
    case PCV_OK:
      return "ok";
    case PCV_ERR_INVALID_ARGUMENT:
      return "invalid argument";
    case PCV_ERR_SHAPE:
      return "shape error";
    case PCV_ERR_VERSION_MISMATCH:
      return "version mismatch";
    case PCV_ERR_OUT_OF_MEMORY:
      return "out of memory";
    case PCV_ERR_NOT_SUPPORTED:
      return "not supported";
    case PCV_ERR_INTERNAL:
      return "internal error";
    default:
      return "unknown status";
  }
}

}  // namespace pcv
