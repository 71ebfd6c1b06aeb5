#include "shape_ops.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace pcv::nn {
namespace {

using Dims = std::span<const std::int64_t>;
using sdk::Shape;

// Forward only moves bytes, so integer tensors (indices, masks, labels) are fine too.
constexpr const char* kMovableDtypes = "float32|float64|int64|int32|uint8";
// Below this many elements a copy is not worth waking other threads for.
constexpr std::int64_t kParallelElements = std::int64_t{1} << 15;

// Calls f(T{}) with the C++ type of every dtype the shape ops move.
template <class What, class F>
void dispatch_movable(pcv_dtype dtype, const What& what, F&& f) {
  if (same_dtype(dtype, kFloat32)) return f(float{});
  if (same_dtype(dtype, kFloat64)) return f(double{});
  if (same_dtype(dtype, kInt64)) return f(std::int64_t{});
  if (same_dtype(dtype, kInt32)) return f(std::int32_t{});
  if (same_dtype(dtype, kUInt8)) return f(std::uint8_t{});
  sdk::fail(PCV_ERR_NOT_SUPPORTED, what, " has dtype ", dtype_name(dtype),
            "; supported: float32, float64, int64, int32, uint8");
}

template <class What>
void check_movable(pcv_dtype dtype, const What& what) {
  dispatch_movable(dtype, what, [](auto) {});
}

// `dim` in [-rank, rank) as an index in [0, rank). A 0-d tensor takes dims as if it had one
// dim when scalar_as_1d is set, like PyTorch's flatten, transpose and softmax.
std::int64_t normalize_dim(std::int64_t dim, std::int64_t rank, std::string_view op, std::string_view attr,
                           bool scalar_as_1d = false) {
  const std::int64_t range = scalar_as_1d ? std::max<std::int64_t>(rank, 1) : rank;
  if (dim < -range || dim >= range)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, op, ": ", attr, " = ", dim, " is out of range for a tensor with ",
              rank, " dims (expected a value in [", -range, ", ", range - 1, "])");
  return dim < 0 ? dim + range : dim;
}

// Copies `rows` rows of `width` elements from src to dst, rows src_stride and dst_stride apart.
// Long rows are split into pieces so that even one big row is copied by several threads.
template <class T>
void copy_rows(const T* src, std::int64_t src_stride, T* dst, std::int64_t dst_stride, std::int64_t rows,
               std::int64_t width, int threads) {
  if (rows == 0 || width == 0) return;
  constexpr std::int64_t kPiece = std::int64_t{1} << 14;
  const std::int64_t pieces = (width + kPiece - 1) / kPiece;
  const std::int64_t tasks = rows * pieces;
#pragma omp parallel for num_threads(threads) if (rows * width > kParallelElements)
  for (std::int64_t task = 0; task < tasks; ++task) {
    const std::int64_t row = task / pieces, begin = (task % pieces) * kPiece;
    const std::int64_t count = std::min(kPiece, width - begin);
    std::memcpy(dst + row * dst_stride + begin, src + row * src_stride + begin,
                static_cast<std::size_t>(count) * sizeof(T));
  }
}

// ------------------------------------------------------------------ permutations

struct StridedDim {
  std::int64_t size, stride;  // stride in elements of the source tensor
};

// The dims of x.permute(perm) in output order with their strides in x; size-1 dims are dropped
// and dims that stay adjacent in x are merged, so the innermost copy loop is as long as it can be.
std::vector<StridedDim> permuted_layout(Dims shape, Dims perm) {
  std::vector<std::int64_t> strides(shape.size());
  std::int64_t stride = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i];
  }
  std::vector<StridedDim> dims;
  for (const std::int64_t p : perm) {
    const StridedDim d{shape[p], strides[p]};
    if (d.size == 1) continue;
    if (!dims.empty() && dims.back().stride == d.size * d.stride)
      dims.back() = {dims.back().size * d.size, d.stride};
    else
      dims.push_back(d);
  }
  return dims;
}

