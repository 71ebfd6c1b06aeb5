#include <pcv/attr.hpp>

#include <sstream>
#include <type_traits>

namespace pcv {
namespace {

template <class T>
void write(std::ostringstream& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>)
    out << (v ? "true" : "false");
  else if constexpr (std::is_same_v<T, std::string>)
    out << '"' << v << '"';
  else if constexpr (std::is_floating_point_v<T>) {
    std::ostringstream number;
    number << v;
    const std::string text = number.str();
    // Keep floats recognisable as floats: 1 -> 1.0
    out << text << (text.find_first_of(".einf") == std::string::npos ? ".0" : "");
  } else if constexpr (std::is_arithmetic_v<T>)
    out << v;
  else {
    out << '[';
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (i) out << ", ";
      write(out, v[i]);
    }
    out << ']';
  }
}

}  // namespace

std::string attr_to_string(const AttrValue& value) {
  std::ostringstream out;
  std::visit([&](const auto& v) { write(out, v); }, value);
  return out.str();
}

}  // namespace pcv
