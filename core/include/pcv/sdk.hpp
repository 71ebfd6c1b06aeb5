// pcv/sdk.hpp - header-only C++ helpers for writing pcv plugins on top of pcv/plugin.h.
//
// An op is a small class:
//
//   class Scale {
//    public:
//     static pcv::sdk::OpSpec spec() {
//       return pcv::sdk::OpSpec("scale", "y = alpha * x")
//           .input("x", "any shape").output("y", "shape of x")
//           .attr("alpha", "the factor", 1.0)
//           .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
//     }
//     explicit Scale(const pcv::sdk::Attributes& a) : alpha_(a.get<double>("alpha")) {}
//     void infer_shapes(pcv::sdk::ShapeContext& ctx) const { ctx.set_output_like(0, 0); }
//     void forward(pcv::sdk::ForwardContext& ctx) const { ... }
//     void backward(pcv::sdk::BackwardContext& ctx) const { ... }   // optional
//    private:
//     double alpha_;
//   };
//   PCV_PLUGIN("myplugin", "1.0.0", "What the plugin is for", Scale)
//
// Every call from the host goes through guarded(): an exception thrown by the op becomes a
// status code plus a message (pcv::sdk::Error keeps its code; std::bad_alloc is
// PCV_ERR_OUT_OF_MEMORY; anything else PCV_ERR_INTERNAL), so nothing C++ crosses the ABI.
#pragma once

#include <pcv/plugin.h>
#include <pcv/owned_attr.hpp>
#include <pcv/types.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <new>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace pcv::sdk {

// ------------------------------------------------------------------ errors

class Error : public std::runtime_error {
 public:
  Error(pcv_status code, const std::string& message) : std::runtime_error(message), code_(code) {}
  pcv_status code() const noexcept { return code_; }

 private:
  pcv_status code_;
};

// Throws Error(code, concatenation of parts).
template <class... Parts>
[[noreturn]] void fail(pcv_status code, const Parts&... parts) {
  std::ostringstream message;
  (message << ... << parts);
  throw Error(code, message.str());
}

