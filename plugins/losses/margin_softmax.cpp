#include "margin_softmax.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "kernels/blas.hpp"

namespace pcv::losses {
namespace {

constexpr const char* kOp = "losses.margin_softmax";
enum Input { kX = 0, kWeight = 1, kTarget = 2, kBias = 3, kStep = 4 };

// Classes per block of the backward pass: its scratch is B × kClassBlock, not B × C.
constexpr std::int64_t kClassBlock = 1024;
// Below this many logits one thread is faster.
constexpr std::int64_t kParallelLogits = 1 << 14;

MarginKind parse_kind(const std::string& name) {
  static const std::pair<const char*, MarginKind> kKinds[] = {
      {"softmax", MarginKind::softmax},       {"normface", MarginKind::normface},
      {"sphereface", MarginKind::sphereface}, {"cosface", MarginKind::cosface},
      {"arcface", MarginKind::arcface},       {"combined", MarginKind::combined}};
  for (const auto& [n, k] : kKinds)
    if (name == n) return k;
  sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'loss' = '", name,
            "' is not one of softmax, normface, sphereface, cosface, arcface, combined");
}

// The target logit per unit of scale, f(c), and its slope f'(c), for a clamped cosine c.
struct TargetLogit {
  double value, slope;
};

// T_m(c) = cos(m·θ) and U_{m−1}(c) = sin(m·θ)/sin θ by the Chebyshev recurrences: no acos, and a
// slope that stays finite at c = ±1.
void chebyshev(int m, double c, double& t_m, double& u_m1) {
  double t_prev = 1, t = c, u_prev = 0, u = 1;  // T_0, T_1, U_{-1}, U_0
  for (int n = 1; n < m; ++n) {
    const double t_next = 2 * c * t - t_prev, u_next = 2 * c * u - u_prev;
    t_prev = t, t = t_next, u_prev = u, u = u_next;
  }
  t_m = m == 0 ? 1 : t;
  u_m1 = u;
}

// `slope_floor` bounds 1/sin θ near θ = 0 and π, where the exact slopes of the angular margins
// diverge (the gradient that reaches x is then projected to ~0 anyway, see the README).
TargetLogit target_logit(const MarginOptions& o, double c, double lambda, double min_sin) {
  const double sin_theta = std::max(std::sqrt(std::max(0.0, 1 - c * c)), min_sin);
  switch (o.kind) {
    case MarginKind::softmax:
    case MarginKind::normface:
      return {c, 1};
    case MarginKind::cosface:
      return {c - o.m3, 1};
    case MarginKind::arcface: {
      const double m = o.m2, cos_m = std::cos(m), sin_m = std::sin(m);
      const double value = c * cos_m - std::sqrt(std::max(0.0, 1 - c * c)) * sin_m;  // cos(θ + m)
      const double slope = cos_m + sin_m * c / sin_theta;
      if (o.easy_margin) return c > 0 ? TargetLogit{value, slope} : TargetLogit{c, 1};
      if (o.fallback && !(c > std::cos(std::numbers::pi - m))) return {c - m * sin_m, 1};
      return {value, slope};
    }
    case MarginKind::combined: {
      if (o.m1 == 1 && o.m2 == 0) return {c - o.m3, 1};
      const double angle = o.m1 * std::acos(c) + o.m2;
      return {std::cos(angle) - o.m3, o.m1 * std::sin(angle) / sin_theta};
    }
    case MarginKind::sphereface: {
      const int m = o.sphere_m;
      const double theta = std::acos(c);
      const int k = std::min(m - 1, static_cast<int>(std::floor(m * theta / std::numbers::pi)));
      double t_m, u_m1;
      chebyshev(m, c, t_m, u_m1);
      const double sign = k % 2 == 0 ? 1.0 : -1.0;
      const double psi = sign * t_m - 2.0 * k, psi_slope = sign * m * u_m1;
      return {(lambda * c + psi) / (1 + lambda), (lambda + psi_slope) / (1 + lambda)};
    }
  }
  return {c, 1};
}

bool normalised(const MarginOptions& o) { return o.kind != MarginKind::softmax; }

// Shapes of one call, checked.
struct Sizes {
  std::int64_t batch, dim, classes;
};

Sizes check_shapes(std::span<const std::int64_t> x, std::span<const std::int64_t> w,
                   std::span<const std::int64_t> target, const std::int64_t* bias, bool has_step,
                   const MarginOptions& o) {
  if (x.size() != 2)
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'x' is ", sdk::shape_string(x), ", expected [B, d]");
  if (w.size() != 2 || w[1] != x[1])
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'weight' is ", sdk::shape_string(w), ", expected [C, ", x[1],
              "] (one row per class, the embedding size of x ", sdk::shape_string(x), ")");
  if (w[0] < 1) sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'weight' ", sdk::shape_string(w), " has no classes");
  if (target.size() != 1 || target[0] != x[0])
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'target' is ", sdk::shape_string(target), ", expected [", x[0],
              "]");
  if (bias != nullptr && o.kind != MarginKind::softmax)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": input 'bias' is only used by loss 'softmax'");
  if (bias != nullptr && *bias != w[0])
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'bias' has ", *bias, " entries, expected C = ", w[0]);
  if (has_step && o.kind != MarginKind::sphereface)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp,
              ": input 'step' (λ annealing) is only used by loss 'sphereface'");
  return {x[0], x[1], w[0]};
}

