// Binary elementwise ops of the nn plugin, with NumPy broadcasting: add and mul.
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::nn {

// y = a (op) b. Kind supplies name(), doc(), apply(a, b) and the partial derivatives.
template <class Kind>
class Binary {
 public:
  static sdk::OpSpec spec();
  explicit Binary(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

struct AddKind {
  static constexpr const char* name = "add";
  static constexpr const char* doc = "Elementwise sum y = a + b, with NumPy broadcasting.";
  template <class T>
  static T apply(T a, T b) {
    return a + b;
  }
  template <class T>
  static T d_da(T /*a*/, T /*b*/) {
    return T(1);
  }
  template <class T>
  static T d_db(T /*a*/, T /*b*/) {
    return T(1);
  }
};

struct MulKind {
  static constexpr const char* name = "mul";
  static constexpr const char* doc = "Elementwise product y = a * b, with NumPy broadcasting.";
  template <class T>
  static T apply(T a, T b) {
    return a * b;
  }
  template <class T>
  static T d_da(T /*a*/, T b) {
    return b;
  }
  template <class T>
  static T d_db(T a, T /*b*/) {
    return a;
  }
};

using Add = Binary<AddKind>;
using Mul = Binary<MulKind>;

}  // namespace pcv::nn
