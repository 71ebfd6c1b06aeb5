// clamp.cpp - a complete pcv plugin with one op, mylib.clamp.
#include <pcv/sdk.hpp>

#include <algorithm>

class Clamp {
 public:
  static pcv::sdk::OpSpec spec() {
    return pcv::sdk::OpSpec("clamp", "Limits every element to [lo, hi].")
        .input("x", "any shape", "float32")
        .output("y", "same shape as x", "float32")
        .attr("lo", "lower bound", 0.0)
        .attr("hi", "upper bound", 1.0)
        .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
  }

  explicit Clamp(const pcv::sdk::Attributes& attrs)
      : lo_(attrs.get<double>("lo")), hi_(attrs.get<double>("hi")) {
    if (lo_ > hi_) pcv::sdk::fail(PCV_ERR_INVALID_ARGUMENT, "clamp: lo ", lo_, " > hi ", hi_);
  }

  void infer_shapes(pcv::sdk::ShapeContext& ctx) const { ctx.set_output_like(0, 0); }

  void forward(pcv::sdk::ForwardContext& ctx) const {
    auto x = ctx.input<float>(0);
    auto y = ctx.output<float>(0, x.shape());
    const auto lo = static_cast<float>(lo_), hi = static_cast<float>(hi_);
    std::transform(x.data(), x.data() + x.numel(), y.data(), [&](float v) { return std::clamp(v, lo, hi); });
  }

 private:
  double lo_, hi_;
};

PCV_PLUGIN("mylib", "1.0.0", "My first pcv plugin", Clamp)