// SphereFace's λ: fixed, or annealed by the step count.
double sphere_lambda(const MarginOptions& o, const std::int64_t* step) {
  if (step == nullptr) return o.lambda;
  const double annealed =
      o.lambda_base * std::pow(1 + o.lambda_gamma * static_cast<double>(*step), -o.lambda_power);
  return std::max(o.lambda_min, annealed);
}

// Euclidean norms of the rows of a [rows, dim]; refuses a zero row.
template <class T>
std::vector<double> row_norms(const T* a, std::int64_t rows, std::int64_t dim, const char* name,
                              int threads) {
  std::vector<double> norms(static_cast<std::size_t>(rows));
#pragma omp parallel for num_threads(threads) if (rows * dim > kParallelLogits)
  for (std::int64_t r = 0; r < rows; ++r) {
    double sum = 0;
    for (std::int64_t k = 0; k < dim; ++k) sum += static_cast<double>(a[r * dim + k]) * a[r * dim + k];
    norms[static_cast<std::size_t>(r)] = std::sqrt(sum);
  }
  for (std::int64_t r = 0; r < rows; ++r)
    if (!(norms[static_cast<std::size_t>(r)] > 0) || !std::isfinite(norms[static_cast<std::size_t>(r)]))
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": row ", r, " of input '", name, "' has norm ",
                norms[static_cast<std::size_t>(r)],
                "; the normalised losses need finite, nonzero embeddings and class centres");
  return norms;
}

void check_targets(const std::int64_t* target, std::int64_t batch, std::int64_t classes) {
  for (std::int64_t i = 0; i < batch; ++i)
    if (target[i] < 0 || target[i] >= classes)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": target[", i, "] = ", target[i], " is out of range for ",
                classes, " classes");
}

template <class T>
double min_sin_for() {
  return std::is_same_v<T, float> ? 4.5e-4 : 1.5e-6;  // sin θ at c = 1 − 1e-7 (float), 1 − 1e-12
}

// PartialFC's class sample: every target class, then random others up to int(rate·C) classes,
// in ascending order. Drawn from `seed` alone (mt19937_64's raw output, the same on every
// platform), so backward recomputes forward's sample.
std::vector<std::int64_t> sample_classes(const std::int64_t* target, std::int64_t batch, std::int64_t classes,
                                         double rate, std::uint64_t seed) {
  std::vector<char> chosen(static_cast<std::size_t>(classes), 0);
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < batch; ++i)
    if (!chosen[static_cast<std::size_t>(target[i])])
      chosen[static_cast<std::size_t>(target[i])] = 1, ++count;
  const std::int64_t wanted = std::max(count, static_cast<std::int64_t>(rate * static_cast<double>(classes)));
  std::vector<std::int64_t> others;
  others.reserve(static_cast<std::size_t>(classes - count));
  for (std::int64_t j = 0; j < classes; ++j)
    if (!chosen[static_cast<std::size_t>(j)]) others.push_back(j);
  std::mt19937_64 rng(seed);
  for (std::int64_t k = 0; count < wanted; ++k, ++count) {  // partial Fisher-Yates
    const std::size_t pick =
        static_cast<std::size_t>(k) + rng() % (others.size() - static_cast<std::size_t>(k));
    std::swap(others[static_cast<std::size_t>(k)], others[pick]);
    chosen[static_cast<std::size_t>(others[static_cast<std::size_t>(k)])] = 1;
  }
  std::vector<std::int64_t> index;
  index.reserve(static_cast<std::size_t>(count));
  for (std::int64_t j = 0; j < classes; ++j)
    if (chosen[static_cast<std::size_t>(j)]) index.push_back(j);
  return index;
}

