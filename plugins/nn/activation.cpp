#include "activation.hpp"

namespace pcv::nn {
namespace {
// Below this many elements one thread is faster than starting a team.
constexpr std::int64_t kParallelElements = 32768;
}  // namespace

GeluKind::GeluKind(const sdk::Attributes& a) {
  const std::string approximate = a.get<std::string>("approximate");
  if (approximate != "none" && approximate != "tanh")
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.gelu: attribute 'approximate' is \"", approximate,
              "\", expected \"none\" or \"tanh\"");
  tanh_approximation = approximate == "tanh";
}

template <class Kind>
sdk::OpSpec Activation<Kind>::spec() {
  sdk::OpSpec spec(Kind::name, Kind::doc);
  spec.input("x", "any shape").output("y", "same shape and dtype as x");
  Kind::declare_attrs(spec);
  return spec.caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

template <class Kind>
void Activation<Kind>::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, x.shape());
    const T* px = x.data();
    T* py = y.data();
    const std::int64_t n = x.numel();
    const Kind& kind = kind_;
#pragma omp parallel for num_threads(ctx.num_threads()) if (n > kParallelElements)
    for (std::int64_t i = 0; i < n; ++i) py[i] = kind.value(px[i]);
  });
}

template <class Kind>
void Activation<Kind>::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const T *px = x.data(), *py = y.data(), *pdy = dy.data();
    T* pdx = dx.data();
    const std::int64_t n = x.numel();
    const Kind& kind = kind_;
#pragma omp parallel for num_threads(ctx.num_threads()) if (n > kParallelElements)
    for (std::int64_t i = 0; i < n; ++i) pdx[i] = kind.grad(px[i], py[i], pdy[i]);
  });
}

template class Activation<ReluKind>;
template class Activation<LeakyReluKind>;
template class Activation<GeluKind>;
template class Activation<SigmoidKind>;
template class Activation<TanhKind>;

}  // namespace pcv::nn
