#include "dense.hpp"

#include <algorithm>
#include <vector>

#include "broadcast.hpp"
#include "kernels/blas.hpp"
#include "kernels/op_checks.hpp"

namespace pcv::nn {
namespace {

void require_same_dtype(const sdk::ShapeContext& ctx, std::size_t i, std::size_t j, std::string_view op) {
  if (!same_dtype(ctx.input_dtype(i), ctx.input_dtype(j)))
    sdk::fail(PCV_ERR_SHAPE, op, ": ", ctx.names().input(j), " is ", dtype_name(ctx.input_dtype(j)), " but ",
              ctx.names().input(i), " is ", dtype_name(ctx.input_dtype(i)));
}

// ------------------------------------------------------------------ linear

struct LinearSizes {
  std::int64_t rows, in, out;  // x viewed as [rows, in]
  sdk::Shape y_shape;
};

LinearSizes linear_sizes(std::span<const std::int64_t> x, std::span<const std::int64_t> weight,
                         const std::int64_t* bias_size) {
  if (x.empty()) sdk::fail(PCV_ERR_SHAPE, "nn.linear: input 'x' is 0-d, expected [*, in]");
  if (weight.size() != 2)
    sdk::fail(PCV_ERR_SHAPE, "nn.linear: input 'weight' has ", weight.size(),
              " dims, expected 2 ([out, in])");
  if (x.back() != weight[1])
    sdk::fail(PCV_ERR_SHAPE, "nn.linear: input 'x' ", sdk::shape_string(x), " has ", x.back(),
              " features but 'weight' ", sdk::shape_string(weight), " expects ", weight[1]);
  if (bias_size != nullptr && *bias_size != weight[0])
    sdk::fail(PCV_ERR_SHAPE, "nn.linear: input 'bias' must be [", weight[0], "] to match 'weight' ",
              sdk::shape_string(weight));
  LinearSizes s;
  s.in = weight[1];
  s.out = weight[0];
  s.y_shape.assign(x.begin(), x.end());
  s.y_shape.back() = s.out;
  s.rows = sdk::numel(x.first(x.size() - 1));
  return s;
}

const std::int64_t* bias_length(std::span<const std::int64_t> bias) {
  if (bias.size() != 1)
    sdk::fail(PCV_ERR_SHAPE, "nn.linear: input 'bias' has ", bias.size(), " dims, expected 1");
  return bias.data();
}

// ------------------------------------------------------------------ matmul

// torch.matmul on shapes: a [*A, m, k] (or [k]) times b [*B, k, n] (or [k]) gives
// [broadcast(A, B), m, n] with the dimension of a 1-D operand dropped.
struct MatmulPlan {
  std::int64_t m, k, n;
  std::int64_t batches;                  // product of the broadcast batch dims
  std::int64_t a_batches, b_batches;     // product of each operand's own batch dims
  std::vector<std::int64_t> a_of, b_of;  // for each output batch, the operand's batch index
  sdk::Shape y_shape;
};

// Row-major index of every element of `out`, mapped to the index of the same element in a
// broadcast input of shape `in` (aligned at the end).
std::vector<std::int64_t> broadcast_indices(const sdk::Shape& in, const sdk::Shape& out) {
  std::vector<std::int64_t> index;
  index.reserve(static_cast<std::size_t>(sdk::numel(out)));
  const sdk::Shape dummy(out.size(), 1);  // for_each_broadcast walks two inputs; the second is unused
  for_each_broadcast(out, in, dummy, [&](std::int64_t, std::int64_t i, std::int64_t) { index.push_back(i); });
  return index;
}

MatmulPlan plan_matmul(std::span<const std::int64_t> a, std::span<const std::int64_t> b) {
  if (a.empty() || b.empty())
    sdk::fail(PCV_ERR_SHAPE, "nn.matmul: both operands need at least 1 dim; got ", sdk::shape_string(a),
              " and ", sdk::shape_string(b));
  MatmulPlan p;
  const bool a_vector = a.size() == 1, b_vector = b.size() == 1;
  p.m = a_vector ? 1 : a[a.size() - 2];
  p.k = a.back();
  const std::int64_t b_k = b_vector ? b[0] : b[b.size() - 2];
  p.n = b_vector ? 1 : b.back();
  if (p.k != b_k)
    sdk::fail(PCV_ERR_SHAPE, "nn.matmul: cannot multiply ", sdk::shape_string(a), " by ",
              sdk::shape_string(b), ": ", p.k, " columns of 'a' vs ", b_k, " rows of 'b'");
  const sdk::Shape a_batch(a.begin(), a.end() - std::min<std::size_t>(a.size(), 2));
  const sdk::Shape b_batch(b.begin(), b.end() - std::min<std::size_t>(b.size(), 2));
  const sdk::Shape batch = broadcast_shape(a_batch, b_batch, "nn.matmul: batch dimensions");
  p.batches = sdk::numel(batch);
  p.a_batches = sdk::numel(a_batch);
  p.b_batches = sdk::numel(b_batch);
  p.a_of = broadcast_indices(a_batch, batch);
  p.b_of = broadcast_indices(b_batch, batch);
  p.y_shape = batch;
  if (!a_vector) p.y_shape.push_back(p.m);
  if (!b_vector) p.y_shape.push_back(p.n);
  return p;
}

// When b has no batch dims, a's batches stack into one tall matrix: one GEMM instead of many.
bool folds_into_one_gemm(const MatmulPlan& p) { return p.b_batches == 1; }

}  // namespace

// ------------------------------------------------------------------ Linear

sdk::OpSpec Linear::spec() {
  return sdk::OpSpec("linear", "y = x · weightᵀ + bias (F.linear)")
      .input("x", "[*, in]")
      .input("weight", "[out, in]")
      .optional_input("bias", "[out]")
      .output("y", "[*, out]")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void Linear::infer_shapes(sdk::ShapeContext& ctx) const {
  require_same_dtype(ctx, 0, 1, "nn.linear");
  const std::int64_t* bias = nullptr;
  if (ctx.has_input(2)) {
    require_same_dtype(ctx, 0, 2, "nn.linear");
    bias = bias_length(ctx.input_shape(2));
  }
  ctx.set_output(0, ctx.input_dtype(0), linear_sizes(ctx.input_shape(0), ctx.input_shape(1), bias).y_shape);
}

void Linear::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    const bool has_bias = ctx.has_input(2);
    const std::int64_t* bias_size = has_bias ? bias_length(sdk::shape_of(ctx.raw_input(2))) : nullptr;
    const LinearSizes s = linear_sizes(x.shape(), w.shape(), bias_size);
    auto y = ctx.output<T>(0, s.y_shape);
    T* py = y.data();
    // Start every row at the bias, then accumulate the product on top. One thread: an OpenMP
    // team here would still be spinning, waiting for work, while OpenBLAS's own threads run the
    // GEMM on the same cores (and OpenBLAS's idle threads would slow this copy down likewise).
    if (has_bias) {
      const T* b = ctx.input<T>(2).data();
      for (std::int64_t r = 0; r < s.rows; ++r) std::copy(b, b + s.out, py + r * s.out);
    }
    kernels::blas::gemm_parallel<T>(ctx.num_threads(), false, true, s.rows, s.out, s.in, T(1), x.data(), s.in,
                                    w.data(), s.in, has_bias ? T(1) : T(0), py, s.out);
  });
}