// The sampled problem: rows of W (and bias entries) gathered, targets renumbered.
template <class T>
struct SampledClasses {
  std::vector<std::int64_t> index;
  std::vector<T> w, bias;
  std::vector<std::int64_t> target;
};

template <class T>
SampledClasses<T> gather_sample(const T* w, const T* bias, const std::int64_t* target, const Sizes& n,
                                double rate, std::uint64_t seed) {
  SampledClasses<T> s;
  s.index = sample_classes(target, n.batch, n.classes, rate, seed);
  const std::size_t k = s.index.size(), d = static_cast<std::size_t>(n.dim);
  s.w.resize(k * d);
  for (std::size_t j = 0; j < k; ++j)
    std::copy(w + s.index[j] * n.dim, w + (s.index[j] + 1) * n.dim,
              s.w.begin() + static_cast<std::ptrdiff_t>(j * d));
  if (bias != nullptr)
    for (const std::int64_t j : s.index) s.bias.push_back(bias[j]);
  for (std::int64_t i = 0; i < n.batch; ++i)
    s.target.push_back(std::lower_bound(s.index.begin(), s.index.end(), target[i]) - s.index.begin());
  return s;
}

// One call's data, dense over the classes it covers (all of them, or a sample).
template <class T>
struct Problem {
  const T* x;
  const T* w;
  const std::int64_t* target;  // in [0, n.classes)
  const T* bias;               // softmax only, or null
  Sizes n;
  double lambda;
  int threads;
};

// cos θ of sample i and its target class, accumulated in double.
template <class T>
double target_cosine(const Problem<T>& pr, std::int64_t i, double x_norm, double w_norm) {
  const T* xi = pr.x + i * pr.n.dim;
  const T* wy = pr.w + pr.target[i] * pr.n.dim;
  double dot = 0;
  for (std::int64_t k = 0; k < pr.n.dim; ++k) dot += static_cast<double>(xi[k]) * wy[k];
  return std::clamp(dot / (x_norm * w_norm), -1.0, 1.0);
}

// Writes the probabilities into p [n.batch, n.classes] and returns the reduced loss.
template <class T>
double forward_pass(const MarginOptions& o, const Problem<T>& pr, T* p) {
  const Sizes& n = pr.n;
  const int threads = pr.threads;
  const double lambda = pr.lambda;
  const bool norm = normalised(o);
  const std::vector<double> x_norm =
      norm ? row_norms(pr.x, n.batch, n.dim, "x", threads) : std::vector<double>{};
  const std::vector<double> w_norm =
      norm ? row_norms(pr.w, n.classes, n.dim, "weight", threads) : std::vector<double>{};
  const double s = o.scale, eps = o.label_smoothing, C = static_cast<double>(n.classes);

  // p = x·Wᵀ, turned in place into logits, then probabilities, by blocks of classes shared out
  // among the threads (single-threaded GEMMs, as in backward). Each block keeps, per row, the
  // maximum, Σ exp(z − maximum) and Σ z of its logits; the rows' log-sum-exp combines them.
  const std::int64_t blocks = (n.classes + kClassBlock - 1) / kClassBlock;
  const int team = static_cast<int>(
      std::clamp<std::int64_t>(n.batch * n.classes > kParallelLogits ? threads : 1, 1, blocks));
  const std::size_t partials = static_cast<std::size_t>(blocks * n.batch);
  std::vector<double> block_max(partials), block_sum(partials), block_sum_z(partials);
  std::vector<double> target_z(static_cast<std::size_t>(n.batch));
  kernels::blas::use_threads(1);
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t j0 = b * kClassBlock, cb = std::min(kClassBlock, n.classes - j0);
    kernels::blas::gemm<T>(false, true, n.batch, cb, n.dim, T(1), pr.x, n.dim, pr.w + j0 * n.dim, n.dim, T(0),
                           p + j0, n.classes);
    for (std::int64_t i = 0; i < n.batch; ++i) {
      T* row = p + i * n.classes + j0;
      const std::int64_t y = pr.target[i] - j0;  // in this block when in [0, cb)
      if (norm) {
        const double inv_x = 1 / x_norm[static_cast<std::size_t>(i)];
        double cy = 0;
        // The target cosine again in double: the angular margins amplify its rounding near
        // θ = 0 and π.
        if (y >= 0 && y < cb)
          cy = target_cosine(pr, i, x_norm[static_cast<std::size_t>(i)],
                             w_norm[static_cast<std::size_t>(j0 + y)]);
        for (std::int64_t j = 0; j < cb; ++j)
          row[j] = static_cast<T>(
              s * std::clamp(row[j] * inv_x / w_norm[static_cast<std::size_t>(j0 + j)], -1.0, 1.0));
        if (y >= 0 && y < cb)
          row[y] = static_cast<T>(s * target_logit(o, cy, lambda, min_sin_for<T>()).value);
      } else if (pr.bias != nullptr) {
        for (std::int64_t j = 0; j < cb; ++j) row[j] += pr.bias[j0 + j];
      }
      if (y >= 0 && y < cb) target_z[static_cast<std::size_t>(i)] = row[y];
      T top = row[0];
      double sum_z = 0;
      for (std::int64_t j = 0; j < cb; ++j) top = std::max(top, row[j]), sum_z += row[j];
      double sum_exp = 0;
      for (std::int64_t j = 0; j < cb; ++j) sum_exp += std::exp(row[j] - top);
      const std::size_t at = static_cast<std::size_t>(b * n.batch + i);
      block_max[at] = top, block_sum[at] = sum_exp, block_sum_z[at] = sum_z;
    }
  }
  std::vector<double> sample_loss(static_cast<std::size_t>(n.batch)), lse(static_cast<std::size_t>(n.batch));
  for (std::int64_t i = 0; i < n.batch; ++i) {
    double top = -std::numeric_limits<double>::infinity(), sum = 0, sum_z = 0;
    for (std::int64_t b = 0; b < blocks; ++b)
      top = std::max(top, block_max[static_cast<std::size_t>(b * n.batch + i)]);
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::size_t at = static_cast<std::size_t>(b * n.batch + i);
      sum += block_sum[at] * std::exp(block_max[at] - top);
      sum_z += block_sum_z[at];
    }
    lse[static_cast<std::size_t>(i)] = top + std::log(sum);
    sample_loss[static_cast<std::size_t>(i)] = lse[static_cast<std::size_t>(i)] -
                                               (1 - eps) * target_z[static_cast<std::size_t>(i)] -
                                               eps / C * sum_z;
  }
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const std::int64_t j0 = b * kClassBlock, cb = std::min(kClassBlock, n.classes - j0);
    for (std::int64_t i = 0; i < n.batch; ++i) {
      T* row = p + i * n.classes + j0;
      const T shift = static_cast<T>(lse[static_cast<std::size_t>(i)]);
      for (std::int64_t j = 0; j < cb; ++j) row[j] = std::exp(row[j] - shift);
    }
  }
  double total = 0;
  for (const double l : sample_loss) total += l;
  return o.mean && n.batch > 0 ? total / static_cast<double>(n.batch) : total;
}