// Runs body and turns any exception into a status plus a message for the host.
template <class Body>
pcv_status guarded(const pcv_host_api* host, Body&& body) noexcept {
  const auto report = [host](pcv_status code, const char* message) noexcept {
    return host != nullptr && host->set_error != nullptr ? host->set_error(host->host_ctx, code, message)
                                                         : code;
  };
  try {
    body();
    return PCV_OK;
  } catch (const Error& e) {
    return report(e.code(), e.what());
  } catch (const std::bad_alloc&) {
    return report(PCV_ERR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return report(PCV_ERR_INTERNAL, e.what());
  } catch (...) {
    return report(PCV_ERR_INTERNAL, "unknown exception");
  }
}

// ------------------------------------------------------------------ shapes and tensor views

using Shape = std::vector<std::int64_t>;

using pcv::numel;
using pcv::shape_string;

inline std::span<const std::int64_t> shape_of(const pcv_tensor& t) {
  return {t.shape, static_cast<std::size_t>(t.ndim)};
}

// True when strides are absent or describe compact row-major order.
inline bool is_contiguous(const pcv_tensor& t) {
  if (t.strides == nullptr) return true;
  std::int64_t expected = 1;
  for (int i = t.ndim - 1; i >= 0; --i) {
    if (t.shape[i] != 1 && t.strides[i] != expected) return false;
    expected *= t.shape[i];
  }
  return true;
}

// A typed view of a contiguous CPU tensor. T is const for inputs.
template <class T>
class TensorView {
 public:
  using Raw = std::conditional_t<std::is_const_v<T>, const pcv_tensor, pcv_tensor>;

  // `what` names the tensor in error messages, e.g. "input 'x' of nn.relu": a string, or an
  // ArgName that is only spelled out when there is an error.
  template <class What>
  TensorView(Raw& t, const What& what) : tensor_(&t) {
    if (!same_dtype(t.dtype, dtype_of<T>()))
      fail(PCV_ERR_SHAPE, what, " has dtype ", dtype_name(t.dtype), ", expected ", dtype_name(dtype_of<T>()));
    if (t.device.device_type != PCV_DEVICE_CPU)
      fail(PCV_ERR_NOT_SUPPORTED, what, " is on ", device_name(t.device), "; this op runs on the CPU only");
    if (!is_contiguous(t)) fail(PCV_ERR_NOT_SUPPORTED, what, " is not contiguous");
    if (t.data == nullptr && pcv::numel(shape_of(t)) > 0)
      fail(PCV_ERR_INVALID_ARGUMENT, what, " has no data");
  }

  T* data() const {
    using Byte = std::conditional_t<std::is_const_v<T>, const char, char>;
    return reinterpret_cast<T*>(static_cast<Byte*>(tensor_->data) + tensor_->byte_offset);
  }
  std::span<T> values() const { return {data(), static_cast<std::size_t>(numel())}; }
  std::span<const std::int64_t> shape() const { return shape_of(*tensor_); }
  int ndim() const { return tensor_->ndim; }
  std::int64_t numel() const { return pcv::numel(shape()); }
  // Size of dimension i; negative i counts from the end.
  std::int64_t dim(int i) const { return shape()[static_cast<std::size_t>(i < 0 ? i + ndim() : i)]; }
  Raw& raw() const { return *tensor_; }

 private:
  Raw* tensor_;
};

// Calls f(T{}) with T = float or double according to dtype; other dtypes are refused.
template <class What, class F>
decltype(auto) dispatch_float(pcv_dtype dtype, const What& what, F&& f) {
  if (same_dtype(dtype, kFloat32)) return f(float{});
  if (same_dtype(dtype, kFloat64)) return f(double{});
  fail(PCV_ERR_NOT_SUPPORTED, what, " has dtype ", dtype_name(dtype), "; supported: float32, float64");
}

// ------------------------------------------------------------------ attributes and schema

// The declaration of an op: name, documentation, inputs, outputs, attributes, capabilities.
class OpSpec {
 public:
  struct Arg {
    std::string name, doc, dtypes;
    std::uint32_t flags;
  };
  struct Attr {
    std::string name, doc;
    std::int32_t type;
    std::optional<OwnedAttr> default_value;
  };

  OpSpec(std::string name, std::string doc) : name_(std::move(name)), doc_(std::move(doc)) {}

  OpSpec& input(std::string name, std::string doc, std::string dtypes = "float32|float64") {
    inputs_.push_back({std::move(name), std::move(doc), std::move(dtypes), 0});
    return *this;
  }
  OpSpec& optional_input(std::string name, std::string doc, std::string dtypes = "float32|float64") {
    inputs_.push_back({std::move(name), std::move(doc), std::move(dtypes), PCV_ARG_OPTIONAL});
    return *this;
  }
  // A buffer the op updates in place in training mode (running statistics); never differentiated.
  OpSpec& state_input(std::string name, std::string doc, std::string dtypes = "float32|float64") {
    inputs_.push_back({std::move(name), std::move(doc), std::move(dtypes), PCV_ARG_OPTIONAL | PCV_ARG_STATE});
    return *this;
  }
  // The last input, given one or more times (ForwardContext::num_inputs() says how many in all).
  OpSpec& variadic_input(std::string name, std::string doc, std::string dtypes = "float32|float64") {
    inputs_.push_back({std::move(name), std::move(doc), std::move(dtypes), PCV_ARG_VARIADIC});
    return *this;
  }
  // Marks the input declared last as one backward does not differentiate (PCV_ARG_NO_GRAD).
  OpSpec& no_grad() {
    if (!inputs_.empty()) inputs_.back().flags |= PCV_ARG_NO_GRAD;
    return *this;
  }
  // The last output is not differentiated: backward ignores its gradient.
  OpSpec& no_grad_output() {
    if (!outputs_.empty()) outputs_.back().flags |= PCV_ARG_NO_GRAD;
    return *this;
  }
  OpSpec& output(std::string name, std::string doc, std::string dtypes = "float32|float64") {
    outputs_.push_back({std::move(name), std::move(doc), std::move(dtypes), 0});
    return *this;
  }
  // An attribute with a default value; its type follows the default's C++ type.
  template <class T>
  OpSpec& attr(std::string name, std::string doc, T default_value) {
    using V =
        std::conditional_t<std::is_convertible_v<T, std::string> && !std::is_arithmetic_v<T>, std::string, T>;
    auto value = OwnedAttr::make<V>(name, V(default_value));
    attrs_.push_back({std::move(name), std::move(doc), attr_type_of<V>(), std::move(value)});
    return *this;
  }
  // An attribute the caller must give.
  template <class T>
  OpSpec& required_attr(std::string name, std::string doc) {
    attrs_.push_back({std::move(name), std::move(doc), attr_type_of<T>(), std::nullopt});
    return *this;
  }
  OpSpec& caps(std::uint32_t caps) {
    caps_ = caps;
    return *this;
  }
  OpSpec& version(std::uint32_t v) {
    version_ = v;
    return *this;
  }

  const std::string& name() const { return name_; }
  const std::string& doc() const { return doc_; }
  std::uint32_t caps() const { return caps_; }
  std::uint32_t version() const { return version_; }
  std::vector<Arg>& inputs() { return inputs_; }
  std::vector<Arg>& outputs() { return outputs_; }
  std::vector<Attr>& attrs() { return attrs_; }

 private:
  std::string name_, doc_;
  std::uint32_t caps_ = PCV_CAP_CPU;
  std::uint32_t version_ = 1;
  std::vector<Arg> inputs_, outputs_;
  std::vector<Attr> attrs_;
};

// The attributes a kernel was created with, completed by the op's declared defaults.
class Attributes {
 public:
  Attributes(const pcv_attrs* given, const pcv_op_desc& desc) : given_(given), desc_(desc) {}

  // The value of a declared attribute: the given one, else the default; a required
  // attribute that was not given is an error.
  template <class T>
  T get(std::string_view name) const {
    const pcv_attr& a = find(name);
    constexpr std::int32_t want = attr_type_of<T>();
    if (a.type != want)
      fail(PCV_ERR_INVALID_ARGUMENT, "attribute '", name, "' is ", attr_type_name(a.type),
           ", the op reads it as ", attr_type_name(want));
    if constexpr (std::is_same_v<T, bool>)
      return a.i != 0;
    else if constexpr (std::is_integral_v<T>)
      return checked_int<T>(name, a.i);
    else if constexpr (std::is_floating_point_v<T>)
      return static_cast<T>(a.f);
    else if constexpr (std::is_same_v<T, std::string>)
      return a.s ? std::string(a.s) : std::string();
    else if constexpr (std::is_same_v<T, std::vector<std::int64_t>>)
      return T(a.ints, a.ints + (a.ints ? a.count : 0));
    else
      return T(a.floats, a.floats + (a.floats ? a.count : 0));
  }

  // get<T>(name), refused unless lo <= value <= hi.
  template <class T>
  T get_in_range(std::string_view name, T lo, T hi) const {
    T v = get<T>(name);
    if (!(v >= lo && v <= hi))
      fail(PCV_ERR_INVALID_ARGUMENT, "attribute '", name, "' = ", v, " is out of range [", lo, ", ", hi, "]");
    return v;
  }

 private:
  const pcv_attr& find(std::string_view name) const {
    if (given_ != nullptr)
      for (std::uint32_t i = 0; i < given_->count; ++i)
        if (given_->items[i] != nullptr && name == given_->items[i]->name) return *given_->items[i];
    for (std::uint32_t i = 0; i < desc_.num_attrs; ++i) {
      const pcv_attr_spec& spec = *desc_.attrs[i];
      if (name != spec.name) continue;
      if (spec.default_value == nullptr)
        fail(PCV_ERR_INVALID_ARGUMENT, "required attribute '", name, "' of ", desc_.name, " is missing");
      return *spec.default_value;
    }
    fail(PCV_ERR_INTERNAL, "op ", desc_.name, " reads attribute '", name, "' that it does not declare");
  }
  template <class T>
  static T checked_int(std::string_view name, std::int64_t v) {
    if (v < static_cast<std::int64_t>(std::numeric_limits<T>::min()) ||
        (v > 0 && static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<T>::max())))
      fail(PCV_ERR_INVALID_ARGUMENT, "attribute '", name, "' = ", v, " does not fit the op's type");
    return static_cast<T>(v);
  }

  const pcv_attrs* given_;
  const pcv_op_desc& desc_;
};

