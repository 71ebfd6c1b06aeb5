// Dense products of the nn plugin on OpenBLAS: linear (F.linear) and matmul (torch.matmul).
#pragma once

#include <pcv/sdk.hpp>

namespace pcv::nn {

// y = x · weightᵀ + bias, x [*, in], weight [out, in], bias [out] (optional).
class Linear {
 public:
  static sdk::OpSpec spec();
  explicit Linear(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

// torch.matmul: 1-D operands get a dimension added (and removed from the result), leading batch
// dimensions broadcast.
class Matmul {
 public:
  static sdk::OpSpec spec();
  explicit Matmul(const sdk::Attributes&) {}
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;
};

}  // namespace pcv::nn