// dx, dw, dbias (each may be null) from the probabilities p and α = ∂loss/∂L_i (1/B or 1, times
// the loss's gradient).
template <class T>
void backward_pass(const MarginOptions& o, const Problem<T>& pr, const T* p, double alpha, T* dx, T* dw,
                   T* dbias) {
  const Sizes& n = pr.n;
  const int threads = pr.threads;
  const double lambda = pr.lambda;
  const bool norm = normalised(o);
  const double eps = o.label_smoothing, off_target = eps / static_cast<double>(n.classes);

  // x̂ (or x for softmax) and, per sample, the slope of the target logit (1 for the others).
  std::vector<double> x_norm, w_norm;
  std::vector<T> x_hat;
  std::vector<double> target_slope(static_cast<std::size_t>(n.batch), 1.0);
  if (norm) {
    x_norm = row_norms(pr.x, n.batch, n.dim, "x", threads);
    w_norm = row_norms(pr.w, n.classes, n.dim, "weight", threads);
    x_hat.resize(static_cast<std::size_t>(n.batch * n.dim));
    for (std::int64_t i = 0; i < n.batch; ++i) {
      for (std::int64_t k = 0; k < n.dim; ++k)
        x_hat[static_cast<std::size_t>(i * n.dim + k)] = static_cast<T>(pr.x[i * n.dim + k] / x_norm[i]);
      const double c = target_cosine(pr, i, x_norm[i], w_norm[pr.target[i]]);
      if (!o.straight_through) target_slope[i] = target_logit(o, c, lambda, min_sin_for<T>()).slope;
    }
  }
  const T* xs = norm ? x_hat.data() : pr.x;  // what dW's GEMM multiplies by
  const double scale = norm ? o.scale : 1.0;

  // Class blocks are shared out among the threads, each running single-threaded GEMMs on its
  // own: alternating OpenBLAS's threads with an OpenMP team between the GEMMs of every block
  // left both spinning (measured: 1.5x slower). dW rows and pr.bias entries of a block belong to
  // its thread; each thread sums its blocks' share of the x̂ gradient, and the shares are added
  // in thread order, so a run is deterministic for a given thread count.
  const std::int64_t blocks = (n.classes + kClassBlock - 1) / kClassBlock;
  const int team = static_cast<int>(
      std::clamp<std::int64_t>(n.batch * n.classes > kParallelLogits ? threads : 1, 1, blocks));
  const std::size_t grad_size = dx ? static_cast<std::size_t>(n.batch * n.dim) : 0;
  std::vector<std::vector<T>> grad_x_share(static_cast<std::size_t>(team), std::vector<T>(grad_size, T(0)));
  std::vector<std::vector<T>> scratch(
      static_cast<std::size_t>(team),
      std::vector<T>(static_cast<std::size_t>(n.batch * std::min(kClassBlock, n.classes))));
  kernels::blas::use_threads(1);
#pragma omp parallel for num_threads(team) schedule(static) if (team > 1)
  for (std::int64_t b = 0; b < blocks; ++b) {
    const int t = team > 1 ? omp_get_thread_num() : 0;
    T* block = scratch[static_cast<std::size_t>(t)].data();
    const std::int64_t j0 = b * kClassBlock, cb = std::min(kClassBlock, n.classes - j0);
    // G[i, j] = ∂L/∂c_ij (∂L/∂z_ij for softmax) = α·s·(p − q)·slope.
    for (std::int64_t i = 0; i < n.batch; ++i) {
      const std::int64_t y = pr.target[i];
      const T* prow = p + i * n.classes + j0;
      T* g = block + i * cb;
      for (std::int64_t j = 0; j < cb; ++j) g[j] = static_cast<T>(alpha * scale * (prow[j] - off_target));
      if (y >= j0 && y < j0 + cb)
        g[y - j0] = static_cast<T>(alpha * scale * (prow[y - j0] - (1 - eps) - off_target) * target_slope[i]);
    }
    if (dbias) {
      std::fill(dbias + j0, dbias + j0 + cb, T(0));
      for (std::int64_t i = 0; i < n.batch; ++i)
        for (std::int64_t j = 0; j < cb; ++j) dbias[j0 + j] += block[i * cb + j];
    }
    if (dw) {
      // dW rows: Gᵀ·x̂, then through ŵ = w/‖w‖: (g − (g·ŵ)ŵ)/‖w‖.
      T* rows = dw + j0 * n.dim;
      kernels::blas::gemm<T>(true, false, cb, n.dim, n.batch, T(1), block, cb, xs, n.dim, T(0), rows, n.dim);
      if (norm)
        for (std::int64_t j = 0; j < cb; ++j) {
          const T* wj = pr.w + (j0 + j) * n.dim;
          T* gj = rows + j * n.dim;
          const double inv = 1 / w_norm[j0 + j];
          double dot = 0;
          for (std::int64_t k = 0; k < n.dim; ++k) dot += static_cast<double>(gj[k]) * wj[k];
          const double along = dot * inv * inv;
          for (std::int64_t k = 0; k < n.dim; ++k) gj[k] = static_cast<T>((gj[k] - along * wj[k]) * inv);
        }
    }
    if (dx) {
      // G·Ŵ = (G·diag(1/‖w‖))·W.
      if (norm)
        for (std::int64_t i = 0; i < n.batch; ++i)
          for (std::int64_t j = 0; j < cb; ++j)
            block[i * cb + j] = static_cast<T>(block[i * cb + j] / w_norm[j0 + j]);
      kernels::blas::gemm<T>(false, false, n.batch, n.dim, cb, T(1), block, cb, pr.w + j0 * n.dim, n.dim,
                             T(1), grad_x_share[static_cast<std::size_t>(t)].data(), n.dim);
    }
  }
  std::vector<T>& grad_x_hat = grad_x_share[0];
  for (int t = 1; t < team; ++t)
    for (std::size_t k = 0; k < grad_size; ++k) grad_x_hat[k] += grad_x_share[static_cast<std::size_t>(t)][k];
  if (dx) {
    if (!norm) {
      std::copy(grad_x_hat.begin(), grad_x_hat.end(), dx);
      return;
    }
    // Through x̂ = x/‖x‖: (g − (g·x̂)x̂)/‖x‖.
    for (std::int64_t i = 0; i < n.batch; ++i) {
      const T* g = grad_x_hat.data() + i * n.dim;
      const T* xh = x_hat.data() + i * n.dim;
      double dot = 0;
      for (std::int64_t k = 0; k < n.dim; ++k) dot += static_cast<double>(g[k]) * xh[k];
      for (std::int64_t k = 0; k < n.dim; ++k)
        dx[i * n.dim + k] = static_cast<T>((g[k] - dot * xh[k]) / x_norm[i]);
    }
  }
}