void Linear::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto x = ctx.input<T>(0);
    auto w = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    const LinearSizes s = linear_sizes(x.shape(), w.shape(), nullptr);
    kernels::require_gradient_shape(dy.shape(), s.y_shape, "nn.linear");
    if (ctx.wants_grad(0))  // dx = dy · W
      kernels::blas::gemm_parallel<T>(ctx.num_threads(), false, false, s.rows, s.in, s.out, T(1), dy.data(),
                                      s.out, w.data(), s.in, T(0), ctx.grad_input<T>(0).data(), s.in);
    if (ctx.wants_grad(1))  // dW = dyᵀ · x
      kernels::blas::gemm_parallel<T>(ctx.num_threads(), true, false, s.out, s.in, s.rows, T(1), dy.data(),
                                      s.out, x.data(), s.in, T(0), ctx.grad_input<T>(1).data(), s.in);
    if (ctx.has_input(2) && ctx.wants_grad(2)) {  // db = dyᵀ · 1
      const std::vector<T> ones(static_cast<std::size_t>(s.rows), T(1));
      kernels::blas::gemv<T>(true, s.rows, s.out, T(1), dy.data(), s.out, ones.data(), T(0),
                             ctx.grad_input<T>(2).data());
    }
  });
}

// ------------------------------------------------------------------ Matmul

