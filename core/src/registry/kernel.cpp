#include <pcv/error.hpp>
#include <pcv/kernel.hpp>
#include <pcv/registry.hpp>
#include <pcv/threads.hpp>
#include <pcv/types.hpp>

#include <algorithm>
#include <array>

#include <boost/container/small_vector.hpp>
#include <utility>

#include "registry/descriptor_reader.hpp"
#include "registry/host_api.hpp"
#include "tensor/allocator.hpp"

namespace pcv {
namespace {

// Per-call argument arrays live on the stack for the usual handful of tensors: a call through
// the ABI should cost well under a microsecond.
template <class T>
using SmallVector = boost::container::small_vector<T, 6>;

// Borrowed pcv_tensor views of host tensors, padded with NULL to `count` (absent inputs).
struct Views {
  Views(const std::vector<Tensor>& tensors, std::size_t count) : views(count), pointers(count, nullptr) {
    for (std::size_t i = 0; i < std::min(count, tensors.size()); ++i) {
      if (!tensors[i].defined()) continue;
      views[i] = tensors[i].view();
      pointers[i] = &views[i];
    }
  }
  SmallVector<pcv_tensor> views;
  SmallVector<const pcv_tensor*> pointers;
};

// Output tensors for the plugin to fill: each with a PCV_MAX_NDIM shape buffer.
struct Outputs {
  explicit Outputs(std::size_t n) : shapes(n), tensors(n) {
    for (std::size_t i = 0; i < n; ++i) {
      tensors[i].shape = shapes[i].data();
      tensors[i].ndim = -1;  // "not set", caught below
      tensors[i].device = kCpu;
      pointers.push_back(&tensors[i]);
    }
  }
  Shape shape(std::size_t i) const { return Shape(shapes[i].begin(), shapes[i].begin() + tensors[i].ndim); }
  SmallVector<std::array<std::int64_t, PCV_MAX_NDIM>> shapes;
  SmallVector<pcv_tensor> tensors;
  SmallVector<pcv_tensor*> pointers;
};

bool is_variadic(const OpInfo& op) { return !op.inputs.empty() && op.inputs.back().variadic; }

// Checks the inputs against the schema; returns how many input slots the call passes.
std::size_t check_inputs(const OpInfo& op, const std::vector<Tensor>& inputs) {
  const bool variadic = is_variadic(op);
  if (inputs.size() > op.inputs.size() && !variadic)
    throw Error(op.full_name + " takes " + std::to_string(op.inputs.size()) + " inputs, got " +
                std::to_string(inputs.size()));
  const std::size_t slots = std::max(op.inputs.size(), inputs.size());
  for (std::size_t i = 0; i < slots; ++i) {
    const ArgInfo& spec = op.inputs[std::min(i, op.inputs.size() - 1)];
    const bool given = i < inputs.size() && inputs[i].defined();
    if (!given && !spec.optional)
      throw Error(op.full_name + " needs input '" + spec.name + "' (#" + std::to_string(i) + ")");
  }
  return slots;
}

void fill_run_options(std::uint32_t& flags, std::int32_t& threads, std::uint64_t& seed, const RunOptions& o) {
  flags = o.training ? std::uint32_t{PCV_RUN_TRAINING} : 0u;
  threads = o.num_threads > 0 ? o.num_threads : num_threads();
  seed = o.seed;
}

}  // namespace

Kernel::Kernel(std::shared_ptr<const OpInfo> op, void* state) : op_(std::move(op)), state_(state) {
  if ((op_->caps & PCV_CAP_THREADSAFE_COMPUTE) == 0) serial_ = std::make_unique<std::mutex>();
}

Kernel::Kernel(Kernel&& other) noexcept
    : op_(std::move(other.op_)),
      state_(std::exchange(other.state_, nullptr)),
      serial_(std::move(other.serial_)) {}

Kernel& Kernel::operator=(Kernel&& other) noexcept {
  if (this != &other) {
    Kernel old(std::move(*this));
    op_ = std::move(other.op_);
    state_ = std::exchange(other.state_, nullptr);
    serial_ = std::move(other.serial_);
  }
  return *this;
}

Kernel::~Kernel() {
  if (state_ != nullptr) op_->binding->desc.destroy(state_);
}

const OpInfo& Kernel::op() const { return *op_; }

std::unique_lock<std::mutex> Kernel::take_turn() const {
  return serial_ ? std::unique_lock(*serial_) : std::unique_lock<std::mutex>();
}

std::vector<std::pair<pcv_dtype, Shape>> Kernel::infer_shapes(const std::vector<Tensor>& inputs) const {
  const Views in(inputs, check_inputs(*op_, inputs));
  auto turn = take_turn();
  return infer_shapes_locked({in.pointers.data(), in.pointers.size()});
}

std::vector<std::pair<pcv_dtype, Shape>> Kernel::infer_shapes_locked(
    std::span<const pcv_tensor* const> inputs) const {
  const pcv_op_desc& d = op_->binding->desc;
  Outputs out(op_->outputs.size());
  detail::clear_plugin_error();
  const pcv_status status =
      d.infer_shapes(state_, static_cast<std::uint32_t>(inputs.size()), inputs.data(),
                     static_cast<std::uint32_t>(out.pointers.size()), out.pointers.data());
  detail::check_plugin_status(status, op_->full_name + " infer_shapes");
  std::vector<std::pair<pcv_dtype, Shape>> result;
  for (std::size_t i = 0; i < out.tensors.size(); ++i) {
    const int ndim = out.tensors[i].ndim;
    if (ndim < 0 || ndim > PCV_MAX_NDIM)
      throw Error(op_->full_name + " infer_shapes did not set output '" + op_->outputs[i].name + "'",
                  PCV_ERR_INTERNAL);
    result.emplace_back(out.tensors[i].dtype, out.shape(i));
  }
  return result;
}

std::vector<Tensor> Kernel::forward(const std::vector<Tensor>& inputs, const RunOptions& options) const {
  std::vector<Tensor> outputs;
  forward_into(inputs, outputs, options);
  return outputs;
}

// With `outputs` empty, allocates every output whose shape infer_shapes knows.
void Kernel::forward_into(const std::vector<Tensor>& inputs, std::vector<Tensor>& results,
                          const RunOptions& options) const {
  const Views in(inputs, check_inputs(*op_, inputs));
  const std::size_t n = op_->outputs.size();
  const bool preallocated = !results.empty();
  if (preallocated && results.size() != n)
    throw Error(op_->full_name + " has " + std::to_string(n) + " outputs, " + std::to_string(results.size()) +
                " were given");
  auto turn = take_turn();
  SmallVector<pcv_dtype> dtypes(n);
  if (preallocated) {
    for (std::size_t i = 0; i < n; ++i) dtypes[i] = results[i].dtype();
  } else {
    results.resize(n);
    const auto shapes = infer_shapes_locked({in.pointers.data(), in.pointers.size()});
    for (std::size_t i = 0; i < n; ++i) {
      const auto& [dtype, shape] = shapes[i];
      dtypes[i] = dtype;
      if (std::none_of(shape.begin(), shape.end(), [](std::int64_t d) { return d < 0; }))
        results[i] = Tensor::empty(dtype, shape);
    }
  }
  const pcv_op_desc& d = op_->binding->desc;
  Outputs out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out.tensors[i].dtype = dtypes[i];
    if (!results[i].defined()) continue;  // forward allocates it
    out.tensors[i] = results[i].view();
    out.tensors[i].shape = out.shapes[i].data();
    std::copy(results[i].shape().begin(), results[i].shape().end(), out.shapes[i].begin());
  }
  pcv_forward_args args{};
  args.struct_size = sizeof args;
  args.num_inputs = static_cast<std::uint32_t>(in.pointers.size());
  args.num_outputs = static_cast<std::uint32_t>(out.pointers.size());
  args.inputs = in.pointers.data();
  args.outputs = out.pointers.data();
  fill_run_options(args.run_flags, args.num_threads, args.seed, options);
  detail::clear_plugin_error();
  const pcv_status status = d.forward(state_, &args);
  for (std::size_t i = 0; i < n; ++i) {
    if (results[i].defined() || out.tensors[i].data == nullptr) continue;
    results[i] =
        Tensor::adopt(out.tensors[i].data, out.tensors[i].dtype, out.shape(i), out.tensors[i].device);
  }
  detail::check_plugin_status(status, op_->full_name + " forward");
  for (std::size_t i = 0; i < n; ++i)
    if (!results[i].defined())
      throw Error(op_->full_name + " forward did not produce output '" + op_->outputs[i].name + "'",
                  PCV_ERR_INTERNAL);
}

