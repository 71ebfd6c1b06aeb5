#include "conv.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "kernels/attributes.hpp"
#include "kernels/conv_op_checks.hpp"

namespace pcv::nn {
namespace {

template <int D>
std::string op_name() {
  return "nn.conv" + std::to_string(D) + "d";
}

}  // namespace

// ------------------------------------------------------------------ the op

template <int D>
sdk::OpSpec Conv<D>::spec() {
  const std::string dims = D == 1 ? "W" : D == 2 ? "H, W" : "D, H, W";
  return sdk::OpSpec("conv" + std::to_string(D) + "d", "Convolution over " + std::to_string(D) +
                                                           " spatial dims (F.conv" + std::to_string(D) + "d)")
      .input("x", "[N, C_in, " + dims + "]")
      .input("weight", "[C_out, C_in / groups, k…]")
      .optional_input("bias", "[C_out]")
      .output("y", "[N, C_out, out…]")
      .attr("stride", "one entry, or one per spatial dim", std::vector<std::int64_t>{1})
      .attr("padding", "zero padding on both sides: one entry, or one per spatial dim",
            std::vector<std::int64_t>{0})
      .attr("dilation", "spacing of kernel taps: one entry, or one per spatial dim",
            std::vector<std::int64_t>{1})
      .attr("groups", "channel groups; divides C_in and C_out", std::int64_t{1})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <int D>
Conv<D>::Conv(const sdk::Attributes& attrs)
    : stride_(kernels::spatial_attr<D>(attrs, op_name<D>(), "stride", 1)),
      padding_(kernels::spatial_attr<D>(attrs, op_name<D>(), "padding", 0)),
      dilation_(kernels::spatial_attr<D>(attrs, op_name<D>(), "dilation", 1)),
      groups_(attrs.get<std::int64_t>("groups")),
      reference_only_(kernels::env_flag("PCV_NN_CONV_REFERENCE")),
      onednn_(std::make_unique<kernels::OnednnConv<kernels::ConvKind::convolution>>()) {
  if (groups_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op_name<D>(), ": attribute 'groups' = ", groups_,
              ", must be positive");
}

template <int D>
Conv<D>::~Conv() = default;

template <int D>
kernels::ConvGeometry Conv<D>::geometry(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
                                        const std::int64_t* bias_size) const {
  const std::string op = op_name<D>();
  static const char* const kLayout[] = {"[N, C, W]", "[N, C, H, W]", "[N, C, D, H, W]"};
  if (x.size() != D + 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' has ", x.size(), " dims, expected ", D + 2, " (",
              kLayout[D - 1], ")");
  if (weight.size() != D + 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' has ", weight.size(), " dims, expected ", D + 2,
              " ([C_out, C_in / groups, k…])");
  for (std::size_t i = 1; i < x.size(); ++i)
    if (x[i] < 1)
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' ", sdk::shape_string(x),
                " has an empty channel or spatial dim (only the batch may be empty)");
  kernels::ConvGeometry g;
  g.rank = D;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = weight[0];
  g.groups = groups_;
  g.has_bias = bias_size != nullptr;
  if (g.in_channels % groups_ != 0 || g.out_channels % groups_ != 0)
    sdk::fail(PCV_ERR_SHAPE, op, ": groups = ", groups_, " must divide C_in = ", g.in_channels,
              " (input 'x' ", sdk::shape_string(x), ") and C_out = ", g.out_channels, " (input 'weight' ",
              sdk::shape_string(weight), ")");
  if (g.out_channels == 0)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' ", sdk::shape_string(weight), " has no output channels");
  if (weight[1] * groups_ != g.in_channels)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' ", sdk::shape_string(weight),
              " expects C_in = ", weight[1] * groups_, " (", weight[1], " per group × ", groups_,
              " groups) but input 'x' ", sdk::shape_string(x), " has ", g.in_channels, " channels");
  if (bias_size != nullptr && *bias_size != g.out_channels)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'bias' has ", *bias_size,
              " entries, expected C_out = ", g.out_channels);
  for (int d = 0; d < D; ++d) {
    const int n = 3 - D + d;  // position in the normalised three dims
    g.in[n] = x[2 + d];
    g.kernel[n] = weight[2 + d];
    g.stride[n] = stride_[d];
    g.padding[n] = padding_[d];
    g.dilation[n] = dilation_[d];
    if (g.kernel[n] < 1)
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' ", sdk::shape_string(weight),
                " has an empty kernel dim");
    const std::int64_t extent = g.dilation[n] * (g.kernel[n] - 1) + 1;
    const std::int64_t padded = g.in[n] + 2 * g.padding[n];
    if (padded < extent)
      sdk::fail(PCV_ERR_SHAPE, op, ": output would be empty in spatial dim ", d, ": input size ", g.in[n],
                " plus padding 2×", g.padding[n], " is smaller than the dilated kernel extent ", extent);
    g.out[n] = (padded - extent) / g.stride[n] + 1;
  }
  return g;
}