sdk::OpSpec Matmul::spec() {
  return sdk::OpSpec("matmul",
                     "Matrix product with torch.matmul semantics (1-D operands, broadcast batch dims)")
      .input("a", "[*A, m, k] or [k]")
      .input("b", "[*B, k, n] or [k]; same dtype as a")
      .output("y", "[broadcast(A, B), m, n], without the dims of 1-D operands")
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

void Matmul::infer_shapes(sdk::ShapeContext& ctx) const {
  require_same_dtype(ctx, 0, 1, "nn.matmul");
  ctx.set_output(0, ctx.input_dtype(0), plan_matmul(ctx.input_shape(0), ctx.input_shape(1)).y_shape);
}

void Matmul::forward(sdk::ForwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    const MatmulPlan p = plan_matmul(a.shape(), b.shape());
    auto y = ctx.output<T>(0, p.y_shape);
    kernels::blas::use_threads(ctx.num_threads());
    if (folds_into_one_gemm(p)) {
      kernels::blas::gemm<T>(false, false, p.batches * p.m, p.n, p.k, T(1), a.data(), p.k, b.data(), p.n,
                             T(0), y.data(), p.n);
      return;
    }
    for (std::int64_t i = 0; i < p.batches; ++i)
      kernels::blas::gemm<T>(false, false, p.m, p.n, p.k, T(1), a.data() + p.a_of[i] * p.m * p.k, p.k,
                             b.data() + p.b_of[i] * p.k * p.n, p.n, T(0), y.data() + i * p.m * p.n, p.n);
  });
}

// dA_i = dY_i · B_iᵀ and dB_i = A_iᵀ · dY_i, summed over the output batches that share an
// operand batch (broadcasting), in batch order.
void Matmul::backward(sdk::BackwardContext& ctx) const {
  sdk::dispatch_float(ctx.raw_input(0).dtype, ctx.names().input(0), [&](auto zero) {
    using T = decltype(zero);
    auto a = ctx.input<T>(0);
    auto b = ctx.input<T>(1);
    auto dy = ctx.grad_output<T>(0);
    const MatmulPlan p = plan_matmul(a.shape(), b.shape());
    kernels::require_gradient_shape(dy.shape(), p.y_shape, "nn.matmul");
    const T *pa = a.data(), *pb = b.data(), *g = dy.data();
    const std::int64_t a_size = p.m * p.k, b_size = p.k * p.n, y_size = p.m * p.n;
    kernels::blas::use_threads(ctx.num_threads());
    if (ctx.wants_grad(0)) {
      T* da = ctx.grad_input<T>(0).data();
      if (folds_into_one_gemm(p)) {
        kernels::blas::gemm<T>(false, true, p.batches * p.m, p.k, p.n, T(1), g, p.n, pb, p.n, T(0), da, p.k);
      } else {
        std::fill(da, da + p.a_batches * a_size, T(0));
        for (std::int64_t i = 0; i < p.batches; ++i)
          kernels::blas::gemm<T>(false, true, p.m, p.k, p.n, T(1), g + i * y_size, p.n,
                                 pb + p.b_of[i] * b_size, p.n, T(1), da + p.a_of[i] * a_size, p.k);
      }
    }
    if (ctx.wants_grad(1)) {
      T* db = ctx.grad_input<T>(1).data();
      if (folds_into_one_gemm(p)) {
        kernels::blas::gemm<T>(true, false, p.k, p.n, p.batches * p.m, T(1), pa, p.k, g, p.n, T(0), db, p.n);
      } else {
        std::fill(db, db + p.b_batches * b_size, T(0));
        for (std::int64_t i = 0; i < p.batches; ++i)
          kernels::blas::gemm<T>(true, false, p.k, p.n, p.m, T(1), pa + p.a_of[i] * a_size, p.k,
                                 g + i * y_size, p.n, T(1), db + p.b_of[i] * b_size, p.n);
      }
    }
  });
}

}  // namespace pcv::nn