// y = x.permute(perm), written in y's row-major order; each thread writes whole rows of y.
template <class T>
void permute_copy(const T* x, Dims shape, Dims perm, T* y, int threads) {
  const std::int64_t total = numel(shape);
  if (total == 0) return;
  const std::vector<StridedDim> dims = permuted_layout(shape, perm);
  if (dims.empty() || (dims.size() == 1 && dims[0].stride == 1)) {  // the order is unchanged
    copy_rows(x, 0, y, 0, 1, total, threads);
    return;
  }
  const StridedDim inner = dims.back();
  const std::int64_t rows = total / inner.size;
  const std::int64_t outer_dims = static_cast<std::int64_t>(dims.size()) - 1;
#pragma omp parallel for num_threads(threads) if (total > kParallelElements)
  for (std::int64_t row = 0; row < rows; ++row) {
    std::int64_t offset = 0, rest = row;
    for (std::int64_t k = outer_dims - 1; k >= 0; --k) {
      offset += (rest % dims[k].size) * dims[k].stride;
      rest /= dims[k].size;
    }
    const T* from = x + offset;
    T* to = y + row * inner.size;
    if (inner.stride == 1)
      std::copy(from, from + inner.size, to);
    else
      for (std::int64_t j = 0; j < inner.size; ++j) to[j] = from[j * inner.stride];
  }
}

Shape permuted_shape(Dims shape, Dims perm) {
  Shape out;
  for (const std::int64_t p : perm) out.push_back(shape[p]);
  return out;
}

std::vector<std::int64_t> inverse_permutation(Dims perm) {
  std::vector<std::int64_t> inverse(perm.size());
  for (std::size_t k = 0; k < perm.size(); ++k) inverse[perm[k]] = static_cast<std::int64_t>(k);
  return inverse;
}

void forward_permuted(sdk::ForwardContext& ctx, Dims perm) {
  dispatch_movable(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, permuted_shape(x.shape(), perm));
    permute_copy(x.data(), x.shape(), perm, y.data(), ctx.num_threads());
  });
}

// dx = dy permuted back.
void backward_permuted(sdk::BackwardContext& ctx, Dims perm) {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    const std::vector<std::int64_t> inverse = inverse_permutation(perm);
    permute_copy(dy.data(), dy.shape(), inverse, dx.data(), ctx.num_threads());
  });
}

// ------------------------------------------------------------------ same elements, new shape

void forward_same_elements(sdk::ForwardContext& ctx, const Shape& out_shape) {
  dispatch_movable(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, out_shape);
    copy_rows(x.data(), 0, y.data(), 0, 1, x.numel(), ctx.num_threads());
  });
}

void backward_same_elements(sdk::BackwardContext& ctx) {
  if (!ctx.wants_grad(0)) return;
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    if (dy.numel() != dx.numel())
      sdk::fail(PCV_ERR_SHAPE, ctx.names().desc().name, ": output gradient has ", dy.numel(),
                " elements but the input has ", dx.numel());
    copy_rows(dy.data(), 0, dx.data(), 0, 1, dx.numel(), ctx.num_threads());
  });
}

// ------------------------------------------------------------------ concat

