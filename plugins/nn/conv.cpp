#include "conv.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "onednn_util.hpp"

namespace pcv::nn {
namespace {

template <int D>
std::string op_name() {
  return "nn.conv" + std::to_string(D) + "d";
}

// A spatial attribute: one entry for all D dims or one per dim, each at least `min`.
template <int D>
std::array<std::int64_t, D> spatial_attr(const sdk::Attributes& attrs, std::string_view name,
                                         std::int64_t min) {
  const auto values = attrs.get<std::vector<std::int64_t>>(name);
  if (values.size() != 1 && values.size() != D)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op_name<D>(), ": attribute '", name, "' has ", values.size(),
              " entries, expected 1 or ", D);
  std::array<std::int64_t, D> out;
  for (int d = 0; d < D; ++d) {
    out[d] = values[values.size() == 1 ? 0 : d];
    if (out[d] < min)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, op_name<D>(), ": attribute '", name, "' = ", out[d], " in dim ", d,
                min > 0 ? ", must be positive" : ", must not be negative");
  }
  return out;
}

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string_view(v) != "0";
}

template <int D>
sdk::Shape output_shape(const ConvGeometry& g) {
  sdk::Shape y{g.batch, g.out_channels};
  for (int d = 3 - D; d < 3; ++d) y.push_back(g.out[d]);
  return y;
}

void require_gradient_shape(std::span<const std::int64_t> dy, const sdk::Shape& y, const std::string& op) {
  if (!std::equal(dy.begin(), dy.end(), y.begin(), y.end()))
    sdk::fail(PCV_ERR_SHAPE, op, ": the gradient of output 'y' is ", sdk::shape_string(dy), ", expected ",
              sdk::shape_string(y));
}

}  // namespace

// ------------------------------------------------------------------ oneDNN path (float32)

namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// oneDNN's view of a geometry: dims of the op's own rank and PyTorch's plain layouts.
struct OnednnShapes {
  memory::dims src, weights, bias, dst, strides, dilates, padding;
  Tag src_tag, weights_tag;

  memory::desc plain_src() const { return {src, memory::data_type::f32, src_tag}; }
  memory::desc plain_dst() const { return {dst, memory::data_type::f32, src_tag}; }
  memory::desc plain_weights() const { return {weights, memory::data_type::f32, weights_tag}; }
  memory::desc plain_bias() const { return {bias, memory::data_type::f32, Tag::x}; }
};

OnednnShapes onednn_shapes(const ConvGeometry& g) {
  static constexpr Tag kData[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  static constexpr Tag kWeights[] = {Tag::oiw, Tag::oihw, Tag::oidhw};
  static constexpr Tag kGroupedWeights[] = {Tag::goiw, Tag::goihw, Tag::goidhw};
  OnednnShapes s;
  s.src = {g.batch, g.in_channels};
  s.dst = {g.batch, g.out_channels};
  // PyTorch's [C_out, C_in/g, k…] is oneDNN's grouped [g, C_out/g, C_in/g, k…] in the same memory.
  s.weights = g.groups > 1 ? memory::dims{g.groups, g.group_out_channels(), g.group_in_channels()}
                           : memory::dims{g.out_channels, g.in_channels};
  s.bias = {g.out_channels};
  for (int d = 3 - g.rank; d < 3; ++d) {
    s.src.push_back(g.in[d]);
    s.dst.push_back(g.out[d]);
    s.weights.push_back(g.kernel[d]);
    s.strides.push_back(g.stride[d]);
    s.dilates.push_back(g.dilation[d] - 1);  // oneDNN counts the gaps between taps
    s.padding.push_back(g.padding[d]);
  }
  s.src_tag = kData[g.rank - 1];
  s.weights_tag = g.groups > 1 ? kGroupedWeights[g.rank - 1] : kWeights[g.rank - 1];
  return s;
}

// The layout a primitive may choose freely (reordered at the boundary), or the plain one.
memory::desc free_or_plain(const memory::desc& plain, const memory::dims& dims, bool plain_layouts) {
  return plain_layouts ? plain : memory::desc(dims, memory::data_type::f32, Tag::any);
}

using ConvFwd = dnnl::convolution_forward;
using ConvBwdData = dnnl::convolution_backward_data;
using ConvBwdWeights = dnnl::convolution_backward_weights;

// The forward primitive descriptor; also the hint the backward primitives need.
ConvFwd::primitive_desc forward_pd(const OnednnShapes& s, bool has_bias, bool plain_layouts) {
  const memory::desc src = free_or_plain(s.plain_src(), s.src, plain_layouts);
  const memory::desc weights = free_or_plain(s.plain_weights(), s.weights, plain_layouts);
  const memory::desc dst = free_or_plain(s.plain_dst(), s.dst, plain_layouts);
  const auto kind = dnnl::prop_kind::forward_training;
  const auto algo = dnnl::algorithm::convolution_direct;
  const ConvFwd::desc desc =
      has_bias ? ConvFwd::desc(kind, algo, src, weights, s.plain_bias(), dst, s.strides, s.dilates, s.padding,
                               s.padding)
               : ConvFwd::desc(kind, algo, src, weights, dst, s.strides, s.dilates, s.padding, s.padding);
  return ConvFwd::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine());
}