// The inputs of a forward or backward call, checked (shapes, targets in range).
template <class T>
struct Inputs {
  const T* x;
  const T* w;
  const std::int64_t* target;
  const T* bias;  // or null
  Sizes n;
};

template <class T, class Context>
Inputs<T> read_inputs(const Context& ctx, const MarginOptions& o) {
  auto x = ctx.template input<T>(kX);
  auto w = ctx.template input<T>(kWeight);
  auto target = ctx.template input<std::int64_t>(kTarget);
  const T* bias = ctx.has_input(kBias) ? ctx.template input<T>(kBias).data() : nullptr;
  const std::int64_t bias_entries = bias ? ctx.template input<T>(kBias).numel() : 0;
  const Sizes n = check_shapes(x.shape(), w.shape(), target.shape(), bias ? &bias_entries : nullptr,
                               ctx.has_input(kStep), o);
  check_targets(target.data(), n.batch, n.classes);
  return {x.data(), w.data(), target.data(), bias, n};
}

}  // namespace

sdk::OpSpec MarginSoftmax::spec() {
  return sdk::OpSpec(
             "margin_softmax",
             "Softmax cross-entropy of embeddings x against class centres W with a margin on the target "
             "logit. "
             "c = cos θ = x̂·ŵ (clamped to [−1, 1]); other logits s·c; target logit: softmax x·w + b (no "
             "normalisation), normface s·c, cosface s·(c − m), arcface s·cos(θ + m), combined s·(cos(m1·θ + "
             "m2) − "
             "m3), sphereface s·(λ·c + ψ(θ))/(1 + λ), ψ(θ) = (−1)^k cos(mθ) − 2k. Fused: the one B×C buffer "
             "is the "
             "probabilities output, which backward reads")
      .input("x", "[B, d] embeddings")
      .input("weight", "[C, d] class centres, one row per class")
      .input("target", "[B] class indices in [0, C)", "int64")
      .optional_input("bias", "[C], loss 'softmax' only")
      .state_input("step", "[1] training steps so far: sphereface's λ annealing; +1 per training forward",
                   "int64")
      .output("loss", "0-d: mean (or sum) of the per-sample cross-entropies")
      .output("probs", "[B, C] softmax of the logits; not differentiated (its gradient is ignored)")
      .no_grad_output()
      .attr("loss", "softmax, normface, sphereface, cosface, arcface or combined", std::string("arcface"))
      .attr("scale", "s, the logit scale (not used by softmax)", 64.0)
      .attr("margin", "arcface m (radians), cosface m, sphereface integer m; −1: 0.5, 0.35 and 4", -1.0)
      .attr("m1", "combined: angle multiplier", 1.0)
      .attr("m2", "combined: additive angular margin (radians)", 0.0)
      .attr("m3", "combined: additive cosine margin", 0.0)
      .attr("easy_margin", "arcface: the margin only where c > 0", false)
      .attr("fallback",
            "arcface: past θ + m = π use c − m·sin m (insightface's th/mm rule) so the logit stays monotone",
            true)
      .attr("backward",
            "exact (the derivative through the margin) or straight_through (insightface ≥ 2022-12)",
            std::string("exact"))
      .attr("label_smoothing", "ε: targets (1 − ε)·onehot + ε/C, as F.cross_entropy", 0.0)
      .attr("reduction", "mean or sum over the batch", std::string("mean"))
      .attr("lambda", "sphereface λ when there is no step input", 0.0)
      .attr("lambda_base", "sphereface annealing: λ = max(lambda_min, base·(1 + gamma·step)^(−power))",
            1000.0)
      .attr("lambda_gamma", "sphereface annealing γ", 0.12)
      .attr("lambda_power", "sphereface annealing power", 1.0)
      .attr("lambda_min", "sphereface annealing floor", 5.0)
      .attr("sample_rate",
            "PartialFC: in training, the softmax runs over every class in the batch's targets plus random "
            "others, max(int(rate·C), positives) classes in all (drawn from the run's seed); 1: all classes",
            1.0)
      .caps(PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE);
}