// The shape of the inputs joined along dim; checks that they can be joined.
Shape concatenated_shape(const std::vector<Dims>& shapes, const std::vector<pcv_dtype>& dtypes,
                         std::int64_t dim) {
  if (shapes.empty()) sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.concat: needs at least one input");
  check_movable(dtypes[0], "nn.concat: input #0");
  const Dims first = shapes[0];
  const auto rank = static_cast<std::int64_t>(first.size());
  if (rank == 0)
    sdk::fail(PCV_ERR_SHAPE, "nn.concat: input #0 is 0-d; only tensors with at least one dim can be joined");
  const std::int64_t d = normalize_dim(dim, rank, "nn.concat", "dim");
  Shape out(first.begin(), first.end());
  for (std::size_t i = 1; i < shapes.size(); ++i) {
    if (!same_dtype(dtypes[i], dtypes[0]))
      sdk::fail(PCV_ERR_SHAPE, "nn.concat: input #", i, " has dtype ", dtype_name(dtypes[i]),
                ", but input #0 has ", dtype_name(dtypes[0]));
    const Dims shape = shapes[i];
    if (static_cast<std::int64_t>(shape.size()) != rank)
      sdk::fail(PCV_ERR_SHAPE, "nn.concat: input #", i, " has ", shape.size(), " dims ", shape_string(shape),
                ", but input #0 has ", rank, " dims ", shape_string(first));
    for (std::int64_t k = 0; k < rank; ++k)
      if (k != d && shape[k] != first[k])
        sdk::fail(PCV_ERR_SHAPE, "nn.concat: input #", i, " has shape ", shape_string(shape),
                  " but input #0 has ", shape_string(first), "; sizes must match in every dim except dim ", d,
                  " (dim ", k, " differs)");
    out[d] += shape[d];
  }
  return out;
}

// How each input's rows sit in the output: the output is `outer` rows of `row` elements, and
// input i fills `widths[i]` elements of each row starting at `offsets[i]`.
struct ConcatLayout {
  std::int64_t outer = 1, row = 0;
  std::vector<std::int64_t> widths, offsets;
};

ConcatLayout concat_layout(const std::vector<Dims>& shapes, std::int64_t dim) {
  ConcatLayout layout;
  const Dims first = shapes[0];
  const std::int64_t d = normalize_dim(dim, static_cast<std::int64_t>(first.size()), "nn.concat", "dim");
  for (std::int64_t k = 0; k < d; ++k) layout.outer *= first[k];
  for (const Dims shape : shapes) {
    std::int64_t width = 1;
    for (std::size_t k = static_cast<std::size_t>(d); k < shape.size(); ++k) width *= shape[k];
    layout.offsets.push_back(layout.row);
    layout.widths.push_back(width);
    layout.row += width;
  }
  return layout;
}

template <class Context>
std::vector<Dims> input_shapes(const Context& ctx) {
  std::vector<Dims> shapes;
  for (std::size_t i = 0; i < ctx.num_inputs(); ++i) shapes.push_back(sdk::shape_of(ctx.raw_input(i)));
  return shapes;
}

// The attribute list as a permutation of 0..rank-1, negative entries counted from the end.
std::vector<std::int64_t> normalized_permutation(Dims dims, Dims shape) {
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (static_cast<std::int64_t>(dims.size()) != rank)
    sdk::fail(PCV_ERR_SHAPE, "nn.permute: dims ", shape_string(dims), " has ", dims.size(),
              " entries but x has ", rank, " dims ", shape_string(shape));
  std::vector<std::int64_t> perm;
  std::vector<bool> seen(static_cast<std::size_t>(rank), false);
  for (const std::int64_t dim : dims) {
    const std::int64_t d = normalize_dim(dim, rank, "nn.permute", "an entry of dims");
    if (seen[d])
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.permute: dims ", shape_string(dims), " names dim ", d,
                " twice; it must be a permutation of 0..", rank - 1);
    seen[d] = true;
    perm.push_back(d);
  }
  return perm;
}

// The permutation that swaps dim0 and dim1 (empty for a 0-d tensor).
std::vector<std::int64_t> transposition(std::int64_t dim0, std::int64_t dim1, std::int64_t rank) {
  const std::int64_t a = normalize_dim(dim0, rank, "nn.transpose", "dim0", true);
  const std::int64_t b = normalize_dim(dim1, rank, "nn.transpose", "dim1", true);
  std::vector<std::int64_t> perm(static_cast<std::size_t>(rank));
  for (std::int64_t k = 0; k < rank; ++k) perm[k] = k;
  if (rank > 0) std::swap(perm[a], perm[b]);
  return perm;
}

