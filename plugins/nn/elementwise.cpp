#include "elementwise.hpp"

#include <algorithm>

#include "broadcast.hpp"

namespace pcv::nn {

template <class Kind>
sdk::OpSpec Binary<Kind>::spec() {
  return sdk::OpSpec(Kind::name, Kind::doc)
      .input("a", "any shape")
      .input("b", "a shape that broadcasts with a; same dtype as a")
      .output("y", "the broadcast shape of a and b")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <class Kind>
void Binary<Kind>::infer_shapes(sdk::ShapeContext& ctx) const {
  const std::string what = std::string("nn.") + Kind::name;
  if (!same_dtype(ctx.input_dtype(0), ctx.input_dtype(1)))
    sdk::fail(PCV_ERR_SHAPE, what, ": a is ", dtype_name(ctx.input_dtype(0)), " but b is ",
              dtype_name(ctx.input_dtype(1)));
  ctx.set_output(0, ctx.input_dtype(0), broadcast_shape(ctx.input_shape(0), ctx.input_shape(1), what));
}

template <class Kind>
void Binary<Kind>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    auto y = ctx.output<T>(0);  // infer_shapes gave it the broadcast shape
    const T *pa = a.data(), *pb = b.data();
    T* py = y.data();
    const std::int64_t n = y.numel();
    if (a.numel() == n && b.numel() == n) {  // no broadcasting: the common case
      if (n < 65536) {  // not worth waking threads; and small ops are where dispatch cost shows
        for (std::int64_t i = 0; i < n; ++i) py[i] = Kind::apply(pa[i], pb[i]);
        return;
      }
#pragma omp parallel for num_threads(ctx.num_threads())
      for (std::int64_t i = 0; i < n; ++i) py[i] = Kind::apply(pa[i], pb[i]);
      return;
    }
    for_each_broadcast(
        y.shape(), a.shape(), b.shape(),
        [&](std::int64_t i, std::int64_t ia, std::int64_t ib) { py[i] = Kind::apply(pa[ia], pb[ib]); });
  });
}

// The gradient of each input is its partial derivative times dy, summed over the dimensions
// along which that input was broadcast.
template <class Kind>
void Binary<Kind>::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    T* da = ctx.wants_grad(0) ? ctx.grad_input<T>(0).data() : nullptr;
    T* db = ctx.wants_grad(1) ? ctx.grad_input<T>(1).data() : nullptr;
    if (da) std::fill(da, da + a.numel(), T(0));
    if (db) std::fill(db, db + b.numel(), T(0));
    const T *g = dy.data(), *pa = a.data(), *pb = b.data();
    for_each_broadcast(dy.shape(), a.shape(), b.shape(),
                       [&](std::int64_t i, std::int64_t ia, std::int64_t ib) {
                         if (da) da[ia] += g[i] * Kind::d_da(pa[ia], pb[ib]);
                         if (db) db[ib] += g[i] * Kind::d_db(pa[ia], pb[ib]);
                       });
  });
}

template class Binary<AddKind>;
template class Binary<MulKind>;

}  // namespace pcv::nn
