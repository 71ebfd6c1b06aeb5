// Strict reading of small JSON config objects: known keys only, each with the right type.
#pragma once

#include <pcv/error.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <string_view>

namespace pcv::detail {

class JsonFields {
 public:
  JsonFields(std::string_view text, std::string where) : where_(std::move(where)) {
    try {
      json_ = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      fail(std::string("not valid JSON: ") + e.what());
    }
    if (!json_.is_object()) fail("must be a JSON object");
  }
  JsonFields(nlohmann::json j, std::string where) : json_(std::move(j)), where_(std::move(where)) {
    if (!json_.is_object()) fail("must be a JSON object");
  }

  // Sets `value` from key if present; the JSON type must fit T.
  template <class T>
  void read(const char* key, T& value) {
    seen_.insert(key);
    if (!json_.contains(key)) return;
    const nlohmann::json& v = json_.at(key);
    const bool fits = std::is_same_v<T, bool>          ? v.is_boolean()
                      : std::is_integral_v<T>          ? v.is_number_integer()
                      : std::is_floating_point_v<T>    ? v.is_number()
                      : std::is_same_v<T, std::string> ? v.is_string()
                                                       : true;
    if (!fits) fail("'" + std::string(key) + "' has the wrong type: " + v.dump());
    try {
      value = v.get<T>();
    } catch (const nlohmann::json::exception&) {
      fail("'" + std::string(key) + "' has the wrong type: " + v.dump());
    }
  }
  // Fails on keys that no read() asked for: a typo must not be silently ignored.
  void finish() const {
    for (const auto& [key, value] : json_.items())
      if (!seen_.count(key)) fail("unknown key '" + key + "'");
  }
  const nlohmann::json& json() const { return json_; }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(where_ + ": " + what, PCV_ERR_INVALID_ARGUMENT);
  }

 private:
  nlohmann::json json_;
  std::string where_;
  std::set<std::string, std::less<>> seen_;
};

}  // namespace pcv::detail
