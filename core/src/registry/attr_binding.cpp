#include "registry/attr_binding.hpp"

#include <pcv/error.hpp>
#include <pcv/types.hpp>

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>

namespace pcv::detail {
namespace {

std::int32_t type_of(const AttrValue& v) {
  return std::visit([](const auto& x) { return attr_type_of<std::decay_t<decltype(x)>>(); }, v);
}

// The value converted to the declared type, or nullopt when that would lose information.
std::optional<OwnedAttr> convert(const std::string& name, const AttrValue& v, std::int32_t want) {
  const std::int32_t have = type_of(v);
  if (have == want) return std::visit([&](const auto& x) { return OwnedAttr::make(name, x); }, v);
  if (want == PCV_ATTR_FLOAT && have == PCV_ATTR_INT)
    return OwnedAttr::make(name, static_cast<double>(std::get<std::int64_t>(v)));
  if (want == PCV_ATTR_FLOATS && have == PCV_ATTR_INTS) {
    const auto& ints = std::get<std::vector<std::int64_t>>(v);
    return OwnedAttr::make(name, std::vector<double>(ints.begin(), ints.end()));
  }
  if (want == PCV_ATTR_INT && have == PCV_ATTR_FLOAT) {
    const double f = std::get<double>(v);
    if (std::trunc(f) == f && std::abs(f) < 9.0e15)
      return OwnedAttr::make(name, static_cast<std::int64_t>(f));
  }
  if (want == PCV_ATTR_BOOL && have == PCV_ATTR_INT) {
    const std::int64_t i = std::get<std::int64_t>(v);
    if (i == 0 || i == 1) return OwnedAttr::make(name, i == 1);
  }
  return std::nullopt;
}

}  // namespace

AttrBinding::AttrBinding(const OpInfo& op, const AttrMap& attrs) {
  for (const auto& [name, value] : attrs) {
    auto spec =
        std::find_if(op.attrs.begin(), op.attrs.end(), [&](const AttrInfo& a) { return a.name == name; });
    if (spec == op.attrs.end()) {
      std::string declared;
      for (const AttrInfo& a : op.attrs) declared += (declared.empty() ? "" : ", ") + a.name;
      throw Error("op " + op.full_name + " has no attribute '" + name +
                  "' (its attributes: " + (declared.empty() ? "none" : declared) + ")");
    }
    auto converted = convert(name, value, spec->type);
    if (!converted)
      throw Error("attribute '" + name + "' of " + op.full_name + " must be " + attr_type_name(spec->type) +
                  ", got " + attr_type_name(type_of(value)) + " " + attr_to_string(value));
    values_.push_back(std::move(*converted));
  }
  for (const AttrInfo& a : op.attrs)
    if (!a.default_value && attrs.find(a.name) == attrs.end())
      throw Error("op " + op.full_name + " needs attribute '" + a.name + "' (" + attr_type_name(a.type) +
                  "): " + a.doc);
  for (OwnedAttr& v : values_) pointers_.push_back(v.get());
  list_.struct_size = sizeof list_;
  list_.count = static_cast<std::uint32_t>(pointers_.size());
  list_.items = pointers_.data();
}

}  // namespace pcv::detail
