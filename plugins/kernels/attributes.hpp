// Attribute helpers shared by the convolution-like ops of several plugins.
#pragma once

#include <pcv/sdk.hpp>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace pcv::kernels {

// A spatial attribute of op `op`: one entry for all D dims or one per dim, each at least `min`.
template <int D>
std::array<std::int64_t, D> spatial_attr(const sdk::Attributes& attrs, const std::string& op,
                                         std::string_view name, std::int64_t min) {
  const auto values = attrs.get<std::vector<std::int64_t>>(name);
  if (values.size() != 1 && values.size() != D)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": attribute '", name, "' has ", values.size(),
              " entries, expected 1 or ", D);
  std::array<std::int64_t, D> out;
  for (int d = 0; d < D; ++d) {
    out[d] = values[values.size() == 1 ? 0 : d];
    if (out[d] < min)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": attribute '", name, "' = ", out[d], " in dim ", d,
                min > 0 ? ", must be positive" : ", must not be negative");
  }
  return out;
}

// Whether environment variable `name` is set to something other than "" or "0".
inline bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

}  // namespace pcv::kernels
