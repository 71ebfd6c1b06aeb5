#include "runtime/tensor_math.hpp"

#include <pcv/error.hpp>

namespace pcv::detail {
namespace {

template <class F>
void with_float_type(const Tensor& a, const Tensor& b, F&& f) {
  if (a.shape() != b.shape() || !same_dtype(a.dtype(), b.dtype()))
    throw Error("cannot add " + dtype_name(b.dtype()) + shape_string(b.shape()) + " to " +
                    dtype_name(a.dtype()) + shape_string(a.shape()),
                PCV_ERR_SHAPE);
  if (same_dtype(a.dtype(), kFloat32))
    f(float{});
  else if (same_dtype(a.dtype(), kFloat64))
    f(double{});
  else
    throw Error("cannot add tensors of dtype " + dtype_name(a.dtype()), PCV_ERR_NOT_SUPPORTED);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = a.clone();
  add_into(out, b);
  return out;
}

void add_into(Tensor& a, const Tensor& b) {
  with_float_type(a, b, [&](auto zero) {
    using T = decltype(zero);
    T* pa = a.data<T>();
    const T* pb = b.data<T>();
    for (std::int64_t i = 0; i < a.numel(); ++i) pa[i] += pb[i];
  });
}

}  // namespace pcv::detail
