// Row-wise primitives over a row-major matrix: max, argmax, log-sum-exp, softmax, log-softmax and
// their vector-Jacobian products. Every function exists for `float` and `double` and runs on the
// backend selected in <simdiff/backend.h>.
//
// Common contract (all functions below):
// - `x`, `y`, `dy`, `dx` hold a matrix of the given `shape` (see MatrixShape); each must be at
// least
//   `(rows - 1) * stride + cols` elements long. Per-row outputs (`out`, `lse`, `dlse`) hold `rows`
//   elements. Elements between `cols` and `stride` are neither read nor written.
// - An output may be the very same buffer as an input of the same shape (in-place use); any other
//   overlap of an output with an input throws `std::invalid_argument`.
// - Bad arguments throw `std::invalid_argument` whose message names the argument and its value.
// - Special values follow PyTorch: a NaN anywhere in a row makes every result of that row NaN; a
//   row of all `-inf` has log-sum-exp `-inf` and NaN softmax/log-softmax (0/0); a row holding
//   `+inf` (and no NaN) has log-sum-exp `+inf`, and its softmax/log-softmax are NaN (inf/inf). The
//   exponentials are computed as `exp(x - max)`, so inputs where `exp(x)` overflows (x near 100 in
//   float, a spread of +-3e38) give exact results. The SIMD backends flush terms exp(x - max) below
//   the smallest normal number (1.2e-38 float, 2.2e-308 double) to zero, so softmax outputs that
//   small carry an absolute error of at most that number.
// - Accuracy against a `long double` reference, at every row length (asserted by the tests in
//   tests/error_bounds.h): float log-sum-exp and log-softmax within 1e-6 absolute + 1e-6 relative
//   (relative alone is impossible for results near 0); float softmax within 1e-6 relative plus
//   |x - max| * 2^-24, the rounding of x - max in the element type that every float
//   implementation shares; double within 2e-15 (plus |x - max| * 2^-53 for softmax). Row sums are
//   accumulated in blocks folded into a compensated double sum, so the bounds do not grow with the
//   row length (a running float sum loses accuracy linearly with it). Backward kernels: within
//   1e-6 (float) or 2e-15 (double) of the magnitude of the terms they combine, e.g.
//   |y| (|dy| + sum |y dy|) for softmax_backward.
#pragma once

#include <cstddef>
#include <span>

#include "simdiff/matrix_shape.h"

namespace simdiff {

/// out[r] = max_c x[r, c]. NaN if the row holds a NaN. `out`: `rows` elements.
void row_max(std::span<const float> x, MatrixShape shape, std::span<float> out);
void row_max(std::span<const double> x, MatrixShape shape, std::span<double> out);

/// out[r] = the smallest c with x[r, c] == max_c x[r, c]; a NaN counts as larger than every number
/// (the index of the first NaN is returned, as in PyTorch). `out`: `rows` elements.
void row_argmax(std::span<const float> x, MatrixShape shape, std::span<std::size_t> out);
void row_argmax(std::span<const double> x, MatrixShape shape, std::span<std::size_t> out);

/// out[r] = log(sum_c exp(x[r, c])), computed as max + log(sum exp(x - max)). `out`: `rows`
/// elements.
void logsumexp(std::span<const float> x, MatrixShape shape, std::span<float> out);
void logsumexp(std::span<const double> x, MatrixShape shape, std::span<double> out);

/// y[r, c] = exp(x[r, c]) / sum_k exp(x[r, k]). `y` may be `x` itself.
void softmax(std::span<const float> x, MatrixShape shape, std::span<float> y);
void softmax(std::span<const double> x, MatrixShape shape, std::span<double> y);
/// softmax(x, shape, x).
void softmax_inplace(std::span<float> x, MatrixShape shape);
void softmax_inplace(std::span<double> x, MatrixShape shape);

/// y[r, c] = x[r, c] - logsumexp(x[r, :]). `y` may be `x` itself.
void log_softmax(std::span<const float> x, MatrixShape shape, std::span<float> y);
void log_softmax(std::span<const double> x, MatrixShape shape, std::span<double> y);
/// log_softmax(x, shape, x).
void log_softmax_inplace(std::span<float> x, MatrixShape shape);
void log_softmax_inplace(std::span<double> x, MatrixShape shape);

/// Vector-Jacobian product of softmax: given its output `y` and the cotangent `dy`,
/// dx[r, c] = y[r, c] * (dy[r, c] - sum_k y[r, k] dy[r, k]). `dx` may be `dy` or `y`.
void softmax_backward(std::span<const float> y, std::span<const float> dy, MatrixShape shape,
                      std::span<float> dx);
void softmax_backward(std::span<const double> y, std::span<const double> dy, MatrixShape shape,
                      std::span<double> dx);

/// Vector-Jacobian product of log-softmax: given its output `y` (= log-probabilities) and `dy`,
/// dx[r, c] = dy[r, c] - exp(y[r, c]) * sum_k dy[r, k]. `dx` may be `dy` or `y`.
void log_softmax_backward(std::span<const float> y, std::span<const float> dy, MatrixShape shape,
                          std::span<float> dx);
void log_softmax_backward(std::span<const double> y, std::span<const double> dy, MatrixShape shape,
                          std::span<double> dx);

/// Vector-Jacobian product of log-sum-exp: given `x`, its log-sum-exp `lse` (`rows` elements) and
/// the cotangent `dlse` (`rows` elements), dx[r, c] = dlse[r] * exp(x[r, c] - lse[r])
/// (= dlse[r] * softmax(x)[r, c]). `dx` may be `x`.
void logsumexp_backward(std::span<const float> x, std::span<const float> lse,
                        std::span<const float> dlse, MatrixShape shape, std::span<float> dx);
void logsumexp_backward(std::span<const double> x, std::span<const double> lse,
                        std::span<const double> dlse, MatrixShape shape, std::span<double> dx);

}  // namespace simdiff