ConvBwdData::primitive_desc backward_data_pd(const OnednnShapes& s, bool has_bias, bool plain_layouts) {
  const ConvBwdData::desc desc(
      dnnl::algorithm::convolution_direct, free_or_plain(s.plain_src(), s.src, plain_layouts),
      free_or_plain(s.plain_weights(), s.weights, plain_layouts),
      free_or_plain(s.plain_dst(), s.dst, plain_layouts), s.strides, s.dilates, s.padding, s.padding);
  return ConvBwdData::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine(),
                                     forward_pd(s, has_bias, plain_layouts));
}

ConvBwdWeights::primitive_desc backward_weights_pd(const OnednnShapes& s, bool has_bias, bool plain_layouts) {
  const memory::desc src = free_or_plain(s.plain_src(), s.src, plain_layouts);
  const memory::desc weights = free_or_plain(s.plain_weights(), s.weights, plain_layouts);
  const memory::desc dst = free_or_plain(s.plain_dst(), s.dst, plain_layouts);
  const auto algo = dnnl::algorithm::convolution_direct;
  const ConvBwdWeights::desc desc =
      has_bias ? ConvBwdWeights::desc(algo, src, weights, s.plain_bias(), dst, s.strides, s.dilates,
                                      s.padding, s.padding)
               : ConvBwdWeights::desc(algo, src, weights, dst, s.strides, s.dilates, s.padding, s.padding);
  return ConvBwdWeights::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine(),
                                        forward_pd(s, has_bias, plain_layouts));
}

// The activations' layouts a primitive chose: padding them (few channels blocked by 8 or 16)
// multiplies the work, so such primitives fall back to plain layouts.
bool pads_activations(const ConvFwd::primitive_desc& pd) {
  return onednn::pads_any_dim(pd.src_desc()) || onednn::pads_any_dim(pd.dst_desc());
}
bool pads_activations(const ConvBwdData::primitive_desc& pd) {
  return onednn::pads_any_dim(pd.diff_src_desc()) || onednn::pads_any_dim(pd.diff_dst_desc());
}
bool pads_activations(const ConvBwdWeights::primitive_desc& pd) {
  return onednn::pads_any_dim(pd.src_desc()) || onednn::pads_any_dim(pd.diff_dst_desc());
}

// Lets oneDNN choose the layouts (reordering at the boundary), unless its choice pads the
// activations. (Measured on VoxNet's conv3d layers: oneDNN's blocked layouts plus reorders run
// 2-3x faster than its plain-layout (GEMM) kernels, except for backward data with C_in = 1,
// where the blocked kernel pads 1 channel to 16 and is 15x slower.)
template <class MakePd>
auto choose_pd(MakePd make, const OnednnShapes& s, bool has_bias) {
  auto pd = make(s, has_bias, false);
  return pads_activations(pd) ? make(s, has_bias, true) : pd;
}

}  // namespace

