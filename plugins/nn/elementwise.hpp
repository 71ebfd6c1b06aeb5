// Elementwise ops of the nn plugin: relu and add (with NumPy broadcasting).
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::nn {

class Relu {
 public:
  static sdk::OpSpec spec();
  explicit Relu(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

class Add {
 public:
  static sdk::OpSpec spec();
  explicit Add(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace pcv::nn