MarginSoftmax::MarginSoftmax(const sdk::Attributes& a) {
  MarginOptions& o = options_;
  o.kind = parse_kind(a.get<std::string>("loss"));
  o.scale = a.get<double>("scale");
  const double margin = a.get<double>("margin");
  o.m1 = a.get<double>("m1");
  o.m2 = a.get<double>("m2");
  o.m3 = a.get<double>("m3");
  if (o.kind == MarginKind::arcface) o.m1 = 1, o.m2 = margin < 0 ? 0.5 : margin, o.m3 = 0;
  if (o.kind == MarginKind::cosface) o.m1 = 1, o.m2 = 0, o.m3 = margin < 0 ? 0.35 : margin;
  if (o.kind == MarginKind::normface) o.m1 = 1, o.m2 = 0, o.m3 = 0;
  if (o.kind == MarginKind::sphereface) {
    const double m = margin < 0 ? 4 : margin;
    if (m != std::floor(m) || m < 1 || m > 16)
      sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": sphereface needs an integer 'margin' in [1, 16], got ", m);
    o.sphere_m = static_cast<int>(m);
  }
  o.easy_margin = a.get<bool>("easy_margin");
  o.fallback = a.get<bool>("fallback");
  const std::string backward = a.get<std::string>("backward");
  if (backward != "exact" && backward != "straight_through")
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'backward' = '", backward,
              "' is not one of exact, straight_through");
  o.straight_through = backward == "straight_through";
  o.label_smoothing = a.get<double>("label_smoothing");
  if (!(o.label_smoothing >= 0 && o.label_smoothing <= 1))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'label_smoothing' = ", o.label_smoothing,
              " is out of range [0, 1]");
  const std::string reduction = a.get<std::string>("reduction");
  if (reduction != "mean" && reduction != "sum")
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'reduction' = '", reduction,
              "' is not one of mean, sum");
  o.mean = reduction == "mean";
  if (o.kind != MarginKind::softmax && !(o.scale > 0))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'scale' = ", o.scale, ", must be positive");
  if ((o.kind == MarginKind::arcface || o.kind == MarginKind::cosface) && margin >= 0 &&
      margin > std::numbers::pi / 2)
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'margin' = ", margin, " is larger than π/2");
  o.lambda = a.get<double>("lambda");
  o.lambda_base = a.get<double>("lambda_base");
  o.lambda_gamma = a.get<double>("lambda_gamma");
  o.lambda_power = a.get<double>("lambda_power");
  o.lambda_min = a.get<double>("lambda_min");
  o.sample_rate = a.get<double>("sample_rate");
  if (!(o.sample_rate > 0 && o.sample_rate <= 1))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attribute 'sample_rate' = ", o.sample_rate,
              " is not in (0, 1]");
  if (!(o.lambda >= 0) || !(o.lambda_min >= 0))
    sdk::fail(PCV_ERR_INVALID_ARGUMENT, kOp, ": attributes 'lambda' and 'lambda_min' must not be negative");
}

