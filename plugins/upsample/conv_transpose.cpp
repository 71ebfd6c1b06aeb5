#include "conv_transpose.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "kernels/attributes.hpp"
#include "kernels/conv_op_checks.hpp"

namespace pcv::upsample {
namespace {

using kernels::ConvGeometry;
namespace conv_reference = kernels::conv_reference;

template <int D>
std::string op_name() {
  return "upsample.conv_transpose" + std::to_string(D) + "d";
}

// y[n, c, …] += bias[c].
template <class T>
void add_bias(const ConvGeometry& g, const T* bias, T* y, int threads) {
  const std::int64_t volume = g.out_volume(), rows = g.batch * g.out_channels;
#pragma omp parallel for num_threads(threads) if (rows * volume > 32768)
  for (std::int64_t r = 0; r < rows; ++r) {
    const T b = bias[r % g.out_channels];
    T* row = y + r * volume;
    for (std::int64_t i = 0; i < volume; ++i) row[i] += b;
  }
}

}  // namespace

template <int D>
sdk::OpSpec ConvTranspose<D>::spec() {
  const std::string dims = D == 1 ? "W" : D == 2 ? "H, W" : "D, H, W";
  const std::string d = std::to_string(D);
  return sdk::OpSpec("conv_transpose" + d + "d",
                     "Transposed convolution over " + d + " spatial dims (F.conv_transpose" + d +
                         "d): the adjoint of conv" + d +
                         "d with the same weight, stride, padding and dilation. Output size per dim: "
                         "(in − 1)·stride − 2·padding + dilation·(k − 1) + output_padding + 1")
      .input("x", "[N, C_in, " + dims + "]")
      .input("weight", "[C_in, C_out / groups, k…] (PyTorch's ConvTranspose layout)")
      .optional_input("bias", "[C_out]")
      .output("y", "[N, C_out, out…]")
      .attr("stride", "one entry, or one per spatial dim", std::vector<std::int64_t>{1})
      .attr("padding", "positions cropped from both ends of the full output: one entry, or one per dim",
            std::vector<std::int64_t>{0})
      .attr("output_padding",
            "positions added at the end of each dim, < max(stride, dilation): one entry, or one per dim",
            std::vector<std::int64_t>{0})
      .attr("dilation", "spacing of kernel taps: one entry, or one per spatial dim",
            std::vector<std::int64_t>{1})
      .attr("groups", "channel groups; divides C_in and C_out", std::int64_t{1})
      .attr("output_size",
            "empty, or the spatial output size (" + d +
                " entries, or N, C and those): sets output_padding as PyTorch's forward(x, output_size) does",
            std::vector<std::int64_t>{})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <int D>
ConvTranspose<D>::ConvTranspose(const sdk::Attributes& attrs)
    : stride_(kernels::spatial_attr<D>(attrs, op_name<D>(), "stride", 1)),
      padding_(kernels::spatial_attr<D>(attrs, op_name<D>(), "padding", 0)),
      output_padding_(kernels::spatial_attr<D>(attrs, op_name<D>(), "output_padding", 0)),
      dilation_(kernels::spatial_attr<D>(attrs, op_name<D>(), "dilation", 1)),
      groups_(attrs.get<std::int64_t>("groups")),
      output_size_(attrs.get<std::vector<std::int64_t>>("output_size")),
      onednn_(std::make_unique<kernels::OnednnConv<kernels::ConvKind::transposed>>()) {
  const std::string op = op_name<D>();
  if (groups_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": attribute 'groups' = ", groups_, ", must be positive");
  for (int d = 0; d < D; ++d)
    if (output_padding_[d] >= std::max(stride_[d], dilation_[d]))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": attribute 'output_padding' = ", output_padding_[d],
                " in dim ", d, " must be smaller than either stride (", stride_[d], ") or dilation (",
                dilation_[d], ")");
  if (output_size_.size() == D + 2) output_size_.erase(output_size_.begin(), output_size_.begin() + 2);
  if (!output_size_.empty() && output_size_.size() != D)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": attribute 'output_size' has ", output_size_.size(),
              " entries, expected ", D, " (or ", D + 2, " with N and C)");
}

template <int D>
ConvTranspose<D>::~ConvTranspose() = default;

