#include "loss.hpp"

#include <cmath>
#include <span>
#include <string>
#include <vector>

#include "softmax.hpp"

namespace pcv::nn {
namespace {

using softmax_detail::AxisLayout;
using softmax_detail::LaneBlock;
using softmax_detail::LaneStats;
using Dims = std::span<const std::int64_t>;
using sdk::Shape;

constexpr std::int64_t kParallelElements = std::int64_t{1} << 14;
constexpr int kInputX = 0, kInputTarget = 1, kInputWeight = 2;

// ------------------------------------------------------------------ attributes

Reduction parse_reduction(const std::string& name, const char* op) {
  if (name == "mean") return Reduction::kMean;
  if (name == "sum") return Reduction::kSum;
  if (name == "none") return Reduction::kNone;
  sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": attribute 'reduction' = '", name,
            "' is not one of 'mean', 'sum', 'none'");
}

LossOptions read_options(const sdk::Attributes& a, const char* op, bool label_smoothing) {
  LossOptions options;
  options.reduction = parse_reduction(a.get<std::string>("reduction"), op);
  options.ignore_index = a.get<std::int64_t>("ignore_index");
  if (label_smoothing) {
    options.label_smoothing = a.get<double>("label_smoothing");
    if (!(options.label_smoothing >= 0.0 && options.label_smoothing <= 1.0))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op,
                ": attribute 'label_smoothing' = ", options.label_smoothing, " is out of range [0, 1]");
  }
  return options;
}

// ------------------------------------------------------------------ shapes

// The input seen as [N, C, D]: N samples of C classes at D positions each (D = prod(d...)), with
// the class dim in the middle, as AxisLayout{N, C, D}. An unbatched input [C] is N = D = 1.
struct LossLayout {
  AxisLayout axes;
  Shape target_shape;

  std::int64_t classes() const { return axes.size; }
  std::int64_t samples() const { return axes.outer * axes.inner; }
};

bool is_float(pcv_dtype dtype) { return same_dtype(dtype, kFloat32) || same_dtype(dtype, kFloat64); }

// Checks dtypes and shapes of (x, target, weight?) and returns x's layout; `weight` may be null.
LossLayout check_loss_inputs(const char* op, const char* x_name, const pcv_tensor& x,
                             const pcv_tensor& target, const pcv_tensor* weight) {
  const Dims x_shape = sdk::shape_of(x), t_shape = sdk::shape_of(target);
  if (!is_float(x.dtype))
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input '", x_name, "' has dtype ", dtype_name(x.dtype),
              ", expected float32 or float64");
  if (x_shape.empty())
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input '", x_name, "' is 0-d, expected [N, C] or [N, C, d...]");
  if (!same_dtype(target.dtype, kInt64))
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'target' has dtype ", dtype_name(target.dtype),
              ", expected int64 class indices");
  LossLayout layout;
  layout.axes = softmax_detail::axis_layout(x_shape, x_shape.size() == 1 ? 0 : 1);
  if (x_shape.size() > 1) {
    layout.target_shape.push_back(x_shape[0]);
    layout.target_shape.insert(layout.target_shape.end(), x_shape.begin() + 2, x_shape.end());
  }
  if (!std::equal(t_shape.begin(), t_shape.end(), layout.target_shape.begin(), layout.target_shape.end()))
    sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'target' has shape ", shape_string(t_shape), ", expected ",
              shape_string(layout.target_shape), " to match ", x_name, " ", shape_string(x_shape));
  if (weight != nullptr) {
    if (!same_dtype(weight->dtype, x.dtype))
      sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'weight' has dtype ", dtype_name(weight->dtype), " but ",
                x_name, " has ", dtype_name(x.dtype));
    const Dims w_shape = sdk::shape_of(*weight);
    if (w_shape.size() != 1 || w_shape[0] != layout.classes())
      sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": input 'weight' has shape ", shape_string(w_shape),
                ", expected [", layout.classes(), "] (one weight per class)");
  }
  return layout;
}

Shape loss_shape(const LossLayout& layout, Reduction reduction) {
  return reduction == Reduction::kNone ? layout.target_shape : Shape{};
}

template <class Context>
const pcv_tensor* optional_weight(const Context& ctx) {
  return ctx.has_input(kInputWeight) ? &ctx.raw_input(kInputWeight) : nullptr;
}

// "[i, j]": the multi-index of flat position `flat` in `shape`.
std::string position_string(std::int64_t flat, Dims shape) {
  std::vector<std::int64_t> index(shape.size());
  for (std::size_t k = shape.size(); k-- > 0;) {
    index[k] = flat % shape[k];
    flat /= shape[k];
  }
  return shape_string(index);
}

