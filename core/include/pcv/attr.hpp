// Attribute values given to ops on the host side.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace pcv {

using AttrValue =
    std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>, std::vector<double>>;
using AttrMap = std::map<std::string, AttrValue, std::less<>>;

// The value as a person would write it: 3, 0.5, "mean", [1, 2].
std::string attr_to_string(const AttrValue& value);

}  // namespace pcv