// Primitives and reorders per (geometry, thread count), created on first use: creating them
// costs far more than running small convolutions. The mutex guards the map only; plans are
// immutable once made, and oneDNN primitives may run concurrently.
class OnednnConvCache {
 public:
  void forward(const ConvGeometry& g, int threads, const float* x, const float* w, const float* bias,
               float* y) {
    const auto plan = plans(g, threads, &Plans::forward);
    dnnl::stream& stream = onednn::thread_stream();
    const memory dst = plan->dst.write_target(y);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, plan->src.read(x, stream)},
                                         {DNNL_ARG_WEIGHTS, plan->weights.read(w, stream)},
                                         {DNNL_ARG_DST, dst},
                                         {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_for(plan->scratchpad)}};
    if (bias != nullptr)
      args.emplace(DNNL_ARG_BIAS, memory(plan->bias_md, onednn::cpu_engine(), const_cast<float*>(bias)));
    plan->primitive.execute(stream, args);
    plan->dst.finish_write(dst, y, stream);
    stream.wait();
  }

  void backward_data(const ConvGeometry& g, int threads, const float* dy, const float* w, float* dx) {
    const auto plan = plans(g, threads, &Plans::backward_data);
    dnnl::stream& stream = onednn::thread_stream();
    const memory diff_src = plan->diff_src.write_target(dx);
    plan->primitive.execute(stream, {{DNNL_ARG_DIFF_DST, plan->diff_dst.read(dy, stream)},
                                     {DNNL_ARG_WEIGHTS, plan->weights.read(w, stream)},
                                     {DNNL_ARG_DIFF_SRC, diff_src},
                                     {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_for(plan->scratchpad)}});
    plan->diff_src.finish_write(diff_src, dx, stream);
    stream.wait();
  }

  // dbias is written when the geometry has a bias (a scratch buffer when its gradient is unwanted).
  void backward_weights(const ConvGeometry& g, int threads, const float* x, const float* dy, float* dw,
                        float* dbias) {
    const auto plan = plans(g, threads, &Plans::backward_weights);
    dnnl::stream& stream = onednn::thread_stream();
    const memory diff_weights = plan->diff_weights.write_target(dw);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC, plan->src.read(x, stream)},
                                         {DNNL_ARG_DIFF_DST, plan->diff_dst.read(dy, stream)},
                                         {DNNL_ARG_DIFF_WEIGHTS, diff_weights},
                                         {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_for(plan->scratchpad)}};
    if (g.has_bias) args.emplace(DNNL_ARG_DIFF_BIAS, memory(plan->bias_md, onednn::cpu_engine(), dbias));
    plan->primitive.execute(stream, args);
    plan->diff_weights.finish_write(diff_weights, dw, stream);
    stream.wait();
  }

 private:
  struct ForwardPlan {
    ConvFwd primitive;
    memory::desc scratchpad;
    onednn::Bridge src, weights, dst;
    memory::desc bias_md;
  };
  struct BackwardDataPlan {
    ConvBwdData primitive;
    memory::desc scratchpad;
    onednn::Bridge diff_dst, weights, diff_src;
  };
  struct BackwardWeightsPlan {
    ConvBwdWeights primitive;
    memory::desc scratchpad;
    onednn::Bridge src, diff_dst, diff_weights;
    memory::desc bias_md;
  };
  // What one geometry needs; each part is made when first asked for (inference never makes the
  // backward ones).
  struct Plans {
    std::shared_ptr<const ForwardPlan> forward;
    std::shared_ptr<const BackwardDataPlan> backward_data;
    std::shared_ptr<const BackwardWeightsPlan> backward_weights;
  };

  // Shapes seen by one kernel are usually few; past this many, start over rather than grow.
  static constexpr std::size_t kMaxGeometries = 32;

  template <class Plan>
  std::shared_ptr<const Plan> plans(const ConvGeometry& g, int threads,
                                    std::shared_ptr<const Plan> Plans::*part) {
    onednn::use_threads(threads);  // primitives are made and run for this thread count
    std::lock_guard lock(mutex_);
    const std::pair key(g, threads);
    auto it = plans_.find(key);
    if (it == plans_.end()) {
      if (plans_.size() >= kMaxGeometries) plans_.clear();
      it = plans_.emplace(key, Plans{}).first;
    }
    auto& plan = it->second.*part;
    if (!plan) plan = make(g, static_cast<const Plan*>(nullptr));
    return plan;
  }

  std::shared_ptr<const ForwardPlan> make(const ConvGeometry& g, const ForwardPlan*) const {
    const OnednnShapes s = onednn_shapes(g);
    const auto pd = choose_pd(forward_pd, s, g.has_bias);
    return std::make_shared<const ForwardPlan>(
        ForwardPlan{ConvFwd(pd), pd.scratchpad_desc(), onednn::Bridge::input(s.plain_src(), pd.src_desc(), 0),
                    onednn::Bridge::input(s.plain_weights(), pd.weights_desc(), 1),
                    onednn::Bridge::output(s.plain_dst(), pd.dst_desc(), 2), s.plain_bias()});
  }

  std::shared_ptr<const BackwardDataPlan> make(const ConvGeometry& g, const BackwardDataPlan*) const {
    const OnednnShapes s = onednn_shapes(g);
    const auto pd = choose_pd(backward_data_pd, s, g.has_bias);
    return std::make_shared<const BackwardDataPlan>(BackwardDataPlan{
        ConvBwdData(pd), pd.scratchpad_desc(), onednn::Bridge::input(s.plain_dst(), pd.diff_dst_desc(), 0),
        onednn::Bridge::input(s.plain_weights(), pd.weights_desc(), 1),
        onednn::Bridge::output(s.plain_src(), pd.diff_src_desc(), 2)});
  }

  std::shared_ptr<const BackwardWeightsPlan> make(const ConvGeometry& g, const BackwardWeightsPlan*) const {
    const OnednnShapes s = onednn_shapes(g);
    const auto pd = choose_pd(backward_weights_pd, s, g.has_bias);
    return std::make_shared<const BackwardWeightsPlan>(BackwardWeightsPlan{
        ConvBwdWeights(pd), pd.scratchpad_desc(), onednn::Bridge::input(s.plain_src(), pd.src_desc(), 0),
        onednn::Bridge::input(s.plain_dst(), pd.diff_dst_desc(), 1),
        onednn::Bridge::output(s.plain_weights(), pd.diff_weights_desc(), 2), s.plain_bias()});
  }

  std::mutex mutex_;
  std::map<std::pair<ConvGeometry, int>, Plans> plans_;
};

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
    : stride_(spatial_attr<D>(attrs, "stride", 1)),
      padding_(spatial_attr<D>(attrs, "padding", 0)),
      dilation_(spatial_attr<D>(attrs, "dilation", 1)),
      groups_(attrs.get<std::int64_t>("groups")),
      reference_only_(env_flag("PCV_NN_CONV_REFERENCE")),
      onednn_(std::make_unique<OnednnConvCache>()) {
  if (groups_ < 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op_name<D>(), ": attribute 'groups' = ", groups_,
              ", must be positive");
}

