// General matrix products (GEMM) for `float` and `double`, row-major, on the backend selected in
// <simdiff/backend.h>, with an optional fused epilogue (bias and activation) for dense layers.
//
// Notation: op(X) is X or its transpose. Every matrix is row-major with a leading dimension (the
// distance between row starts, in elements) of at least its stored column count:
//   op(A) is [m x k]: A is stored [m x k] (lda >= k), or, when trans_a == yes, [k x m] (lda >= m).
//   op(B) is [k x n]: B is stored [k x n] (ldb >= n), or, when trans_b == yes, [n x k] (ldb >= k).
//   C is [m x n] (ldc >= n).
// A stored matrix with R rows and S columns spans (R - 1) * ld + S elements of its span (0 when R
// or S is 0); the span may be longer. Elements between S and ld in each row are never read (in A
// and B) nor written (in C).
//
// Errors (std::invalid_argument, naming the argument, its value and what was expected): a leading
// dimension below its minimum, a span shorter than the matrix it holds, an extent that overflows
// std::size_t, C overlapping A, B or the bias, a non-empty bias whose size is not n. m == 0 or
// n == 0 does nothing; k == 0 gives C = beta * C (then the epilogue).
//
// Accuracy (asserted by tests/test_gemm.cc against a long double reference): every element of C
// is within (k + 3) u (|alpha| sum_p |op(A)_ip op(B)_pj| + |beta C_ij| + |bias_j|) of the exact
// value, where u is the unit roundoff of the type (the classical worst-case bound of a dot
// product, whatever the summation order). Large products run on up to num_threads() threads
// (<simdiff/threads.h>); results are bit-identical for every thread count. The xsimd backend has no
// GEMM of its own: when it is selected, these functions run the Highway kernel of the best target
// the CPU runs (gemm_target() says which kernel runs).
#pragma once

#include <cstddef>
#include <span>
#include <string>

namespace simdiff {

enum class Transpose { no, yes };

/// Element-wise function applied by the epilogue of gemm_bias_activation.
enum class Activation {
  none,     ///< identity
  relu,     ///< max(x, 0); NaN stays NaN
  sigmoid,  ///< 1 / (1 + e^-x), as simdiff::sigmoid (within 4 ulp)
  tanh,     ///< hyperbolic tangent (within 4 ulp)
};

/// C[m x n] = alpha * op(A) * op(B) + beta * C, all row-major (shapes above). beta == 0: C is not
/// read (NaN or inf in C do not propagate). alpha == 0 still reads A and B: NaN and inf in them
/// propagate.
void gemm(Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n, std::size_t k,
          float alpha, std::span<const float> a, std::size_t lda, std::span<const float> b,
          std::size_t ldb, float beta, std::span<float> c, std::size_t ldc);
void gemm(Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n, std::size_t k,
          double alpha, std::span<const double> a, std::size_t lda, std::span<const double> b,
          std::size_t ldb, double beta, std::span<double> c, std::size_t ldc);

/// The forward pass of a dense layer in one sweep over C:
///   C[i, j] = activation(alpha * (op(A) op(B))[i, j] + beta * C[i, j] + bias[j]).
/// `bias` is empty (no bias) or has exactly n elements; everything else as gemm(). The activation
/// adds its own error (relu none, sigmoid and tanh 4 ulp of the result) to the bound above, which
/// it scales by at most its Lipschitz constant (1 for relu and tanh, 1/4 for sigmoid).
void gemm_bias_activation(Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n,
                          std::size_t k, float alpha, std::span<const float> a, std::size_t lda,
                          std::span<const float> b, std::size_t ldb, float beta,
                          std::span<const float> bias, Activation activation, std::span<float> c,
                          std::size_t ldc);
void gemm_bias_activation(Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n,
                          std::size_t k, double alpha, std::span<const double> a, std::size_t lda,
                          std::span<const double> b, std::size_t ldb, double beta,
                          std::span<const double> bias, Activation activation, std::span<double> c,
                          std::size_t ldc);

/// Who computes the products: simdiff's own kernels on the selected backend (the default), or the
/// CBLAS library the build was configured with (CMake option SIMDIFF_WITH_CBLAS, off by default;
/// Debian's libopenblas-dev). The CBLAS provider keeps every contract above except bit-identity
/// with the other providers (same error bound); simdiff's thread setting applies to it too (the
/// library itself is set to one thread, OpenBLAS through openblas_set_num_threads(1)), and the
/// epilogue is a second pass over C. Its sizes and leading dimensions must fit in an int.
enum class GemmProvider { simdiff, cblas };

/// Whether `provider` is built in (simdiff always is).
[[nodiscard]] bool gemm_provider_available(GemmProvider provider) noexcept;

/// Selects the provider process-wide; change it while no product runs. Throws
/// std::invalid_argument naming the provider if this build has none of that kind.
void set_gemm_provider(GemmProvider provider);

[[nodiscard]] GemmProvider gemm_provider() noexcept;

/// "highway:AVX2", "scalar:scalar", "cblas:openblas": the kernel that gemm() runs with the current
/// provider and backend selection (under the xsimd backend, Highway's best target).
[[nodiscard]] std::string gemm_target();

}  // namespace simdiff