// x's shape after merging dims start..end (negative counting from the end).
Shape flattened_shape(Dims shape, std::int64_t start_dim, std::int64_t end_dim) {
  const auto rank = static_cast<std::int64_t>(shape.size());
  const std::int64_t start = normalize_dim(start_dim, rank, "nn.flatten", "start_dim", true);
  const std::int64_t end = normalize_dim(end_dim, rank, "nn.flatten", "end_dim", true);
  if (start > end)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
              " for a tensor with ", rank, " dims");
  if (rank == 0) return {1};
  Shape out(shape.begin(), shape.begin() + start);
  std::int64_t merged = 1;
  for (std::int64_t k = start; k <= end; ++k) merged *= shape[k];
  out.push_back(merged);
  out.insert(out.end(), shape.begin() + end + 1, shape.end());
  return out;
}

// The requested shape with its -1 resolved so that it holds as many elements as x.
Shape resolved_shape(Dims requested, Dims x_shape) {
  const std::int64_t count = numel(x_shape);
  std::int64_t known = 1;
  std::optional<std::size_t> free_dim;
  for (std::size_t k = 0; k < requested.size(); ++k) {
    if (requested[k] == -1)
      free_dim = k;
    else
      known *= requested[k];
  }
  Shape out(requested.begin(), requested.end());
  if (free_dim) {
    if (known == 0)
      sdk::fail(PCV_ERR_SHAPE, "nn.reshape: cannot reshape x of shape ", shape_string(x_shape),
                " into shape ", shape_string(requested), ": the -1 could be any size");
    out[*free_dim] = count / known;
  }
  if (numel(out) != count)
    sdk::fail(PCV_ERR_SHAPE, "nn.reshape: cannot reshape x of shape ", shape_string(x_shape), " (", count,
              " elements) into shape ", shape_string(requested));
  return out;
}

// ------------------------------------------------------------------ narrow

// x as `outer` rows of `size * inner` elements (size: that of the narrowed dim); the slice is
// `length * inner` elements of each row, from element `start * inner` on.
struct NarrowLayout {
  Shape out_shape;
  std::int64_t outer = 1, inner = 1, size = 0, start = 0, length = 0;
  std::int64_t row() const { return size * inner; }
  std::int64_t width() const { return length * inner; }
  std::int64_t offset() const { return start * inner; }
};

// Where x.narrow(dim, start, length) lies in x; checks the attributes against x's shape as
// PyTorch does (start may be size itself when length is 0).
NarrowLayout narrow_layout(Dims shape, std::int64_t dim, std::int64_t start, std::int64_t length) {
  const auto rank = static_cast<std::int64_t>(shape.size());
  if (rank == 0)
    sdk::fail(PCV_ERR_SHAPE, "nn.narrow: x is 0-d; only tensors with at least one dim can be narrowed");
  if (dim < -rank || dim >= rank)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.narrow: dim = ", dim, " is out of range for x of shape ",
              shape_string(shape), " (expected a value in [", -rank, ", ", rank - 1, "])");
  const std::int64_t d = dim < 0 ? dim + rank : dim;
  NarrowLayout l;
  l.size = shape[d];
  if (start < -l.size || start > l.size)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.narrow: start = ", start, " is out of range for dim ", dim,
              " of x of shape ", shape_string(shape), " (expected a value in [", -l.size, ", ", l.size, "])");
  l.start = start < 0 ? start + l.size : start;
  l.length = length;
  if (l.start + length > l.size)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.narrow: start = ", start, " with length = ", length,
              " runs past the end of dim ", dim, " (size ", l.size, ") of x of shape ", shape_string(shape));
  for (std::int64_t k = 0; k < d; ++k) l.outer *= shape[k];
  for (std::int64_t k = d + 1; k < rank; ++k) l.inner *= shape[k];
  l.out_shape.assign(shape.begin(), shape.end());
  l.out_shape[d] = length;
  return l;
}

}  // namespace