template <int D>
Conv<D>::~Conv() = default;

template <int D>
ConvGeometry Conv<D>::geometry(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
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
  ConvGeometry g;
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

namespace {
const std::int64_t* bias_entries(std::span<const std::int64_t> bias, const std::string& op) {
  if (bias.size() != 1)
    sdk::fail(PCV_ERR_SHAPE, op, ": input 'bias' has ", bias.size(), " dims, expected 1 ([C_out])");
  return bias.data();
}
}  // namespace

template <int D>
void Conv<D>::infer_shapes(sdk::ShapeContext& ctx) const {
  for (std::size_t i = 1; i < 3; ++i)
    if (ctx.has_input(i) && !same_dtype(ctx.input_dtype(i), ctx.input_dtype(0)))
      sdk::fail(PCV_ERR_SHAPE, op_name<D>(), ": ", ctx.names().input(i), " is ",
                dtype_name(ctx.input_dtype(i)), " but input 'x' is ", dtype_name(ctx.input_dtype(0)));
  const std::int64_t* bias = ctx.has_input(2) ? bias_entries(ctx.input_shape(2), op_name<D>()) : nullptr;
  ctx.set_output(0, ctx.input_dtype(0),
                 output_shape<D>(geometry(ctx.input_shape(0), ctx.input_shape(1), bias)));
}

template <int D>
void Conv<D>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    const T* bias = ctx.has_input(2) ? ctx.input<T>(2).data() : nullptr;
    const ConvGeometry g = geometry(
        x.shape(), w.shape(), bias ? bias_entries(sdk::shape_of(ctx.raw_input(2)), op_name<D>()) : nullptr);
    auto y = ctx.output<T>(0, output_shape<D>(g));
    if constexpr (std::is_same_v<T, float>)
      if (use_onednn() && y.numel() > 0) {
        onednn_->forward(g, ctx.num_threads(), x.data(), w.data(), bias, y.data());
        return;
      }
    conv_reference::forward<T>(g, x.data(), w.data(), bias, y.data(), ctx.num_threads());
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
    const ConvGeometry g =
        geometry(x.shape(), w.shape(),
                 has_bias ? bias_entries(sdk::shape_of(ctx.raw_input(2)), op_name<D>()) : nullptr);
    require_gradient_shape(dy.shape(), output_shape<D>(g), op_name<D>());
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
          conv_reference::backward_weights<float>(g, x.data(), dy.data(), nullptr, dbias, threads);
        }
        return;
      }
    if (dx != nullptr) conv_reference::backward_data<T>(g, dy.data(), w.data(), dx, threads);
    if (dw != nullptr || dbias != nullptr)
      conv_reference::backward_weights<T>(g, x.data(), dy.data(), dw, dbias, threads);
  });
}

template class Conv<1>;
template class Conv<2>;
template class Conv<3>;

}  // namespace pcv::nn