// ------------------------------------------------------------------ call contexts

class ArgNames;

// The name of one input or output ("input 'x' of nn.relu"), spelled out only when printed, so
// naming tensors costs nothing on the fast path.
class ArgName {
 public:
  ArgName(const pcv_op_desc& desc, bool output, std::size_t index, bool gradient = false)
      : desc_(&desc), output_(output), index_(index), gradient_(gradient) {}
  ArgName gradient() const { return ArgName(*desc_, output_, index_, true); }
  std::string str() const {
    const pcv_arg_spec* const* specs = output_ ? desc_->outputs : desc_->inputs;
    const std::size_t n = output_ ? desc_->num_outputs : desc_->num_inputs;
    // Past the schema's end: copies of a variadic last input.
    const std::string name =
        index_ < n ? std::string(specs[index_]->name)
        : n > 0    ? std::string(specs[n - 1]->name) + "[" + std::to_string(index_ - n + 1) + "]"
                   : "#" + std::to_string(index_);
    return std::string(gradient_ ? "gradient of " : "") + (output_ ? "output '" : "input '") + name +
           "' of " + desc_->name;
  }
  operator std::string() const { return str(); }
  friend std::ostream& operator<<(std::ostream& out, const ArgName& n) { return out << n.str(); }

 private:
  const pcv_op_desc* desc_;
  bool output_;
  std::size_t index_;
  bool gradient_;
};