void MarginSoftmax::infer_shapes(sdk::ShapeContext& ctx) const {
  const pcv_dtype dtype = ctx.input_dtype(kX);
  if (!same_dtype(ctx.input_dtype(kWeight), dtype))
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'weight' is ", dtype_name(ctx.input_dtype(kWeight)),
              " but input 'x' is ", dtype_name(dtype));
  const std::int64_t* bias = ctx.has_input(kBias) ? ctx.input_shape(kBias).data() : nullptr;
  if (bias != nullptr && ctx.input_shape(kBias).size() != 1)
    sdk::fail(PCV_ERR_SHAPE, kOp, ": input 'bias' must be [C]");
  const Sizes n = check_shapes(ctx.input_shape(kX), ctx.input_shape(kWeight), ctx.input_shape(kTarget), bias,
                               ctx.has_input(kStep), options_);
  ctx.set_output(0, dtype, sdk::Shape{});
  ctx.set_output(1, dtype, sdk::Shape{n.batch, n.classes});
}

void MarginSoftmax::forward(sdk::ForwardContext& ctx) const {
  const MarginOptions& o = options_;
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    const Inputs<T> in = read_inputs<T>(ctx, o);
    const auto& [x, w, target, bias, n] = in;
    const int threads = ctx.num_threads();
    std::int64_t* step = ctx.has_input(kStep) ? ctx.state<std::int64_t>(kStep).data() : nullptr;
    const double lambda = sphere_lambda(o, step);
    if (step != nullptr && ctx.training()) ++*step;  // after reading: this call used the old count

    auto loss = ctx.output<T>(0, sdk::Shape{});
    auto probs = ctx.output<T>(1, sdk::Shape{n.batch, n.classes});
    T* p = probs.data();
    if (!(ctx.training() && o.sample_rate < 1)) {
      loss.data()[0] = static_cast<T>(forward_pass(o, Problem<T>{x, w, target, bias, n, lambda, threads}, p));
      return;
    }
    if (normalised(o)) row_norms(w, n.classes, n.dim, "weight", threads);  // errors name the real row
    const SampledClasses<T> sample = gather_sample(w, bias, target, n, o.sample_rate, ctx.seed());
    const Sizes sub{n.batch, n.dim, static_cast<std::int64_t>(sample.index.size())};
    std::vector<T> sub_probs(static_cast<std::size_t>(sub.batch * sub.classes));
    loss.data()[0] =
        static_cast<T>(forward_pass(o,
                                    Problem<T>{x, sample.w.data(), sample.target.data(),
                                               bias ? sample.bias.data() : nullptr, sub, lambda, threads},
                                    sub_probs.data()));
    // Classes left out of the sample have probability 0 in this step.
    std::fill(p, p + n.batch * n.classes, T(0));
    for (std::int64_t i = 0; i < n.batch; ++i)
      for (std::int64_t j = 0; j < sub.classes; ++j)
        p[i * n.classes + sample.index[static_cast<std::size_t>(j)]] =
            sub_probs[static_cast<std::size_t>(i * sub.classes + j)];
  });
}

