// Shape ops of the nn plugin: concat, reshape, flatten, permute, transpose and narrow.
//
// The plugin ABI has no views, so every op copies into a fresh output; backward is the inverse
// copy. Forward only moves bytes and accepts integer tensors too; backward is float only.
#pragma once

#include <pcv/sdk.hpp>

#include <cstdint>
#include <vector>

namespace pcv::nn {

// torch.cat: y = the inputs joined along `dim`.
class Concat {
 public:
  static sdk::OpSpec spec();
  explicit Concat(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t dim_;
};

// torch.reshape: the same elements in row-major order with another shape (one -1 allowed).
class Reshape {
 public:
  static sdk::OpSpec spec();
  explicit Reshape(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::vector<std::int64_t> shape_;
};

// nn.Flatten: dims start_dim..end_dim merged into one.
class Flatten {
 public:
  static sdk::OpSpec spec();
  explicit Flatten(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t start_dim_, end_dim_;
};

// torch.permute: y's dim k is x's dim dims[k].
class Permute {
 public:
  static sdk::OpSpec spec();
  explicit Permute(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::vector<std::int64_t> dims_;
};

// torch.transpose: dims dim0 and dim1 swapped.
class Transpose {
 public:
  static sdk::OpSpec spec();
  explicit Transpose(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t dim0_, dim1_;
};

// torch.narrow: x[..., start:start+length, ...] along `dim` (a copy); backward scatters the
// gradient into zeros of x's shape.
class Narrow {
 public:
  static sdk::OpSpec spec();
  explicit Narrow(const sdk::Attributes& a);
  void infer_shapes(sdk::ShapeContext& ctx) const;
  void forward(sdk::ForwardContext& ctx) const;
  void backward(sdk::BackwardContext& ctx) const;

 private:
  std::int64_t dim_, start_, length_;
};

}  // namespace pcv::nn