// Names of an op's inputs and outputs, for error messages.
class ArgNames {
 public:
  explicit ArgNames(const pcv_op_desc& desc) : desc_(desc) {}
  ArgName input(std::size_t i) const { return ArgName(desc_, false, i); }
  ArgName output(std::size_t i) const { return ArgName(desc_, true, i); }
  const pcv_op_desc& desc() const { return desc_; }

 private:
  const pcv_op_desc& desc_;
};

namespace detail {
inline void check_index(std::size_t i, std::uint32_t count, const char* kind, const pcv_op_desc& d) {
  if (i >= count) fail(PCV_ERR_INVALID_ARGUMENT, d.name, " got ", count, " ", kind, "s, needs #", i);
}
// The 1.1 fields of forward/backward args, with 1.0 defaults when the host is older.
struct RunFields {
  bool training = false;
  int num_threads = 1;
  std::uint64_t seed = 0;
};
template <class Args>
RunFields run_fields(const Args& a) {
  RunFields r;
  if (PCV_HAS_FIELD(&a, Args, seed)) {
    r.training = (a.run_flags & PCV_RUN_TRAINING) != 0;
    r.num_threads = a.num_threads > 0 ? a.num_threads : 1;
    r.seed = a.seed;
  }
  return r;
}
template <class What>
void set_shape(pcv_tensor& t, std::span<const std::int64_t> shape, const What& what) {
  if (shape.size() > PCV_MAX_NDIM) fail(PCV_ERR_SHAPE, what, " would have ", shape.size(), " dims");
  t.ndim = static_cast<std::int32_t>(shape.size());
  std::copy(shape.begin(), shape.end(), t.shape);
}
}  // namespace detail

// Given to Op::infer_shapes: input dtypes and shapes in, output dtypes and shapes out.
class ShapeContext {
 public:
  ShapeContext(const ArgNames& names, std::uint32_t ni, const pcv_tensor* const* in, std::uint32_t no,
               pcv_tensor* const* out)
      : names_(names), num_inputs_(ni), inputs_(in), num_outputs_(no), outputs_(out) {}

  std::size_t num_inputs() const { return num_inputs_; }
  bool has_input(std::size_t i) const { return i < num_inputs_ && inputs_[i] != nullptr; }
  const pcv_tensor& input(std::size_t i) const {
    detail::check_index(i, num_inputs_, "input", names_.desc());
    if (inputs_[i] == nullptr) fail(PCV_ERR_INVALID_ARGUMENT, names_.input(i), " is missing");
    return *inputs_[i];
  }
  std::span<const std::int64_t> input_shape(std::size_t i) const { return shape_of(input(i)); }
  pcv_dtype input_dtype(std::size_t i) const { return input(i).dtype; }

  // Sets output i; its device is that of input 0 (or the CPU when there are no inputs).
  void set_output(std::size_t i, pcv_dtype dtype, std::span<const std::int64_t> shape) {
    detail::check_index(i, num_outputs_, "output", names_.desc());
    pcv_tensor& t = *outputs_[i];
    t.dtype = dtype;
    t.device = num_inputs_ > 0 && inputs_[0] != nullptr ? inputs_[0]->device : kCpu;
    detail::set_shape(t, shape, names_.output(i));
  }
  void set_output_like(std::size_t out, std::size_t in) { set_output(out, input_dtype(in), input_shape(in)); }
  const ArgNames& names() const { return names_; }

 private:
  const ArgNames& names_;
  std::uint32_t num_inputs_;
  const pcv_tensor* const* inputs_;
  std::uint32_t num_outputs_;
  pcv_tensor* const* outputs_;
};

