// Shape and dtype checks shared by the convolution-like ops (nn.conv*, upsample.conv_transpose*),
// whose inputs are x, weight and an optional bias.
#pragma once

#include <pcv/sdk.hpp>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include "conv_reference.hpp"
#include "op_checks.hpp"

namespace pcv::kernels {

// y's shape: [N, C_out, out…] over the geometry's own rank.
inline sdk::Shape conv_output_shape(const ConvGeometry& g) {
  sdk::Shape y{g.batch, g.out_channels};
  for (int d = 3 - g.rank; d < 3; ++d) y.push_back(g.out[d]);
  return y;
}

// The bias's single entry count, or an error when it is not 1-D.
inline const std::int64_t* bias_entries(std::span<const std::int64_t> bias, const std::string& op) {
  if (bias.size() != 1)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'bias' has ", bias.size(), " dims, expected 1 ([C_out])");
  return bias.data();
}

// weight and bias have x's dtype.
inline void require_dtypes_of_x(const sdk::ShapeContext& ctx, const std::string& op) {
  for (std::size_t i = 1; i < 3; ++i)
    if (ctx.has_input(i) && !same_dtype(ctx.input_dtype(i), ctx.input_dtype(0)))
      sdk::fail(PCV_ERR_SHAPE, op, ": ", ctx.names().input(i), " is ", dtype_name(ctx.input_dtype(i)),
                " but input 'x' is ", dtype_name(ctx.input_dtype(0)));
}

// The geometry of a call of a conv-like op from its inputs x, weight and bias?, in any of the
// three contexts: geometry_of(x_shape, weight_shape, bias_entries or null) is the op's own check.
template <class Context, class GeometryOf>
ConvGeometry call_geometry(const Context& ctx, const std::string& op, GeometryOf&& geometry_of) {
  const auto shape = [&](std::size_t i) {
    if constexpr (requires { ctx.input_shape(i); })
      return ctx.input_shape(i);
    else
      return sdk::shape_of(ctx.raw_input(i));
  };
  const std::int64_t* bias = ctx.has_input(2) ? bias_entries(shape(2), op) : nullptr;
  return geometry_of(shape(0), shape(1), bias);
}

}  // namespace pcv::kernels