// ------------------------------------------------------------------ Concat

sdk::OpSpec Concat::spec() {
  return sdk::OpSpec("concat", "torch.cat: the inputs joined along dim.")
      .variadic_input("x", "one or more tensors of one dtype and rank, equal sizes except along dim",
                      kMovableDtypes)
      .output("y", "the inputs joined; backward is float32/float64 only", kMovableDtypes)
      .attr("dim", "the dim to join along; negative counts from the end", std::int64_t{0})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Concat::Concat(const sdk::Attributes& a) : dim_(a.get<std::int64_t>("dim")) {}

void Concat::infer_shapes(sdk::ShapeContext& ctx) const {
  std::vector<Dims> shapes;
  std::vector<pcv_dtype> dtypes;
  for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
    shapes.push_back(ctx.input_shape(i));
    dtypes.push_back(ctx.input_dtype(i));
  }
  ctx.set_output(0, dtypes.empty() ? kFloat32 : dtypes[0], concatenated_shape(shapes, dtypes, dim_));
}

void Concat::forward(sdk::ForwardContext& ctx) const {
  const std::vector<Dims> shapes = input_shapes(ctx);
  std::vector<pcv_dtype> dtypes;
  for (std::size_t i = 0; i < ctx.num_inputs(); ++i) dtypes.push_back(ctx.raw_input(i).dtype);
  const Shape out_shape = concatenated_shape(shapes, dtypes, dim_);
  const ConcatLayout layout = concat_layout(shapes, dim_);
  dispatch_movable(dtypes[0], ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto y = ctx.output<T>(0, out_shape);
    for (std::size_t i = 0; i < shapes.size(); ++i)
      copy_rows(ctx.input<T>(i).data(), layout.widths[i], y.data() + layout.offsets[i], layout.row,
                layout.outer, layout.widths[i], ctx.num_threads());
  });
}

// Each input's gradient is its slice of dy.
void Concat::backward(sdk::BackwardContext& ctx) const {
  const ConcatLayout layout = concat_layout(input_shapes(ctx), dim_);
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto dy = ctx.grad_output<T>(0);
    if (dy.numel() != layout.outer * layout.row)
      sdk::fail(PCV_ERR_SHAPE, "nn.concat: output gradient ", shape_string(dy.shape()),
                " does not fit the inputs");
    for (std::size_t i = 0; i < ctx.num_inputs(); ++i) {
      if (!ctx.wants_grad(i)) continue;
      copy_rows(dy.data() + layout.offsets[i], layout.row, ctx.grad_input<T>(i).data(), layout.widths[i],
                layout.outer, layout.widths[i], ctx.num_threads());
    }
  });
}

// ------------------------------------------------------------------ Reshape

sdk::OpSpec Reshape::spec() {
  return sdk::OpSpec("reshape", "torch.reshape: the same elements in row-major order with another shape.")
      .input("x", "any shape", kMovableDtypes)
      .output("y", "the requested shape", kMovableDtypes)
      .required_attr<std::vector<std::int64_t>>("shape", "the new shape; one entry may be -1 (inferred)")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Reshape::Reshape(const sdk::Attributes& a) : shape_(a.get<std::vector<std::int64_t>>("shape")) {
  if (std::count(shape_.begin(), shape_.end(), -1) > 1)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.reshape: attribute 'shape' = ", shape_string(shape_),
              " has more than one -1");
  for (const std::int64_t size : shape_)
    if (size < -1)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.reshape: attribute 'shape' = ", shape_string(shape_),
                " has the invalid size ", size);
}

void Reshape::infer_shapes(sdk::ShapeContext& ctx) const {
  check_movable(ctx.input_dtype(0), ctx.names().input(0));
  ctx.set_output(0, ctx.input_dtype(0), resolved_shape(shape_, ctx.input_shape(0)));
}

