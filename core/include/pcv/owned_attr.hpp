// A pcv_attr together with the storage its pointers refer to. Header-only; used by the SDK for
// declared defaults and by the host for the attributes it passes to create.
#pragma once

#include <pcv/plugin.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace pcv {

template <class T>
constexpr std::int32_t attr_type_of() {
  if constexpr (std::is_same_v<T, bool>)
    return PCV_ATTR_BOOL;
  else if constexpr (std::is_integral_v<T>)
    return PCV_ATTR_INT;
  else if constexpr (std::is_floating_point_v<T>)
    return PCV_ATTR_FLOAT;
  else if constexpr (std::is_same_v<T, std::string>)
    return PCV_ATTR_STRING;
  else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>)
    return PCV_ATTR_INTS;
  else if constexpr (std::is_same_v<T, std::vector<double>>)
    return PCV_ATTR_FLOATS;
  else
    static_assert(sizeof(T) == 0, "unsupported attribute type");
}

class OwnedAttr {
 public:
  template <class T>
  static OwnedAttr make(std::string name, const T& value) {
    OwnedAttr a;
    a.name_ = std::move(name);
    a.attr_.type = attr_type_of<T>();
    if constexpr (std::is_same_v<T, bool>)
      a.attr_.i = value ? 1 : 0;
    else if constexpr (std::is_integral_v<T>)
      a.attr_.i = static_cast<std::int64_t>(value);
    else if constexpr (std::is_floating_point_v<T>)
      a.attr_.f = static_cast<double>(value);
    else if constexpr (std::is_same_v<T, std::string>)
      a.text_ = value;
    else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>)
      a.ints_ = value;
    else
      a.floats_ = value;
    return a;
  }

  // The C struct, pointing into this object: valid until it is moved or destroyed.
  const pcv_attr* get() {
    attr_.struct_size = sizeof(pcv_attr);
    attr_.name = name_.c_str();
    attr_.s = attr_.type == PCV_ATTR_STRING ? text_.c_str() : nullptr;
    attr_.ints = ints_.empty() ? nullptr : ints_.data();
    attr_.floats = floats_.empty() ? nullptr : floats_.data();
    attr_.count = attr_.type == PCV_ATTR_INTS     ? ints_.size()
                  : attr_.type == PCV_ATTR_FLOATS ? floats_.size()
                                                  : 0;
    return &attr_;
  }

 private:
  pcv_attr attr_{};
  std::string name_, text_;
  std::vector<std::int64_t> ints_;
  std::vector<double> floats_;
};

}  // namespace pcv
