// Elementwise activations of the nn plugin: relu, leaky_relu, gelu, sigmoid and tanh.
#pragma once

#include <pcv/sdk.hpp>

#include <cmath>
#include <string>

namespace pcv::nn {

// y = f(x), elementwise. Kind supplies name, doc, declare_attrs(spec), a constructor from the
// attributes, value(x) and grad(x, y, dy) = dy * f'(x).
template <class Kind>
class Activation {
 public:
  static sdk::OpSpec spec();
  explicit Activation(const sdk::Attributes& a) : kind_(a) {}
  void infer_shapes(sdk::ShapeContext& ctx) const { ctx.set_output_like(0, 0); }
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  Kind kind_;
};

struct ReluKind {
  static constexpr const char* name = "relu";
  static constexpr const char* doc = "Rectified linear unit: y = max(x, 0), elementwise.";
  static void declare_attrs(sdk::OpSpec&) {}
  explicit ReluKind(const sdk::Attributes&) {}
  // `x <= 0` is false for NaN, which so passes through, as in PyTorch.
  template <class T>
  T value(T x) const {
    return x <= T(0) ? T(0) : x;
  }
  // At exactly 0 the gradient is that of the negative side (PyTorch's choice).
  template <class T>
  T grad(T x, T /*y*/, T dy) const {
    return x > T(0) ? dy : T(0);
  }
};

struct LeakyReluKind {
  static constexpr const char* name = "leaky_relu";
  static constexpr const char* doc = "Leaky rectified linear unit: y = x if x > 0, else negative_slope * x.";
  static void declare_attrs(sdk::OpSpec& spec) { spec.attr("negative_slope", "the slope for x <= 0", 0.01); }
  explicit LeakyReluKind(const sdk::Attributes& a) : slope(a.get<double>("negative_slope")) {}
  template <class T>
  T value(T x) const {
    return x > T(0) ? x : x * T(slope);
  }
  template <class T>
  T grad(T x, T /*y*/, T dy) const {
    return x > T(0) ? dy : dy * T(slope);
  }
  double slope;
};

struct GeluKind {
  static constexpr const char* name = "gelu";
  static constexpr const char* doc =
      "Gaussian error linear unit: y = x * Phi(x) with the normal CDF Phi (approximate \"none\"), "
      "or its tanh approximation (approximate \"tanh\").";
  static void declare_attrs(sdk::OpSpec& spec) {
    spec.attr("approximate", "\"none\" (exact, with erf) or \"tanh\"", "none");
  }
  explicit GeluKind(const sdk::Attributes& a);

  template <class T>
  T value(T x) const {
    if (tanh_approximation) return T(0.5) * x * (T(1) + std::tanh(tanh_argument(x)));
    return T(0.5) * x * (T(1) + std::erf(x * T(kSqrtHalf)));
  }
  template <class T>
  T grad(T x, T /*y*/, T dy) const {
    if (tanh_approximation) {
      const T t = std::tanh(tanh_argument(x));
      const T d_argument = T(kSqrt2OverPi) * (T(1) + T(3 * kCubic) * x * x);
      return dy * (T(0.5) * (T(1) + t) + T(0.5) * x * (T(1) - t * t) * d_argument);
    }
    const T cdf = T(0.5) * (T(1) + std::erf(x * T(kSqrtHalf)));
    const T pdf = T(kInvSqrt2Pi) * std::exp(T(-0.5) * x * x);
    return dy * (cdf + x * pdf);
  }

  static constexpr double kSqrtHalf = 0.70710678118654752440;
  static constexpr double kInvSqrt2Pi = 0.39894228040143267794;
  static constexpr double kSqrt2OverPi = 0.79788456080286535588;
  static constexpr double kCubic = 0.044715;
  bool tanh_approximation = false;

 private:
  template <class T>
  static T tanh_argument(T x) {
    return T(kSqrt2OverPi) * (x + T(kCubic) * x * x * x);
  }
};

struct SigmoidKind {
  static constexpr const char* name = "sigmoid";
  static constexpr const char* doc = "Logistic sigmoid: y = 1 / (1 + exp(-x)), elementwise.";
  static void declare_attrs(sdk::OpSpec&) {}
  explicit SigmoidKind(const sdk::Attributes&) {}
  template <class T>
  T value(T x) const {
    return T(1) / (T(1) + std::exp(-x));
  }
  template <class T>
  T grad(T /*x*/, T y, T dy) const {
    return dy * y * (T(1) - y);
  }
};

struct TanhKind {
  static constexpr const char* name = "tanh";
  static constexpr const char* doc = "Hyperbolic tangent, elementwise.";
  static void declare_attrs(sdk::OpSpec&) {}
  explicit TanhKind(const sdk::Attributes&) {}
  template <class T>
  T value(T x) const {
    return std::tanh(x);
  }
  template <class T>
  T grad(T /*x*/, T y, T dy) const {
    return dy * (T(1) - y * y);
  }
};

using Relu = Activation<ReluKind>;
using LeakyRelu = Activation<LeakyReluKind>;
using Gelu = Activation<GeluKind>;
using Sigmoid = Activation<SigmoidKind>;
using Tanh = Activation<TanhKind>;

}  // namespace pcv::nn