template <int D>
template <class Context>
kernels::ConvGeometry Conv<D>::call_geometry(const Context& ctx) const {
  return kernels::call_geometry(ctx, op_name<D>(),
                                [this](auto x, auto w, auto bias) { return geometry(x, w, bias); });
}

template <int D>
void Conv<D>::infer_shapes(sdk::ShapeContext& ctx) const {
  kernels::require_dtypes_of_x(ctx, op_name<D>());
  ctx.set_output(0, ctx.input_dtype(0), kernels::conv_output_shape(call_geometry(ctx)));
}

template <int D>
void Conv<D>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    const T* bias = ctx.has_input(2) ? ctx.input<T>(2).data() : nullptr;
    const kernels::ConvGeometry g = call_geometry(ctx);
    auto y = ctx.output<T>(0, kernels::conv_output_shape(g));
    if constexpr (std::is_same_v<T, float>)
      if (use_onednn() && y.numel() > 0) {
        onednn_->forward(g, ctx.num_threads(), x.data(), w.data(), bias, y.data());
        return;
      }
    kernels::conv_reference::forward<T>(g, x.data(), w.data(), bias, y.data(), ctx.num_threads());
  });
}

template <int D>
void Conv<D>::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    const bool has_bias = ctx.has_input(2);
    const kernels::ConvGeometry g = call_geometry(ctx);
    kernels::require_gradient_shape(dy.shape(), kernels::conv_output_shape(g), op_name<D>());
    T* dx = ctx.wants_grad(0) ? ctx.grad_input<T>(0).data() : nullptr;
    T* dw = ctx.wants_grad(1) ? ctx.grad_input<T>(1).data() : nullptr;
    T* dbias = has_bias && ctx.wants_grad(2) ? ctx.grad_input<T>(2).data() : nullptr;
    const int threads = ctx.num_threads();
    if constexpr (std::is_same_v<T, float>)
      if (use_onednn() && dy.numel() > 0) {
        if (dx != nullptr) onednn_->backward_data(g, threads, dy.data(), w.data(), dx);
        if (dw != nullptr) {
          std::vector<float> unwanted_dbias(has_bias && dbias == nullptr ? g.out_channels : 0);
          onednn_->backward_weights(g, threads, x.data(), dy.data(), dw,
                                    dbias ? dbias : unwanted_dbias.data());
        } else if (dbias != nullptr) {
          kernels::conv_reference::bias_gradient<float>(g.batch, g.out_channels, g.out_volume(), dy.data(),
                                                        dbias, threads);
        }
        return;
      }
    if (dx != nullptr) kernels::conv_reference::backward_data<T>(g, dy.data(), w.data(), dx, threads);
    if (dw != nullptr || dbias != nullptr)
      kernels::conv_reference::backward_weights<T>(g, x.data(), dy.data(), dw, dbias, threads);
  });
}

template class Conv<1>;
template class Conv<2>;
template class Conv<3>;

}  // namespace pcv::nn