void Reshape::forward(sdk::ForwardContext& ctx) const {
  forward_same_elements(ctx, resolved_shape(shape_, sdk::shape_of(ctx.raw_input(0))));
}

void Reshape::backward(sdk::BackwardContext& ctx) const { backward_same_elements(ctx); }

// ------------------------------------------------------------------ Flatten

sdk::OpSpec Flatten::spec() {
  return sdk::OpSpec("flatten", "nn.Flatten: dims start_dim..end_dim merged into one.")
      .input("x", "any shape", kMovableDtypes)
      .output("y", "x's shape with dims start_dim..end_dim replaced by their product", kMovableDtypes)
      .attr("start_dim", "first dim to merge; negative counts from the end", std::int64_t{1})
      .attr("end_dim", "last dim to merge; negative counts from the end", std::int64_t{-1})
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Flatten::Flatten(const sdk::Attributes& a)
    : start_dim_(a.get<std::int64_t>("start_dim")), end_dim_(a.get<std::int64_t>("end_dim")) {
  // Only comparable without the rank when both count from the same end.
  if ((start_dim_ < 0) == (end_dim_ < 0) && start_dim_ > end_dim_)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.flatten: start_dim ", start_dim_, " comes after end_dim ",
              end_dim_);
}

void Flatten::infer_shapes(sdk::ShapeContext& ctx) const {
  check_movable(ctx.input_dtype(0), ctx.names().input(0));
  ctx.set_output(0, ctx.input_dtype(0), flattened_shape(ctx.input_shape(0), start_dim_, end_dim_));
}

void Flatten::forward(sdk::ForwardContext& ctx) const {
  forward_same_elements(ctx, flattened_shape(sdk::shape_of(ctx.raw_input(0)), start_dim_, end_dim_));
}

void Flatten::backward(sdk::BackwardContext& ctx) const { backward_same_elements(ctx); }

// ------------------------------------------------------------------ Permute

sdk::OpSpec Permute::spec() {
  return sdk::OpSpec("permute", "torch.permute: y's dim k is x's dim dims[k].")
      .input("x", "any shape", kMovableDtypes)
      .output("y", "x's dims reordered", kMovableDtypes)
      .required_attr<std::vector<std::int64_t>>(
          "dims", "a permutation of 0..ndim-1; negative entries count from the end")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Permute::Permute(const sdk::Attributes& a) : dims_(a.get<std::vector<std::int64_t>>("dims")) {
  // The same entry twice is wrong for every rank; -1 and 2 naming one dim is caught with the shape.
  for (std::size_t k = 0; k < dims_.size(); ++k)
    if (std::find(dims_.begin() + k + 1, dims_.end(), dims_[k]) != dims_.end())
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.permute: dims ", shape_string(dims_), " names dim ", dims_[k],
                " twice; it must be a permutation of 0..ndim-1");
}

void Permute::infer_shapes(sdk::ShapeContext& ctx) const {
  check_movable(ctx.input_dtype(0), ctx.names().input(0));
  const Dims shape = ctx.input_shape(0);
  ctx.set_output(0, ctx.input_dtype(0), permuted_shape(shape, normalized_permutation(dims_, shape)));
}

void Permute::forward(sdk::ForwardContext& ctx) const {
  forward_permuted(ctx, normalized_permutation(dims_, sdk::shape_of(ctx.raw_input(0))));
}

void Permute::backward(sdk::BackwardContext& ctx) const {
  backward_permuted(ctx, normalized_permutation(dims_, sdk::shape_of(ctx.raw_input(0))));
}

// ------------------------------------------------------------------ Transpose