// Every target must be a class index or ignore_index; anything else would index out of bounds.
void check_targets(const std::int64_t* target, const LossLayout& layout, std::int64_t ignore_index,
                   const char* op) {
  const std::int64_t classes = layout.classes();
  for (std::int64_t i = 0; i < layout.samples(); ++i) {
    const std::int64_t t = target[i];
    if (t != ignore_index && (t < 0 || t >= classes))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op, ": target", position_string(i, layout.target_shape),
                " = ", t, " is not a class index in [0, ", classes, ") nor ignore_index ", ignore_index);
  }
}

// ------------------------------------------------------------------ the computation

// One call's data. `from_logits`: x holds logits (cross_entropy), else log-probabilities.
template <class T>
struct LossData {
  const T* x;
  const std::int64_t* target;
  const T* weight;  // null: every class weighs 1
  LossLayout layout;
  LossOptions options;
  bool from_logits;

  double class_weight(std::int64_t c) const {
    return weight != nullptr ? static_cast<double>(weight[c]) : 1.0;
  }
  double total_class_weight() const {
    double sum = 0;
    for (std::int64_t c = 0; c < layout.classes(); ++c) sum += class_weight(c);
    return sum;
  }
  bool ignored(std::int64_t t) const { return t == options.ignore_index; }
  // Flat index of sample (n, j) in the target, for the lane block b.
  std::int64_t sample(const LaneBlock& b, std::int64_t j) const {
    return b.block * layout.axes.inner + b.first + j;
  }
  // x of class c for lane j of block b.
  T x_at(const LaneBlock& b, std::int64_t c, std::int64_t j) const {
    const AxisLayout& l = layout.axes;
    return x[(b.block * l.size + c) * l.inner + b.first + j];
  }
};

// log(sum_c exp(x_c)) for every lane of block b; 0 when x already holds log-probabilities.
template <class T>
void lane_log_normalizers(const LossData<T>& d, const LaneBlock& b, double* log_z) {
  if (!d.from_logits) {
    std::fill(log_z, log_z + b.width, 0.0);
    return;
  }
  const AxisLayout& l = d.layout.axes;
  LaneStats<T> stats;
  softmax_detail::compute_lane_stats(d.x + b.block * l.size * l.inner + b.first, l.size, l.inner, b.width,
                                     stats);
  for (std::int64_t j = 0; j < b.width; ++j) log_z[j] = stats.log_sum_exp(j);
}

// Per sample: loss_i = (1 - eps) * (-w_t * log p_t) + (eps / C) * (-sum_c w_c * log p_c), 0 when
// ignored; and the weight w_t it counts with in the mean (0 when ignored).
template <class T>
void per_sample_losses(const LossData<T>& d, int threads, std::vector<double>& losses,
                       std::vector<double>& target_weights) {
  const double eps = d.options.label_smoothing;
  const std::int64_t classes = d.layout.classes();
  losses.assign(static_cast<std::size_t>(d.layout.samples()), 0.0);
  target_weights.assign(losses.size(), 0.0);
  softmax_detail::for_each_lane_block(d.layout.axes, threads, kParallelElements, [&](const LaneBlock& b) {
    double log_z[softmax_detail::kLanes];
    lane_log_normalizers(d, b, log_z);
    double smooth[softmax_detail::kLanes] = {};  // sum_c w_c * log p_c
    if (eps > 0)
      for (std::int64_t c = 0; c < classes; ++c)
        for (std::int64_t j = 0; j < b.width; ++j)
          smooth[j] += d.class_weight(c) * (static_cast<double>(d.x_at(b, c, j)) - log_z[j]);
    for (std::int64_t j = 0; j < b.width; ++j) {
      const std::int64_t i = d.sample(b, j), t = d.target[i];
      if (d.ignored(t)) continue;
      const double w = d.class_weight(t);
      const double log_p = static_cast<double>(d.x_at(b, t, j)) - log_z[j];
      losses[i] = -(1.0 - eps) * w * log_p - eps / static_cast<double>(classes) * smooth[j];
      target_weights[i] = w;
    }
  });
}

