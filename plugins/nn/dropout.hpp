// nn.dropout: random zeroing in training mode, with the mask as a second output.
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::nn {

class Dropout {
 public:
  static sdk::OpSpec spec();
  explicit Dropout(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  double p_;
};

}  // namespace pcv::nn
