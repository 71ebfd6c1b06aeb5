// Thin typed wrappers over OpenBLAS (row-major cblas_?gemm / cblas_?gemv) for float and double.
#pragma once

#include <cblas.h>
#include <pcv/sdk.hpp>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstdint>

namespace pcv::kernels::blas {

// OpenBLAS's thread count is process-wide; calling openblas_set_num_threads is only worth it
// when the count changes.
inline void use_threads(int threads) {
  static std::atomic<int> current{0};
  if (current.exchange(threads) != threads) openblas_set_num_threads(threads);
}

// BLAS takes 32-bit sizes; larger matrices are refused instead of silently truncated.
inline blasint blas_int(std::int64_t v) {
  if (v < 0 || v > INT_MAX)
    sdk::fail(PCV_ERR_NOT_SUPPORTED, "matrix dimension ", v, " is too large for BLAS");
  return static_cast<blasint>(v);
}

// C[m, n] = alpha · op(A) · op(B) + beta · C, row-major, op(X) = X or Xᵀ.
template <class T>
void gemm(bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha, const T* a,
          std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {  // empty product: C = beta · C (BLAS rejects lda = 0 in some layouts)
    for (std::int64_t i = 0; i < m; ++i)
      for (std::int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
    return;
  }
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  const CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemm(CblasRowMajor, ta, tb, blas_int(m), blas_int(n), blas_int(k), alpha, a, blas_int(lda), b,
                blas_int(ldb), beta, c, blas_int(ldc));
  else
    cblas_dgemm(CblasRowMajor, ta, tb, blas_int(m), blas_int(n), blas_int(k), alpha, a, blas_int(lda), b,
                blas_int(ldb), beta, c, blas_int(ldc));
}

// gemm on `threads` OpenMP threads, each running a single-threaded BLAS GEMM on its own block of
// C's rows (or columns, when C is wider than tall). OpenBLAS's own pthreads stay unused: they spin
// between calls and would compete with the OpenMP threads of the ops around for the same cores.
// Every element of C is computed by the same kernel over the whole k, so results do not depend on
// the thread count.
template <class T>
void gemm_parallel(int threads, bool trans_a, bool trans_b, std::int64_t m, std::int64_t n, std::int64_t k,
                   T alpha, const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c,
                   std::int64_t ldc) {
  use_threads(1);
  const bool by_rows = m >= n;
  const std::int64_t extent = by_rows ? m : n;
  // Below about a million multiply-adds, or with too little to split, one thread is faster.
  const std::int64_t parts = m * n * k < (1 << 20) ? 1 : std::min<std::int64_t>(threads, extent / 16);
  if (parts <= 1) return gemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
#pragma omp parallel for num_threads(static_cast <int>(parts)) schedule(static)
  for (std::int64_t p = 0; p < parts; ++p) {
    const std::int64_t lo = extent * p / parts, hi = extent * (p + 1) / parts;
    if (by_rows)
      gemm(trans_a, trans_b, hi - lo, n, k, alpha, trans_a ? a + lo : a + lo * lda, lda, b, ldb, beta,
           c + lo * ldc, ldc);
    else
      gemm(trans_a, trans_b, m, hi - lo, k, alpha, a, lda, trans_b ? b + lo * ldb : b + lo, ldb, beta, c + lo,
           ldc);
  }
}

// y[rows or cols] = alpha · op(A) · x + beta · y for a row-major A[rows, cols].
template <class T>
void gemv(bool trans_a, std::int64_t rows, std::int64_t cols, T alpha, const T* a, std::int64_t lda,
          const T* x, T beta, T* y) {
  const std::int64_t out = trans_a ? cols : rows;
  if (out == 0) return;
  if (rows == 0 || cols == 0) {
    for (std::int64_t i = 0; i < out; ++i) y[i] = beta == T(0) ? T(0) : beta * y[i];
    return;
  }
  // Some OpenBLAS versions scale y by beta even when it is 0, which keeps NaNs of uninitialised memory.
  if (beta == T(0)) std::fill(y, y + out, T(0));
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
  if constexpr (std::is_same_v<T, float>)
    cblas_sgemv(CblasRowMajor, ta, blas_int(rows), blas_int(cols), alpha, a, blas_int(lda), x, 1, beta, y, 1);
  else
    cblas_dgemv(CblasRowMajor, ta, blas_int(rows), blas_int(cols), alpha, a, blas_int(lda), x, 1, beta, y, 1);
}

}  // namespace pcv::kernels::blas
