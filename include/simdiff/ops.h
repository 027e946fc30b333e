// Differentiable operations on tape variables (<simdiff/tape.h>). Each op computes its value at
// once and records its vector-Jacobian product. Every op exists for Var<float> and Var<double>.
//
// Where the work runs: exp, log, sigmoid, tanh, softplus (and elu's exponential) on the
// element-wise kernels of the selected backend; logsumexp, softmax, log_softmax and their
// backward passes on the row kernels (<simdiff/rowwise.h>); the losses on their fused kernels;
// matmul on simdiff::gemm. The arithmetic, relu, leaky_relu, square, the reductions and the
// backward rules of the element-wise ops are plain loops the compiler vectorizes for the baseline
// ISA. sqrt, pow_scalar and gelu call std::sqrt, std::pow and std::erfc per element (Highway
// 1.0.3 has no erf; the exact GELU needs erfc's accuracy in the negative tail).
//
// Operands must belong to the same tape and be valid (recorded since its last reset()); otherwise
// std::logic_error. Shape errors throw std::invalid_argument naming the op and both shapes.
//
// Shapes: a tensor is seen as a `rows x cols` matrix (<simdiff/tensor.h>: a scalar is 1 x 1, a
// rank-1 [n] is 1 x n). Binary element-wise ops broadcast either operand when it is
// - a one-element tensor (scalar) over everything,
// - a row vector ([n] or [1 x n]) over the rows of a [rows x n] operand,
// - a column vector ([rows x 1]) over the columns of a [rows x n] operand;
// the result has the shape of the larger operand (the first if both have the same size).
#pragma once

#include <cstddef>
#include <span>

#include "simdiff/gemm.h"
#include "simdiff/losses.h"
#include "simdiff/tape.h"