std::vector<Tensor> Kernel::backward(const std::vector<Tensor>& inputs, const std::vector<Tensor>& outputs,
                                     const std::vector<Tensor>& grad_outputs, const std::vector<bool>& wanted,
                                     const RunOptions& options) const {
  const pcv_op_desc& d = op_->binding->desc;
  if (d.backward == nullptr) throw Error(op_->full_name + " has no backward", PCV_ERR_NOT_SUPPORTED);
  const std::size_t n = check_inputs(*op_, inputs);
  if (outputs.size() != op_->outputs.size() || grad_outputs.size() != op_->outputs.size())
    throw Error(op_->full_name + " backward needs " + std::to_string(op_->outputs.size()) +
                " outputs and as many output gradients");
  for (std::size_t i = 0; i < outputs.size(); ++i)
    if (grad_outputs[i].shape() != outputs[i].shape() ||
        !same_dtype(grad_outputs[i].dtype(), outputs[i].dtype()))
      throw Error(op_->full_name + " backward: the gradient of output '" + op_->outputs[i].name + "' is " +
                  dtype_name(grad_outputs[i].dtype()) + shape_string(grad_outputs[i].shape()) +
                  ", the output is " + dtype_name(outputs[i].dtype()) + shape_string(outputs[i].shape()));
  auto turn = take_turn();
  const Views in(inputs, n), outs(outputs, outputs.size()), grads(grad_outputs, grad_outputs.size());
  std::vector<Tensor> grad_inputs(n);
  std::vector<pcv_tensor> grad_views(n);
  std::vector<pcv_tensor*> grad_pointers(n, nullptr);
  for (std::size_t i = 0; i < std::min(n, inputs.size()); ++i) {
    if (!inputs[i].defined() || (!wanted.empty() && (i >= wanted.size() || !wanted[i]))) continue;
    grad_inputs[i] = Tensor::empty(inputs[i].dtype(), inputs[i].shape());  // the op overwrites it
    grad_views[i] = grad_inputs[i].view();
    grad_pointers[i] = &grad_views[i];
  }
  pcv_backward_args args{};
  args.struct_size = sizeof args;
  args.num_inputs = static_cast<std::uint32_t>(n);
  args.num_outputs = static_cast<std::uint32_t>(outputs.size());
  args.inputs = in.pointers.data();
  args.outputs = outs.pointers.data();
  args.grad_outputs = grads.pointers.data();
  args.grad_inputs = grad_pointers.data();
  fill_run_options(args.run_flags, args.num_threads, args.seed, options);
  detail::clear_plugin_error();
  detail::check_plugin_status(d.backward(state_, &args), op_->full_name + " backward");
  return grad_inputs;
}

}  // namespace pcv
