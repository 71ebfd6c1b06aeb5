// Checks any op of pcv's plugins may share.
#pragma once

#include <pcv/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

namespace pcv::kernels {

// The gradient of output 'y' has the shape the op computes from its inputs. (The host checks it
// against the outputs it passes; this guards the op's own indexing against outputs that do not
// belong to these inputs.)
inline void require_gradient_shape(std::span<const std::int64_t> dy, std::span<const std::int64_t> y,
                                   std::string_view op) {
  if (!std::ranges::equal(dy, y))
    sdk::fail(PCV_ERR_SHAPE, op, ": the gradient of output 'y' is ", sdk::shape_string(dy), ", expected ",
              sdk::shape_string(y));
}

}  // namespace pcv::kernels