// Given to Op::forward.
class ForwardContext {
 public:
  ForwardContext(const pcv_host_api* host, const ArgNames& names, const pcv_forward_args& args)
      : host_(host), names_(names), args_(args), run_(detail::run_fields(args)) {}

  std::size_t num_inputs() const { return args_.num_inputs; }
  // Training mode (PCV_RUN_TRAINING): batch statistics, dropout, state updates.
  bool training() const { return run_.training; }
  // CPU threads this call may use, >= 1.
  int num_threads() const { return run_.num_threads; }
  // Seed for random ops, fixed by the host per call.
  std::uint64_t seed() const { return run_.seed; }
  // A state input (OpSpec::state_input), writable: training-mode forward updates it in place.
  template <class T>
  TensorView<T> state(std::size_t i) const {
    return TensorView<T>(const_cast<pcv_tensor&>(raw_input(i)), names_.input(i));
  }

  bool has_input(std::size_t i) const { return i < args_.num_inputs && args_.inputs[i] != nullptr; }
  const pcv_tensor& raw_input(std::size_t i) const {
    detail::check_index(i, args_.num_inputs, "input", names_.desc());
    if (args_.inputs[i] == nullptr) fail(PCV_ERR_INVALID_ARGUMENT, names_.input(i), " is missing");
    return *args_.inputs[i];
  }
  template <class T>
  TensorView<const T> input(std::size_t i) const {
    return TensorView<const T>(raw_input(i), names_.input(i));
  }
  // Output i with the given shape: the host's preallocated tensor (its shape must match), or,
  // for an output whose shape infer_shapes left open, a new one from the host allocator.
  template <class T>
  TensorView<T> output(std::size_t i, std::span<const std::int64_t> shape) const {
    detail::check_index(i, args_.num_outputs, "output", names_.desc());
    pcv_tensor& t = *args_.outputs[i];
    if (t.data != nullptr) {
      auto have = shape_of(t);
      if (!std::equal(have.begin(), have.end(), shape.begin(), shape.end()))
        fail(PCV_ERR_INTERNAL, names_.output(i), " was allocated as ", shape_string(have),
             " but forward computed ", shape_string(shape));
    } else {
      detail::set_shape(t, shape, names_.output(i));
      t.dtype = dtype_of<T>();
      t.byte_offset = 0;
      t.strides = nullptr;
      std::uint64_t bytes = static_cast<std::uint64_t>(numel(shape)) * sizeof(T);
      if (host_->alloc(host_->host_ctx, t.device, bytes, 0, &t.data) != PCV_OK)
        fail(PCV_ERR_OUT_OF_MEMORY, "cannot allocate ", bytes, " bytes for ", names_.output(i));
    }
    return TensorView<T>(t, names_.output(i));
  }
  // A preallocated output, whose shape the host set from infer_shapes.
  template <class T>
  TensorView<T> output(std::size_t i) const {
    detail::check_index(i, args_.num_outputs, "output", names_.desc());
    pcv_tensor& t = *args_.outputs[i];
    if (t.data == nullptr && numel(shape_of(t)) > 0)
      fail(PCV_ERR_INTERNAL, names_.output(i), " was not allocated by the host");
    return TensorView<T>(t, names_.output(i));
  }
  void* stream() const { return args_.stream; }
  const ArgNames& names() const { return names_; }

 private:
  const pcv_host_api* host_;
  const ArgNames& names_;
  const pcv_forward_args& args_;
  detail::RunFields run_;
};

// Given to Op::backward: the forward tensors, the output gradients, and the input gradients
// to write (those the host does not want are skipped by wants_grad()).
class BackwardContext {
 public:
  BackwardContext(const ArgNames& names, const pcv_backward_args& args)
      : names_(names), args_(args), run_(detail::run_fields(args)) {}

  std::size_t num_inputs() const { return args_.num_inputs; }
  bool has_input(std::size_t i) const { return i < args_.num_inputs && args_.inputs[i] != nullptr; }
  bool training() const { return run_.training; }
  int num_threads() const { return run_.num_threads; }
  std::uint64_t seed() const { return run_.seed; }