sdk::OpSpec Transpose::spec() {
  return sdk::OpSpec("transpose", "torch.transpose: dims dim0 and dim1 swapped.")
      .input("x", "any shape", kMovableDtypes)
      .output("y", "x with dims dim0 and dim1 swapped", kMovableDtypes)
      .required_attr<std::int64_t>("dim0", "a dim to swap; negative counts from the end")
      .required_attr<std::int64_t>("dim1", "the other dim to swap; negative counts from the end")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Transpose::Transpose(const sdk::Attributes& a)
    : dim0_(a.get<std::int64_t>("dim0")), dim1_(a.get<std::int64_t>("dim1")) {}

void Transpose::infer_shapes(sdk::ShapeContext& ctx) const {
  check_movable(ctx.input_dtype(0), ctx.names().input(0));
  const Dims shape = ctx.input_shape(0);
  const auto perm = transposition(dim0_, dim1_, static_cast<std::int64_t>(shape.size()));
  ctx.set_output(0, ctx.input_dtype(0), permuted_shape(shape, perm));
}

void Transpose::forward(sdk::ForwardContext& ctx) const {
  forward_permuted(ctx, transposition(dim0_, dim1_, ctx.raw_input(0).ndim));
}

void Transpose::backward(sdk::BackwardContext& ctx) const {
  backward_permuted(ctx, transposition(dim0_, dim1_, ctx.raw_input(0).ndim));
}

// ------------------------------------------------------------------ Narrow

sdk::OpSpec Narrow::spec() {
  return sdk::OpSpec("narrow",
                     "torch.narrow: the slice x[..., start:start+length, ...] along dim, as a copy.")
      .input("x", "any shape with at least one dim", kMovableDtypes)
      .output("y", "x's shape with size length along dim; backward is float32/float64 only", kMovableDtypes)
      .required_attr<std::int64_t>("dim", "the dim to slice; negative counts from the end")
      .required_attr<std::int64_t>(
          "start", "index of the first entry kept, in [-size, size]; negative counts from the end")
      .required_attr<std::int64_t>("length", "how many entries are kept (>= 0); start + length <= size")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

Narrow::Narrow(const sdk::Attributes& a)
    : dim_(a.get<std::int64_t>("dim")),
      start_(a.get<std::int64_t>("start")),
      length_(a.get<std::int64_t>("length")) {
  if (length_ < 0)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, "nn.narrow: attribute 'length' = ", length_, " must be >= 0");
}

void Narrow::infer_shapes(sdk::ShapeContext& ctx) const {
  check_movable(ctx.input_dtype(0), ctx.names().input(0));
  ctx.set_output(0, ctx.input_dtype(0), narrow_layout(ctx.input_shape(0), dim_, start_, length_).out_shape);
}

// Each of x's outer rows gives one contiguous run of y.
void Narrow::forward(sdk::ForwardContext& ctx) const {
  const NarrowLayout l = narrow_layout(sdk::shape_of(ctx.raw_input(0)), dim_, start_, length_);
  dispatch_movable(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto y = ctx.output<T>(0, l.out_shape);
    copy_rows(x.data() + l.offset(), l.row(), y.data(), l.width(), l.outer, l.width(), ctx.num_threads());
  });
}

// dx is zero outside the slice and dy inside it.
void Narrow::backward(sdk::BackwardContext& ctx) const {
  if (!ctx.wants_grad(0)) return;
  const NarrowLayout l = narrow_layout(sdk::shape_of(ctx.raw_input(0)), dim_, start_, length_);
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto dy = ctx.grad_output<T>(0);
    auto dx = ctx.grad_input<T>(0);
    if (dy.numel() != l.outer * l.width())
      sdk::fail(PCV_ERR_SHAPE, "nn.narrow: output gradient ", shape_string(dy.shape()), " does not match y ",
                shape_string(l.out_shape));
    std::fill(dx.data(), dx.data() + dx.numel(), T(0));
    copy_rows(dy.data(), l.width(), dx.data() + l.offset(), l.row(), l.outer, l.width(), ctx.num_threads());
  });
}

}  // namespace pcv::nn