template <int D>
ConvGeometry ConvTranspose<D>::geometry(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
                                        const std::int64_t* bias_size) const {
  const std::string op = op_name<D>();
  static const char* const kLayout[] = {"[N, C, W]", "[N, C, H, W]", "[N, C, D, H, W]"};
  if (x.size() != D + 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' has ", x.size(), " dims, expected ", D + 2, " (",
              kLayout[D - 1], ")");
  if (weight.size() != D + 2)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' has ", weight.size(), " dims, expected ", D + 2,
              " ([C_in, C_out / groups, k…])");
  for (std::size_t i = 1; i < x.size(); ++i)
    if (x[i] < 1)
      sdk::fail(PCV_ERR_SHAPE, op, ": input 'x' ", sdk::shape_string(x),
                " has an empty channel or spatial dim (only the batch may be empty)");
  ConvGeometry g;
  g.rank = D;
  g.batch = x[0];
  g.in_channels = x[1];
  g.out_channels = weight[1] * groups_;
  g.groups = groups_;
  g.has_bias = bias_size != nullptr;
  if (weight[0] != g.in_channels)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' ", sdk::shape_string(weight), " is for C_in = ", weight[0],
              " but input 'x' ", sdk::shape_string(x), " has ", g.in_channels,
              " channels (the layout is [C_in, C_out / groups, k…])");
  if (g.in_channels % groups_ != 0)
    sdk::fail(PCV_ERR_SHAPE, op, ": groups = ", groups_, " must divide C_in = ", g.in_channels,
              " (input 'x' ", sdk::shape_string(x), ")");
  if (g.out_channels == 0)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'weight' ", sdk::shape_string(weight), " has no output channels");
  if (bias_size != nullptr && *bias_size != g.out_channels)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'bias' has ", *bias_size,
              " entries, expected C_out = ", g.out_channels, " (", weight[1], " per group × ", groups_,
              " groups)");
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
    const std::int64_t smallest =
        (g.in[n] - 1) * g.stride[n] - 2 * g.padding[n] + g.dilation[n] * (g.kernel[n] - 1) + 1;
    if (output_size_.empty()) {
      g.out[n] = smallest + output_padding_[d];
    } else {  // PyTorch's rule: any size the stride leaves ambiguous
      const std::int64_t largest = smallest + g.stride[n] - 1;
      if (output_size_[d] < smallest || output_size_[d] > largest)
        sdk::fail(PCV_ERR_SHAPE, op, ": attribute 'output_size' asks for ", output_size_[d],
                  " in spatial dim ", d, " but input size ", g.in[n], " gives sizes from ", smallest, " to ",
                  largest);
      g.out[n] = output_size_[d];
    }
    if (g.out[n] < 1)
      sdk::fail(PCV_ERR_SHAPE, op, ": output would be empty in spatial dim ", d, ": input size ", g.in[n],
                " with padding ", g.padding[n], " crops all of the ", g.out[n] + 2 * g.padding[n],
                " positions");
  }
  return g;
}

template <int D>
template <class Context>
kernels::ConvGeometry ConvTranspose<D>::call_geometry(const Context& ctx) const {
  return kernels::call_geometry(ctx, op_name<D>(),
                                [this](auto x, auto w, auto bias) { return geometry(x, w, bias); });
}

template <int D>
void ConvTranspose<D>::infer_shapes(sdk::ShapeContext& ctx) const {
  kernels::require_dtypes_of_x(ctx, op_name<D>());
  ctx.set_output(0, ctx.input_dtype(0), kernels::conv_output_shape(call_geometry(ctx)));
}

template <int D>
void ConvTranspose<D>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    const T* bias = ctx.has_input(2) ? ctx.input<T>(2).data() : nullptr;
    const ConvGeometry g = call_geometry(ctx);
    auto y = ctx.output<T>(0, kernels::conv_output_shape(g));
    if (y.numel() == 0) return;
    const int threads = ctx.num_threads();
    if constexpr (std::is_same_v<T, float>)
      if (onednn_->supports(g)) {
        onednn_->forward(g, threads, x.data(), w.data(), bias, y.data());
        return;
      }
    conv_reference::backward_data<T>(kernels::adjoint(g), x.data(), w.data(), y.data(), threads);
    if (bias != nullptr) add_bias(g, bias, y.data(), threads);
  });
}

template <int D>
void ConvTranspose<D>::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    const bool has_bias = ctx.has_input(2);
    const ConvGeometry g = call_geometry(ctx);
    kernels::require_gradient_shape(dy.shape(), kernels::conv_output_shape(g), op_name<D>());
    T* dx = ctx.wants_grad(0) ? ctx.grad_input<T>(0).data() : nullptr;
    T* dw = ctx.wants_grad(1) ? ctx.grad_input<T>(1).data() : nullptr;
    T* dbias = has_bias && ctx.wants_grad(2) ? ctx.grad_input<T>(2).data() : nullptr;
    const int threads = ctx.num_threads();
    if (dbias != nullptr)
      conv_reference::bias_gradient<T>(g.batch, g.out_channels, g.out_volume(), dy.data(), dbias, threads);
    if (x.numel() == 0) {  // an empty batch: no contributions
      if (dw != nullptr) std::fill(dw, dw + w.numel(), T(0));
      return;
    }
    if constexpr (std::is_same_v<T, float>)
      if (onednn_->supports(g)) {
        if (dx != nullptr) onednn_->backward_data(g, threads, dy.data(), w.data(), dx);
        if (dw != nullptr) {
          // The plan for g computes a bias gradient when g has a bias; it was computed above.
          ConvGeometry no_bias = g;
          no_bias.has_bias = false;
          onednn_->backward_weights(no_bias, threads, x.data(), dy.data(), dw, nullptr);
        }
        return;
      }
    const ConvGeometry conv = kernels::adjoint(g);
    if (dx != nullptr) conv_reference::forward<T>(conv, dy.data(), w.data(), nullptr, dx, threads);
    if (dw != nullptr) conv_reference::backward_weights<T>(conv, dy.data(), x.data(), dw, nullptr, threads);
  });
}

template class ConvTranspose<1>;
template class ConvTranspose<2>;
template class ConvTranspose<3>;

}  // namespace pcv::upsample