  template <class T>
  TensorView<const T> input(std::size_t i) const {
    detail::check_index(i, args_.num_inputs, "input", names_.desc());
    return TensorView<const T>(*args_.inputs[i], names_.input(i));
  }
  template <class T>
  TensorView<const T> output(std::size_t i) const {
    detail::check_index(i, args_.num_outputs, "output", names_.desc());
    return TensorView<const T>(*args_.outputs[i], names_.output(i));
  }
  template <class T>
  TensorView<const T> grad_output(std::size_t i) const {
    detail::check_index(i, args_.num_outputs, "output", names_.desc());
    return TensorView<const T>(*args_.grad_outputs[i], names_.output(i).gradient());
  }
  bool wants_grad(std::size_t input) const {
    return input < args_.num_inputs && args_.grad_inputs[input] != nullptr;
  }
  template <class T>
  TensorView<T> grad_input(std::size_t i) const {
    if (!wants_grad(i)) fail(PCV_ERR_INTERNAL, "gradient of ", names_.input(i), " was not requested");
    return TensorView<T>(*args_.grad_inputs[i], names_.input(i).gradient());
  }
  const pcv_tensor& raw_input(std::size_t i) const {
    detail::check_index(i, args_.num_inputs, "input", names_.desc());
    return *args_.inputs[i];
  }
  void* stream() const { return args_.stream; }
  const ArgNames& names() const { return names_; }

 private:
  const ArgNames& names_;
  const pcv_backward_args& args_;
  detail::RunFields run_;
};

// ------------------------------------------------------------------ registration

namespace detail {

struct EntryPoints {
  pcv_infer_shapes_fn infer_shapes;
  pcv_create_fn create;
  pcv_destroy_fn destroy;
  pcv_forward_fn forward;
  pcv_backward_fn backward;  // nullptr when the op has none
};

// The C descriptor of an op and everything it points to, built once from Op::spec().
class OpStorage {
 public:
  OpStorage(OpSpec spec, const EntryPoints& entry) : spec_(std::move(spec)) {
    for (auto& a : spec_.inputs()) inputs_.push_back(arg_spec(a));
    for (auto& a : spec_.outputs()) outputs_.push_back(arg_spec(a));
    for (auto& a : spec_.attrs()) {
      pcv_attr_spec s{};
      s.struct_size = sizeof s;
      s.type = a.type;
      s.name = a.name.c_str();
      s.doc = a.doc.c_str();
      s.default_value = a.default_value ? a.default_value->get() : nullptr;
      attrs_.push_back(s);
    }
    for (auto& s : inputs_) input_ptrs_.push_back(&s);
    for (auto& s : outputs_) output_ptrs_.push_back(&s);
    for (auto& s : attrs_) attr_ptrs_.push_back(&s);
    desc.struct_size = sizeof desc;
    desc.caps = spec_.caps();
    desc.name = spec_.name().c_str();
    desc.doc = spec_.doc().c_str();
    desc.op_version = spec_.version();
    desc.num_inputs = static_cast<std::uint32_t>(inputs_.size());
    desc.num_outputs = static_cast<std::uint32_t>(outputs_.size());
    desc.num_attrs = static_cast<std::uint32_t>(attrs_.size());
    desc.inputs = input_ptrs_.data();
    desc.outputs = output_ptrs_.data();
    desc.attrs = attr_ptrs_.data();
    desc.infer_shapes = entry.infer_shapes;
    desc.create = entry.create;
    desc.destroy = entry.destroy;
    desc.forward = entry.forward;
    desc.backward = entry.backward;
    if (entry.backward != nullptr) desc.caps |= PCV_CAP_BACKWARD;
  }
  OpStorage(const OpStorage&) = delete;
  OpStorage& operator=(const OpStorage&) = delete;

  pcv_op_desc desc{};

 private:
  static pcv_arg_spec arg_spec(const OpSpec::Arg& a) {
    pcv_arg_spec s{};
    s.struct_size = sizeof s;
    s.flags = a.flags;
    s.name = a.name.c_str();
    s.doc = a.doc.c_str();
    s.dtypes = a.dtypes.c_str();
    return s;
  }
  OpSpec spec_;
  std::vector<pcv_arg_spec> inputs_, outputs_;
  std::vector<pcv_attr_spec> attrs_;
  std::vector<const pcv_arg_spec*> input_ptrs_, output_ptrs_;
  std::vector<const pcv_attr_spec*> attr_ptrs_;
};

template <class Op>
struct Kernel {
  const pcv_host_api* host;
  const pcv_op_desc& desc;
  ArgNames names;
  Op op;
};

template <class Op>
concept HasBackward = requires(Op& op, BackwardContext& ctx) {
  op.backward(ctx);
};

// The C entry points of one op class.
template <class Op>
struct OpAdapter {
  static const pcv_op_desc& desc() {
    static const OpStorage storage(Op::spec(), entry_points());
    return storage.desc;
  }

