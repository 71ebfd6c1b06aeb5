#include "dropout.hpp"

#include <algorithm>
#include <cstdint>

namespace pcv::nn {
namespace {

constexpr std::int64_t kParallelElements = 32768;

// The SplitMix64 finaliser: a bijection on 64 bits that scrambles every input bit into every
// output bit.
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Hashing the seed first keeps nearby seeds from giving shifted copies of one stream.
std::uint64_t stream_key(std::uint64_t seed) { return mix64(seed ^ 0x6A09E667F3BCC908ULL); }

// A uniform draw in [0, 1) for element `index`: a hash of (key, index) rather than a sequential
// generator, so the mask does not depend on how elements are split among threads.
double uniform_draw(std::uint64_t key, std::uint64_t index) {
  const std::uint64_t bits = mix64(key + (index + 1) * 0x9E3779B97F4A7C15ULL);
  return static_cast<double>(bits >> 11) * 0x1.0p-53;  // the top 53 bits: exact in a double
}

// Training mode with 0 < p: y = x * keep / (1 - p), keep drawn per element.
template <class T>
void drop_elements(const T* x, T* y, std::uint8_t* mask, std::int64_t n, double p, std::uint64_t seed,
                   int threads) {
  // p == 1 drops everything; the scale is then never used (and would be infinite).
  const T scale = p < 1 ? T(1.0 / (1.0 - p)) : T(0);
  const std::uint64_t key = stream_key(seed);
#pragma omp parallel for num_threads(threads) if (n > kParallelElements)
  for (std::int64_t i = 0; i < n; ++i) {
    const bool keep = uniform_draw(key, static_cast<std::uint64_t>(i)) >= p;
    mask[i] = keep ? 1 : 0;
    y[i] = keep ? x[i] * scale : T(0);
  }
}

}  // namespace

sdk::OpSpec Dropout::spec() {
  return sdk::OpSpec("dropout",
                     "Dropout: in training mode each element is kept with probability 1 - p and scaled by "
                     "1 / (1 - p), else zeroed; the mask is drawn from the call's seed. In eval mode y = x.")
      .input("x", "any shape")
      .output("y", "same shape and dtype as x")
      .output("mask", "uint8, shape of x: 1 where the element was kept", "uint8")
      .attr("p", "probability of zeroing an element, in [0, 1]", 0.5)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Dropout::Dropout(const sdk::Attributes& a) : p_(a.get<double>("p")) {
  if (!(p_ >= 0 && p_ <= 1))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.dropout: attribute 'p' = ", p_,
              " is not a probability (expected 0 <= p <= 1)");
}

void Dropout::infer_shapes(sdk::ShapeContext& ctx) const {
  ctx.set_output_like(0, 0);
  ctx.set_output(1, kUInt8, ctx.input_shape(0));
}

void Dropout::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, x.shape());
    auto mask = ctx.output<std::uint8_t>(1, x.shape());
    const std::int64_t n = x.numel();
    if (!ctx.training() || p_ == 0) {
      std::copy(x.data(), x.data() + n, y.data());
      std::fill(mask.data(), mask.data() + n, std::uint8_t{1});
      return;
    }
    drop_elements(x.data(), y.data(), mask.data(), n, p_, ctx.seed(), ctx.num_threads());
  });
}

// dx = dy * mask / (1 - p) in training mode; in eval mode the mask is all ones and dx = dy.
void Dropout::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto mask = ctx.output<std::uint8_t>(1);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const T scale = ctx.training() && p_ > 0 && p_ < 1 ? T(1.0 / (1.0 - p_)) : T(1);
    const std::uint8_t* keep = mask.data();
    const T* g = dy.data();
    T* out = dx.data();
    const std::int64_t n = dx.numel();
#pragma omp parallel for num_threads(ctx.num_threads()) if (n > kParallelElements)
    for (std::int64_t i = 0; i < n; ++i) out[i] = keep[i] != 0 ? g[i] * scale : T(0);
  });
}

}  // namespace pcv::nn