void MarginSoftmax::backward(sdk::BackwardContext& ctx) const {
  const MarginOptions& o = options_;
  sdk::dispatch_float(ctx.raw_input(kX).dtype, ctx.names().input(kX), [&](auto zero) {
    using T = decltype(zero);
    const Inputs<T> in = read_inputs<T>(ctx, o);
    const auto& [x, w, target, bias, n] = in;
    const bool has_bias = bias != nullptr, has_step = ctx.has_input(kStep);
    const int threads = ctx.num_threads();
    // Training forward has already counted this step: its λ was that of the count before.
    std::int64_t step_used = 0;
    if (has_step) step_used = ctx.input<std::int64_t>(kStep).data()[0] - (ctx.training() ? 1 : 0);
    const double lambda = sphere_lambda(o, has_step ? &step_used : nullptr);
    const T* p = ctx.output<T>(1).data();
    const double alpha = static_cast<double>(ctx.grad_output<T>(0).data()[0]) /
                         (o.mean && n.batch > 0 ? static_cast<double>(n.batch) : 1.0);
    T* dx = ctx.wants_grad(kX) ? ctx.grad_input<T>(kX).data() : nullptr;
    T* dw = ctx.wants_grad(kWeight) ? ctx.grad_input<T>(kWeight).data() : nullptr;
    T* dbias = has_bias && ctx.wants_grad(kBias) ? ctx.grad_input<T>(kBias).data() : nullptr;
    if (!(ctx.training() && o.sample_rate < 1)) {
      backward_pass(o, Problem<T>{x, w, target, nullptr, n, lambda, threads}, p, alpha, dx, dw, dbias);
      return;
    }
    // Forward's sample again (same seed), its probabilities gathered, the gradients scattered.
    const SampledClasses<T> sample =
        gather_sample(w, static_cast<const T*>(nullptr), target, n, o.sample_rate, ctx.seed());
    const Sizes sub{n.batch, n.dim, static_cast<std::int64_t>(sample.index.size())};
    std::vector<T> sub_probs(static_cast<std::size_t>(sub.batch * sub.classes));
    for (std::int64_t i = 0; i < n.batch; ++i)
      for (std::int64_t j = 0; j < sub.classes; ++j)
        sub_probs[static_cast<std::size_t>(i * sub.classes + j)] =
            p[i * n.classes + sample.index[static_cast<std::size_t>(j)]];
    std::vector<T> sub_dw(dw ? sample.w.size() : 0), sub_dbias(dbias ? sample.index.size() : 0);
    backward_pass(o, Problem<T>{x, sample.w.data(), sample.target.data(), nullptr, sub, lambda, threads},
                  sub_probs.data(), alpha, dx, dw ? sub_dw.data() : nullptr,
                  dbias ? sub_dbias.data() : nullptr);
    if (dw) {
      std::fill(dw, dw + n.classes * n.dim, T(0));
      for (std::size_t j = 0; j < sample.index.size(); ++j)
        std::copy(sub_dw.begin() + static_cast<std::ptrdiff_t>(j * n.dim),
                  sub_dw.begin() + static_cast<std::ptrdiff_t>((j + 1) * n.dim),
                  dw + sample.index[j] * n.dim);
    }
    if (dbias) {
      std::fill(dbias, dbias + n.classes, T(0));
      for (std::size_t j = 0; j < sample.index.size(); ++j) dbias[sample.index[j]] = sub_dbias[j];
    }
  });
}

}  // namespace pcv::losses