  static EntryPoints entry_points() {
    EntryPoints e{&infer_shapes, &create, &destroy, &forward, nullptr};
    if constexpr (HasBackward<Op>) e.backward = &backward;
    return e;
  }

  static pcv_status create(const pcv_host_api* host, const pcv_attrs* attrs, void** kernel) noexcept {
    return guarded(host, [&] {
      const pcv_op_desc& d = desc();
      Attributes a(attrs, d);
      *kernel = new Kernel<Op>{host, d, ArgNames(d), Op(a)};
    });
  }
  static pcv_status destroy(void* kernel) noexcept {
    delete static_cast<Kernel<Op>*>(kernel);
    return PCV_OK;
  }
  static pcv_status infer_shapes(void* kernel, std::uint32_t ni, const pcv_tensor* const* in,
                                 std::uint32_t no, pcv_tensor* const* out) noexcept {
    auto* k = static_cast<Kernel<Op>*>(kernel);
    return guarded(k->host, [&] {
      ShapeContext ctx(k->names, ni, in, no, out);
      k->op.infer_shapes(ctx);
    });
  }
  static pcv_status forward(void* kernel, const pcv_forward_args* args) noexcept {
    auto* k = static_cast<Kernel<Op>*>(kernel);
    return guarded(k->host, [&] {
      ForwardContext ctx(k->host, k->names, *args);
      k->op.forward(ctx);
    });
  }
  static pcv_status backward(void* kernel, const pcv_backward_args* args) noexcept {
    auto* k = static_cast<Kernel<Op>*>(kernel);
    return guarded(k->host, [&] {
      BackwardContext ctx(k->names, *args);
      k->op.backward(ctx);
    });
  }
};

class PluginStorage {
 public:
  PluginStorage(const char* name, const char* version, const char* description,
                std::vector<const pcv_op_desc*> ops)
      : ops_(std::move(ops)) {
    info.struct_size = sizeof info;
    info.abi_major = PCV_ABI_VERSION_MAJOR;
    info.abi_minor = PCV_ABI_VERSION_MINOR;
    info.num_ops = static_cast<std::uint32_t>(ops_.size());
    info.name = name;
    info.version = version;
    info.description = description;
    info.ops = ops_.data();
  }
  PluginStorage(const PluginStorage&) = delete;
  PluginStorage& operator=(const PluginStorage&) = delete;

  pcv_plugin_info info{};

 private:
  std::vector<const pcv_op_desc*> ops_;
};

}  // namespace detail

// The body of pcv_plugin_entry for a plugin made of the op classes Ops.
template <class... Ops>
pcv_status plugin_entry(const pcv_host_api* host, const pcv_plugin_info** info, const char* name,
                        const char* version, const char* description) noexcept {
  if (host == nullptr || info == nullptr) return PCV_ERR_INVALID_ARGUMENT;
  // Frozen across majors: the header of the info struct, so the host can name our version.
  static const pcv_plugin_info version_only{
      static_cast<std::uint32_t>(PCV_SIZE_THROUGH(pcv_plugin_info, abi_minor)),
      PCV_ABI_VERSION_MAJOR,
      PCV_ABI_VERSION_MINOR,
      0,
      nullptr,
      nullptr,
      nullptr,
      nullptr};
  if (host->abi_major != PCV_ABI_VERSION_MAJOR) {
    *info = &version_only;
    return PCV_ERR_VERSION_MISMATCH;
  }
  return guarded(host, [&] {
    static const detail::PluginStorage plugin(name, version, description,
                                              {&detail::OpAdapter<Ops>::desc()...});
    *info = &plugin.info;
  });
}

}  // namespace pcv::sdk

// Defines the plugin's entry point: PCV_PLUGIN("name", "1.2.0", "description", OpA, OpB, ...)
#define PCV_PLUGIN(NAME, VERSION, DESCRIPTION, ...)                                            \
  PCV_EXTERN_C PCV_EXPORT pcv_status pcv_plugin_entry(const pcv_host_api* host,                \
                                                      const pcv_plugin_info** info) noexcept { \
    return ::pcv::sdk::plugin_entry<__VA_ARGS__>(host, info, NAME, VERSION, DESCRIPTION);      \
  }