namespace simdiff {

// ---------------------------------------------------------------------------------------------
// Element-wise arithmetic, with broadcasting

template <class T>
Var<T> add(Var<T> a, Var<T> b);
template <class T>
Var<T> sub(Var<T> a, Var<T> b);
template <class T>
Var<T> mul(Var<T> a, Var<T> b);
/// a / b; where b is 0 the result and gradients follow IEEE arithmetic (inf/NaN).
template <class T>
Var<T> div(Var<T> a, Var<T> b);
template <class T>
Var<T> neg(Var<T> a);

/// Scalar ops: x + s, x * s, s - x, s / x, x^s (x^s for x > 0, or integral s).
template <class T>
Var<T> add_scalar(Var<T> x, T s);
template <class T>
Var<T> mul_scalar(Var<T> x, T s);
template <class T>
Var<T> rsub_scalar(T s, Var<T> x);
template <class T>
Var<T> rdiv_scalar(T s, Var<T> x);
template <class T>
Var<T> pow_scalar(Var<T> x, T s);

template <class T>
Var<T> operator+(Var<T> a, Var<T> b) {
  return add(a, b);
}
template <class T>
Var<T> operator-(Var<T> a, Var<T> b) {
  return sub(a, b);
}
template <class T>
Var<T> operator*(Var<T> a, Var<T> b) {
  return mul(a, b);
}
template <class T>
Var<T> operator/(Var<T> a, Var<T> b) {
  return div(a, b);
}
template <class T>
Var<T> operator-(Var<T> a) {
  return neg(a);
}
template <class T>
Var<T> operator+(Var<T> x, std::type_identity_t<T> s) {
  return add_scalar(x, s);
}
template <class T>
Var<T> operator+(std::type_identity_t<T> s, Var<T> x) {
  return add_scalar(x, s);
}
template <class T>
Var<T> operator-(Var<T> x, std::type_identity_t<T> s) {
  return add_scalar(x, -s);
}
template <class T>
Var<T> operator-(std::type_identity_t<T> s, Var<T> x) {
  return rsub_scalar(s, x);
}
template <class T>
Var<T> operator*(Var<T> x, std::type_identity_t<T> s) {
  return mul_scalar(x, s);
}
template <class T>
Var<T> operator*(std::type_identity_t<T> s, Var<T> x) {
  return mul_scalar(x, s);
}
template <class T>
Var<T> operator/(Var<T> x, std::type_identity_t<T> s) {
  return mul_scalar(x, T(1) / s);
}
template <class T>
Var<T> operator/(std::type_identity_t<T> s, Var<T> x) {
  return rdiv_scalar(s, x);
}

// ---------------------------------------------------------------------------------------------
// Matrix product

/// op(a) * op(b) for [m x k] and [k x n] matrices (after the optional transposes), giving
/// [m x n]; runs on simdiff::gemm (<simdiff/gemm.h>). Rank-1 operands are row vectors.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b, Transpose transpose_a, Transpose transpose_b);
/// a * b.
template <class T>
Var<T> matmul(Var<T> a, Var<T> b);

// ---------------------------------------------------------------------------------------------
// Reductions. Per-row results are [rows x 1], per-column results [1 x cols], so that they
// broadcast back over the input.

/// Sum (mean) of all elements: a scalar.
template <class T>
Var<T> sum(Var<T> x);
template <class T>
Var<T> mean(Var<T> x);
/// Sum (mean) of each row: [rows x 1].
template <class T>
Var<T> row_sum(Var<T> x);
template <class T>
Var<T> row_mean(Var<T> x);
/// Sum (mean) of each column: [1 x cols].
template <class T>
Var<T> col_sum(Var<T> x);
template <class T>
Var<T> col_mean(Var<T> x);

// ---------------------------------------------------------------------------------------------
// Element-wise functions (the shape of x)

/// e^x, on simdiff::exp.
template <class T>
Var<T> exp(Var<T> x);
/// ln x, on simdiff::log (gradient 1 / x).
template <class T>
Var<T> log(Var<T> x);
/// sqrt(x) (gradient 1 / (2 sqrt x): inf at 0).
template <class T>
Var<T> sqrt(Var<T> x);
template <class T>
Var<T> square(Var<T> x);
/// max(x, 0); gradient 0 at x == 0 (as PyTorch).
template <class T>
Var<T> relu(Var<T> x);
/// x for x > 0, alpha x otherwise.
template <class T>
Var<T> leaky_relu(Var<T> x, T alpha = T(0.2));
/// x for x > 0, alpha (e^x - 1) otherwise (e^x - 1 is computed from the exp kernel, so its error
/// is absolute near 0: at most about alpha * 2^-22 in float, from the kernel's 4 ulp).
template <class T>
Var<T> elu(Var<T> x, T alpha = T(1));
/// 1 / (1 + e^-x), on simdiff::sigmoid.
template <class T>
Var<T> sigmoid(Var<T> x);
template <class T>
Var<T> tanh(Var<T> x);
/// ln(1 + e^x), on simdiff::softplus (gradient sigmoid(x)).
template <class T>
Var<T> softplus(Var<T> x);
/// x Phi(x) with the exact normal CDF Phi (Keras' and PyTorch's default, not the tanh
/// approximation).
template <class T>
Var<T> gelu(Var<T> x);

// ---------------------------------------------------------------------------------------------
// Row-wise functions, on the row kernels of <simdiff/rowwise.h>

/// log sum_c exp(x[r, c]) per row: [rows x 1].
template <class T>
Var<T> logsumexp(Var<T> x);
/// Softmax (log-softmax) of each row: the shape of x.
template <class T>
Var<T> softmax(Var<T> x);
template <class T>
Var<T> log_softmax(Var<T> x);

// ---------------------------------------------------------------------------------------------
// Losses

/// The reduced loss of <simdiff/losses.h> of y_pred (a [batch x classes] matrix: logits when the
/// loss is from_logits) against `y_true` ([batch x classes], or `batch` labels for
/// SparseCategoricalCrossentropy), as a scalar. The forward pass runs the loss's fused
/// `value_and_grad` and saves its gradient, so the backward pass is dy_pred += dloss * gradient.
/// `y_true` and `sample_weight` are read during this call only. With Reduction::none the result
/// is the sum of the per-sample losses (as Loss::operator() returns). Argument errors are those of
/// Loss::value_and_grad.
template <class T>
Var<T> compute_loss(const Loss& loss, Var<T> y_pred, std::span<const T> y_true,
                    std::span<const T> sample_weight = {});

// ---------------------------------------------------------------------------------------------
// Shape ops

/// The same elements with another shape of the same size (no copy).
template <class T>
Var<T> reshape(Var<T> x, Shape shape);
/// The [cols x rows] transpose of the matrix view of x.
template <class T>
Var<T> transpose(Var<T> x);

}  // namespace simdiff
