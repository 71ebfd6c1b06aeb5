#include "elementwise.hpp"

#include <algorithm>

#include "broadcast.hpp"

namespace pcv::nn {

// ------------------------------------------------------------------ relu

sdk::OpSpec Relu::spec() {
  return sdk::OpSpec("relu", "Rectified linear unit: y = max(x, 0), elementwise.")
      .input("x", "any shape")
      .output("y", "same shape and dtype as x")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void Relu::infer_shapes(sdk::ShapeContext& ctx) const { ctx.set_output_like(0, 0); }

void Relu::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, x.shape());
    std::transform(x.data(), x.data() + x.numel(), y.data(), [](T v) { return v > T(0) ? v : T(0); });
  });
}

// dy/dx is 1 where x > 0 and 0 elsewhere (PyTorch's choice at x == 0).
void Relu::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    for (std::int64_t i = 0; i < x.numel(); ++i) dx.data()[i] = x.data()[i] > T(0) ? dy.data()[i] : T(0);
  });
}

// ------------------------------------------------------------------ add

sdk::OpSpec Add::spec() {
  return sdk::OpSpec("add", "Elementwise sum y = a + b, with NumPy broadcasting.")
      .input("a", "any shape")
      .input("b", "a shape that broadcasts with a; same dtype as a")
      .output("y", "the broadcast shape of a and b")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void Add::infer_shapes(sdk::ShapeContext& ctx) const {
  if (!same_dtype(ctx.input_dtype(0), ctx.input_dtype(1)))
    sdk::fail(PCV_ERR_SHAPE, "nn.add: a is ", dtype_name(ctx.input_dtype(0)), " but b is ",
              dtype_name(ctx.input_dtype(1)));
  ctx.set_output(0, ctx.input_dtype(0), broadcast_shape(ctx.input_shape(0), ctx.input_shape(1), "nn.add"));
}

void Add::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    auto y = ctx.output<T>(0, broadcast_shape(a.shape(), b.shape(), "nn.add"));
    const T *pa = a.data(), *pb = b.data();
    T* py = y.data();
    if (a.numel() == y.numel() && b.numel() == y.numel()) {  // no broadcasting: the common case
      for (std::int64_t i = 0; i < y.numel(); ++i) py[i] = pa[i] + pb[i];
      return;
    }
    for_each_broadcast(y.shape(), a.shape(), b.shape(),
                       [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { py[i] = pa[ia] + pb[ib]; });
  });
}

// The gradient of each input is dy summed over the dimensions along which it was broadcast.
void Add::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    T* da = ctx.wants_grad(0) ? ctx.grad_input<T>(0).data() : nullptr;
    T* db = ctx.wants_grad(1) ? ctx.grad_input<T>(1).data() : nullptr;
    if (da) std::fill(da, da + a.numel(), T(0));
    if (db) std::fill(db, db + b.numel(), T(0));
    const T* g = dy.data();
    for_each_broadcast(dy.shape(), a.shape(), b.shape(),
                       [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                         if (da) da[ia] += g[i];
                         if (db) db[ib] += g[i];
                       });
  });
}

}  // namespace pcv::nn
