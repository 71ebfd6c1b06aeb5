#include "onednn_conv.hpp"

#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "onednn_util.hpp"

namespace pcv::kernels {
namespace {

using dnnl::memory;
using Tag = memory::format_tag;

// The oneDNN primitives of each kind; their descriptors take the same arguments.
template <ConvKind Kind>
struct Primitives;

template <>
struct Primitives<ConvKind::convolution> {
  using Forward = dnnl::convolution_forward;
  using BackwardData = dnnl::convolution_backward_data;
  using BackwardWeights = dnnl::convolution_backward_weights;
  static constexpr dnnl::algorithm algorithm = dnnl::algorithm::convolution_direct;
};

template <>
struct Primitives<ConvKind::transposed> {
  using Forward = dnnl::deconvolution_forward;
  using BackwardData = dnnl::deconvolution_backward_data;
  using BackwardWeights = dnnl::deconvolution_backward_weights;
  static constexpr dnnl::algorithm algorithm = dnnl::algorithm::deconvolution_direct;
};

// Row-major strides of dims.
memory::dims dense_strides(const memory::dims& dims) {
  memory::dims strides(dims.size(), 1);
  for (std::size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  return strides;
}

// oneDNN's view of a geometry: dims of the op's own rank and PyTorch's plain layouts.
struct OnednnShapes {
  memory::dims src, weights, weight_strides, bias, dst, strides, dilates, padding_begin, padding_end;
  Tag data_tag;

  memory::desc plain_src() const { return {src, memory::data_type::f32, data_tag}; }
  memory::desc plain_dst() const { return {dst, memory::data_type::f32, data_tag}; }
  memory::desc plain_weights() const { return {weights, memory::data_type::f32, weight_strides}; }
  memory::desc plain_bias() const { return {bias, memory::data_type::f32, Tag::x}; }
};

template <ConvKind Kind>
OnednnShapes onednn_shapes(const ConvGeometry& g) {
  static constexpr Tag kData[] = {Tag::ncw, Tag::nchw, Tag::ncdhw};
  OnednnShapes s;
  s.src = {g.batch, g.in_channels};
  s.dst = {g.batch, g.out_channels};
  s.bias = {g.out_channels};
  // oneDNN's weights are [C_out, C_in, k…], grouped [g, C_out/g, C_in/g, k…], for both kinds.
  // PyTorch stores a convolution's in that order; a transposed one's as [C_in, C_out/g, k…],
  // i.e. with the two channel dims swapped, which strides express.
  memory::dims memory_order = g.groups > 1
                                  ? memory::dims{g.groups, g.group_out_channels(), g.group_in_channels()}
                                  : memory::dims{g.out_channels, g.in_channels};
  const std::size_t out_dim = g.groups > 1 ? 1 : 0;  // position of C_out(/g) in the logical dims
  if (Kind == ConvKind::transposed) std::swap(memory_order[out_dim], memory_order[out_dim + 1]);
  for (int d = 3 - g.rank; d < 3; ++d) {
    s.src.push_back(g.in[d]);
    s.dst.push_back(g.out[d]);
    memory_order.push_back(g.kernel[d]);
    s.strides.push_back(g.stride[d]);
    s.dilates.push_back(g.dilation[d] - 1);  // oneDNN counts the gaps between taps
    s.padding_begin.push_back(g.padding[d]);
    const std::int64_t extent = g.dilation[d] * (g.kernel[d] - 1) + 1;
    // A convolution pads both ends alike (the size formula rounds down); a transposed one crops
    // `padding` at the start and whatever the output size leaves at the end, which is
    // padding − output_padding.
    s.padding_end.push_back(Kind == ConvKind::convolution
                                ? g.padding[d]
                                : (g.in[d] - 1) * g.stride[d] + extent - g.out[d] - g.padding[d]);
  }
  memory::dims memory_strides = dense_strides(memory_order);
  s.weights = memory_order;
  s.weight_strides = memory_strides;
  if (Kind == ConvKind::transposed) {
    std::swap(s.weights[out_dim], s.weights[out_dim + 1]);
    std::swap(s.weight_strides[out_dim], s.weight_strides[out_dim + 1]);
  }
  s.data_tag = kData[g.rank - 1];
  return s;
}

// The layout a primitive may choose freely (reordered at the boundary), or the plain one.
memory::desc free_or_plain(const memory::desc& plain, const memory::dims& dims, bool plain_layouts) {
  return plain_layouts ? plain : memory::desc(dims, memory::data_type::f32, Tag::any);
}

template <ConvKind Kind>
using Forward = typename Primitives<Kind>::Forward;
template <ConvKind Kind>
using BackwardData = typename Primitives<Kind>::BackwardData;
template <ConvKind Kind>
using BackwardWeights = typename Primitives<Kind>::BackwardWeights;

// The forward primitive descriptor; also the hint the backward primitives need.
template <ConvKind Kind>
typename Forward<Kind>::primitive_desc forward_pd(const OnednnShapes& s, bool has_bias, bool plain_layouts) {
  using Fwd = Forward<Kind>;
  const memory::desc src = free_or_plain(s.plain_src(), s.src, plain_layouts);
  const memory::desc weights = free_or_plain(s.plain_weights(), s.weights, plain_layouts);
  const memory::desc dst = free_or_plain(s.plain_dst(), s.dst, plain_layouts);
  const auto kind = dnnl::prop_kind::forward_training;
  const auto algo = Primitives<Kind>::algorithm;
  const typename Fwd::desc desc =
      has_bias ? typename Fwd::desc(kind, algo, src, weights, s.plain_bias(), dst, s.strides, s.dilates,
                                    s.padding_begin, s.padding_end)
               : typename Fwd::desc(kind, algo, src, weights, dst, s.strides, s.dilates, s.padding_begin,
                                    s.padding_end);
  return typename Fwd::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine());
}

template <ConvKind Kind>
typename BackwardData<Kind>::primitive_desc backward_data_pd(const OnednnShapes& s, bool has_bias,
                                                             bool plain_layouts) {
  using Bwd = BackwardData<Kind>;
  const typename Bwd::desc desc(Primitives<Kind>::algorithm,
                                free_or_plain(s.plain_src(), s.src, plain_layouts),
                                free_or_plain(s.plain_weights(), s.weights, plain_layouts),
                                free_or_plain(s.plain_dst(), s.dst, plain_layouts), s.strides, s.dilates,
                                s.padding_begin, s.padding_end);
  return typename Bwd::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine(),
                                      forward_pd<Kind>(s, has_bias, plain_layouts));
}

template <ConvKind Kind>
typename BackwardWeights<Kind>::primitive_desc backward_weights_pd(const OnednnShapes& s, bool has_bias,
                                                                   bool plain_layouts) {
  using Bwd = BackwardWeights<Kind>;
  const memory::desc src = free_or_plain(s.plain_src(), s.src, plain_layouts);
  const memory::desc weights = free_or_plain(s.plain_weights(), s.weights, plain_layouts);
  const memory::desc dst = free_or_plain(s.plain_dst(), s.dst, plain_layouts);
  const auto algo = Primitives<Kind>::algorithm;
  const typename Bwd::desc desc =
      has_bias
          ? typename Bwd::desc(algo, src, weights, s.plain_bias(), dst, s.strides, s.dilates, s.padding_begin,
                               s.padding_end)
          : typename Bwd::desc(algo, src, weights, dst, s.strides, s.dilates, s.padding_begin, s.padding_end);
  return typename Bwd::primitive_desc(desc, onednn::user_scratchpad(), onednn::cpu_engine(),
                                      forward_pd<Kind>(s, has_bias, plain_layouts));
}

// Whether the activations' layouts a primitive chose are padded (few channels blocked by 8 or
// 16): that multiplies the work, so such primitives fall back to plain layouts. A descriptor a
// primitive does not have is empty, and pads nothing.
bool pads_activations(const dnnl::primitive_desc_base& pd) {
  return onednn::pads_any_dim(pd.src_desc()) || onednn::pads_any_dim(pd.dst_desc()) ||
         onednn::pads_any_dim(pd.diff_src_desc()) || onednn::pads_any_dim(pd.diff_dst_desc());
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
template <ConvKind Kind>
class OnednnConv<Kind>::Cache {
 public:
  struct ForwardPlan {
    Forward<Kind> primitive;
    memory::desc scratchpad;
    onednn::Bridge src, weights, dst;
    memory::desc bias_md;
  };
  struct BackwardDataPlan {
    BackwardData<Kind> primitive;
    memory::desc scratchpad;
    onednn::Bridge diff_dst, weights, diff_src;
  };
  struct BackwardWeightsPlan {
    BackwardWeights<Kind> primitive;
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

  template <class Plan>
  std::shared_ptr<const Plan> get(const ConvGeometry& g, int threads,
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

 private:
  // Shapes seen by one kernel are usually few; past this many, start over rather than grow.
  static constexpr std::size_t kMaxGeometries = 32;

  std::shared_ptr<const ForwardPlan> make(const ConvGeometry& g, const ForwardPlan*) const {
    const OnednnShapes s = onednn_shapes<Kind>(g);
    const auto pd = choose_pd(forward_pd<Kind>, s, g.has_bias);
    return std::make_shared<const ForwardPlan>(ForwardPlan{
        Forward<Kind>(pd), pd.scratchpad_desc(), onednn::Bridge::input(s.plain_src(), pd.src_desc(), 0),
        onednn::Bridge::input(s.plain_weights(), pd.weights_desc(), 1),
        onednn::Bridge::output(s.plain_dst(), pd.dst_desc(), 2), s.plain_bias()});
  }

  std::shared_ptr<const BackwardDataPlan> make(const ConvGeometry& g, const BackwardDataPlan*) const {
    const OnednnShapes s = onednn_shapes<Kind>(g);
    const auto pd = choose_pd(backward_data_pd<Kind>, s, g.has_bias);
    return std::make_shared<const BackwardDataPlan>(
        BackwardDataPlan{BackwardData<Kind>(pd), pd.scratchpad_desc(),
                         onednn::Bridge::input(s.plain_dst(), pd.diff_dst_desc(), 0),
                         onednn::Bridge::input(s.plain_weights(), pd.weights_desc(), 1),
                         onednn::Bridge::output(s.plain_src(), pd.diff_src_desc(), 2)});
  }

  std::shared_ptr<const BackwardWeightsPlan> make(const ConvGeometry& g, const BackwardWeightsPlan*) const {
    const OnednnShapes s = onednn_shapes<Kind>(g);
    const auto pd = choose_pd(backward_weights_pd<Kind>, s, g.has_bias);
    return std::make_shared<const BackwardWeightsPlan>(BackwardWeightsPlan{
        BackwardWeights<Kind>(pd), pd.scratchpad_desc(),
        onednn::Bridge::input(s.plain_src(), pd.src_desc(), 0),
        onednn::Bridge::input(s.plain_dst(), pd.diff_dst_desc(), 1),
        onednn::Bridge::output(s.plain_weights(), pd.diff_weights_desc(), 2), s.plain_bias()});
  }

  std::mutex mutex_;
  std::map<std::pair<ConvGeometry, int>, Plans> plans_;
};

template <ConvKind Kind>
OnednnConv<Kind>::OnednnConv() : cache_(std::make_unique<Cache>()) {}

template <ConvKind Kind>
OnednnConv<Kind>::~OnednnConv() = default;

template <ConvKind Kind>
bool OnednnConv<Kind>::supports(const ConvGeometry& g) {
  if constexpr (Kind == ConvKind::transposed) {
    const OnednnShapes s = onednn_shapes<Kind>(g);
    for (const auto end : s.padding_end)
      if (end < 0) return false;
  }
  return true;
}

template <ConvKind Kind>
void OnednnConv<Kind>::forward(const ConvGeometry& g, int threads, const float* x, const float* w,
                               const float* bias, float* y) {
  const auto plan = cache_->get(g, threads, &Cache::Plans::forward);
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

template <ConvKind Kind>
void OnednnConv<Kind>::backward_data(const ConvGeometry& g, int threads, const float* dy, const float* w,
                                     float* dx) {
  const auto plan = cache_->get(g, threads, &Cache::Plans::backward_data);
  dnnl::stream& stream = onednn::thread_stream();
  const memory diff_src = plan->diff_src.write_target(dx);
  plan->primitive.execute(stream, {{DNNL_ARG_DIFF_DST, plan->diff_dst.read(dy, stream)},
                                   {DNNL_ARG_WEIGHTS, plan->weights.read(w, stream)},
                                   {DNNL_ARG_DIFF_SRC, diff_src},
                                   {DNNL_ARG_SCRATCHPAD, onednn::scratchpad_for(plan->scratchpad)}});
  plan->diff_src.finish_write(diff_src, dx, stream);
  stream.wait();
}

template <ConvKind Kind>
void OnednnConv<Kind>::backward_weights(const ConvGeometry& g, int threads, const float* x, const float* dy,
                                        float* dw, float* dbias) {
  const auto plan = cache_->get(g, threads, &Cache::Plans::backward_weights);
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

template class OnednnConv<ConvKind::convolution>;
template class OnednnConv<ConvKind::transposed>;

}  // namespace pcv::kernels