// dL/dloss_i for every sample: dy itself for "none", dy for every sample for "sum", and
// dy / sum_i w_t(i) for "mean".
template <class T>
std::vector<double> per_sample_gradients(const LossData<T>& d, const T* dy) {
  const auto samples = static_cast<std::size_t>(d.layout.samples());
  if (d.options.reduction == Reduction::kNone) return std::vector<double>(dy, dy + samples);
  double scale = static_cast<double>(dy[0]);
  if (d.options.reduction == Reduction::kMean) {
    double total_weight = 0;
    for (std::size_t i = 0; i < samples; ++i)
      if (!d.ignored(d.target[i])) total_weight += d.class_weight(d.target[i]);
    scale /= total_weight;
  }
  return std::vector<double>(samples, scale);
}

// d loss_i / d x_c = (1 - eps) * w_t * (p_c - [c == t]) + (eps / C) * (p_c * sum_k w_k - w_c) for
// logits, where p = softmax(x); for log-probabilities only -w_t at c == t remains.
template <class T>
void write_input_gradient(const LossData<T>& d, const std::vector<double>& grads, T* dx, int threads) {
  const double eps = d.options.label_smoothing;
  const std::int64_t classes = d.layout.classes();
  const double smooth_scale = eps / static_cast<double>(classes);
  const double weight_sum = d.total_class_weight();
  const AxisLayout& l = d.layout.axes;
  softmax_detail::for_each_lane_block(l, threads, kParallelElements, [&](const LaneBlock& b) {
    double log_z[softmax_detail::kLanes];
    lane_log_normalizers(d, b, log_z);
    for (std::int64_t c = 0; c < classes; ++c) {
      T* row = dx + (b.block * l.size + c) * l.inner + b.first;
      for (std::int64_t j = 0; j < b.width; ++j) {
        const std::int64_t i = d.sample(b, j), t = d.target[i];
        if (d.ignored(t)) {
          row[j] = T(0);
          continue;
        }
        const double hit = c == t ? 1.0 : 0.0;
        double g;
        if (d.from_logits) {
          const double p = std::exp(static_cast<double>(d.x_at(b, c, j)) - log_z[j]);
          g = (1.0 - eps) * d.class_weight(t) * (p - hit) +
              smooth_scale * (p * weight_sum - d.class_weight(c));
        } else {
          g = -d.class_weight(t) * hit;
        }
        row[j] = static_cast<T>(grads[i] * g);
      }
    }
  });
}

// ------------------------------------------------------------------ forward and backward

template <class T, class Context>
LossData<T> loss_data(const Context& ctx, const LossLayout& layout, const LossOptions& options,
                      bool from_logits, const char* op) {
  LossData<T> d{ctx.template input<T>(kInputX).data(),
                ctx.template input<std::int64_t>(kInputTarget).data(),
                ctx.has_input(kInputWeight) ? ctx.template input<T>(kInputWeight).data() : nullptr,
                layout,
                options,
                from_logits};
  check_targets(d.target, layout, options.ignore_index, op);
  return d;
}

void loss_forward(sdk::ForwardContext& ctx, const LossOptions& options, bool from_logits, const char* op,
                  const char* x_name) {
  const LossLayout layout = check_loss_inputs(op, x_name, ctx.raw_input(kInputX), ctx.raw_input(kInputTarget),
                                              optional_weight(ctx));
  sdk::dispatch_float(ctx.raw_input(kInputX).dtype, ctx.names().input(kInputX), [&](auto zero) {
    using T = decltype(zero);
    const LossData<T> d = loss_data<T>(ctx, layout, options, from_logits, op);
    std::vector<double> losses, weights;
    per_sample_losses(d, ctx.num_threads(), losses, weights);
    auto y = ctx.output<T>(0, loss_shape(layout, options.reduction));
    if (options.reduction == Reduction::kNone) {
      std::copy(losses.begin(), losses.end(), y.data());
      return;
    }
    // A fixed summation order keeps the result independent of the thread count.
    double total = 0, total_weight = 0;
    for (std::size_t i = 0; i < losses.size(); ++i) {
      total += losses[i];
      total_weight += weights[i];
    }
    // Mean over no counted targets is 0 / 0 = NaN, as in PyTorch.
    y.data()[0] = static_cast<T>(options.reduction == Reduction::kMean ? total / total_weight : total);
  });
}

void loss_backward(sdk::BackwardContext& ctx, const LossOptions& options, bool from_logits, const char* op,
                   const char* x_name) {
  if (ctx.wants_grad(kInputTarget))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.", op,
              ": input 'target' holds class indices and has no gradient");
  if (ctx.wants_grad(kInputWeight))
    sdk::fail(
        PCV_ERR_NOT_SUPPORTED, "nn.", op,
        ": the gradient of input 'weight' is not computed (PyTorch does not differentiate the class weight)");
  if (!ctx.wants_grad(kInputX)) return;
  const LossLayout layout = check_loss_inputs(op, x_name, ctx.raw_input(kInputX), ctx.raw_input(kInputTarget),
                                              optional_weight(ctx));
  sdk::dispatch_float(ctx.raw_input(kInputX).dtype, ctx.names().input(kInputX), [&](auto zero) {
    using T = decltype(zero);
    const LossData<T> d = loss_data<T>(ctx, layout, options, from_logits, op);
    auto dy = ctx.template grad_output<T>(0);
    if (dy.numel() != (options.reduction == Reduction::kNone ? layout.samples() : 1))
      sdk::fail(PCV_ERR_SHAPE, "nn.", op, ": output gradient has shape ", shape_string(dy.shape()),
                ", expected ", shape_string(loss_shape(layout, options.reduction)));
    write_input_gradient(d, per_sample_gradients(d, dy.data()), ctx.template grad_input<T>(kInputX).data(),
                         ctx.num_threads());
  });
}

template <class Context>
void set_loss_output(Context& ctx, const LossOptions& options, const char* op, const char* x_name) {
  const LossLayout layout =
      check_loss_inputs(op, x_name, ctx.input(kInputX), ctx.input(kInputTarget),
                        ctx.has_input(kInputWeight) ? &ctx.input(kInputWeight) : nullptr);
  ctx.set_output(0, ctx.input_dtype(kInputX), loss_shape(layout, options.reduction));
}

}  // namespace

// ------------------------------------------------------------------ CrossEntropy

sdk::OpSpec CrossEntropy::spec() {
  return sdk::OpSpec("cross_entropy",
                     "F.cross_entropy with class-index targets: log_softmax over dim 1, then the weighted "
                     "negative log-likelihood of the target class, with optional label smoothing.")
      .input("logits", "[N, C] or [N, C, d...] (or unbatched [C])")
      .input("target", "[N] or [N, d...] class indices in [0, C), or ignore_index", "int64")
      .no_grad()
      .optional_input("weight", "[C] class weights, not differentiated")
      .no_grad()
      .output("loss", "[] for reduction 'mean' and 'sum', the shape of target for 'none'")
      .attr("reduction", "'mean' (sum over the summed target weights), 'sum' or 'none'", "mean")
      .attr("label_smoothing", "in [0, 1]: the target mixes 1 - eps of the class with eps spread uniformly",
            0.0)
      .attr("ignore_index", "targets equal to this add nothing to the loss, the mean or the gradient",
            std::int64_t{-100})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

CrossEntropy::CrossEntropy(const sdk::Attributes& a) : options_(read_options(a, "cross_entropy", true)) {}

void CrossEntropy::infer_shapes(sdk::ShapeContext& ctx) const {
  set_loss_output(ctx, options_, "cross_entropy", "logits");
}

void CrossEntropy::forward(sdk::ForwardContext& ctx) const {
  loss_forward(ctx, options_, true, "cross_entropy", "logits");
}

void CrossEntropy::backward(sdk::BackwardContext& ctx) const {
  loss_backward(ctx, options_, true, "cross_entropy", "logits");
}

// ------------------------------------------------------------------ NllLoss

sdk::OpSpec NllLoss::spec() {
  return sdk::OpSpec(
             "nll_loss",
             "F.nll_loss: minus the weighted log-probability of the target class, with class-index targets.")
      .input("log_probs", "[N, C] or [N, C, d...] (or unbatched [C]) log-probabilities")
      .input("target", "[N] or [N, d...] class indices in [0, C), or ignore_index", "int64")
      .no_grad()
      .optional_input("weight", "[C] class weights, not differentiated")
      .no_grad()
      .output("loss", "[] for reduction 'mean' and 'sum', the shape of target for 'none'")
      .attr("reduction", "'mean' (sum over the summed target weights), 'sum' or 'none'", "mean")
      .attr("ignore_index", "targets equal to this add nothing to the loss, the mean or the gradient",
            std::int64_t{-100})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

NllLoss::NllLoss(const sdk::Attributes& a) : options_(read_options(a, "nll_loss", false)) {}

void NllLoss::infer_shapes(sdk::ShapeContext& ctx) const {
  set_loss_output(ctx, options_, "nll_loss", "log_probs");
}

void NllLoss::forward(sdk::ForwardContext& ctx) const {
  loss_forward(ctx, options_, false, "nll_loss", "log_probs");
}

void NllLoss::backward(sdk::BackwardContext& ctx) const {
  loss_backward(ctx, options_, false, "nll_loss", "log_probs");
}

}  // namespace pcv::nn
