// Reference results computed in `long double`, written independently of every backend (the scalar
// backend is under test like the others). Special values follow PyTorch 1.13, which was run on
// the rows quoted in test_special_values.cc.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

namespace simdiff_test {

using Real = long double;

inline constexpr Real kInf = std::numeric_limits<Real>::infinity();
inline constexpr Real kNaN = std::numeric_limits<Real>::quiet_NaN();

/// e^x, but 0 below -10000 without the library call (slow there): the results are compared in
/// float and double, where anything below e^-745 is 0.
inline Real exp_or_zero(Real x) { return x < -10000 ? 0 : std::exp(x); }

/// Everything the forward row kernels compute, for one row.
struct RowReference {
  Real max = 0;
  std::size_t argmax = 0;
  Real logsumexp = 0;
  std::vector<Real> softmax;
  std::vector<Real> log_softmax;
};

template <class T>
RowReference reference_row(std::span<const T> row) {
  RowReference ref;
  const std::size_t n = row.size();
  bool has_nan = false;
  bool has_pos_inf = false;
  std::size_t first_nan = 0;
  std::size_t best = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (std::isnan(row[i])) {
      if (!has_nan) first_nan = i;
      has_nan = true;
    } else {
      has_pos_inf = has_pos_inf || row[i] == std::numeric_limits<T>::infinity();
      // A strict comparison keeps the first of equal maxima; NaN entries never become `best`
      // unless row[0] is NaN, which the has_nan branch covers.
      if (std::isnan(row[best]) || row[i] > row[best]) best = i;
    }
  }
  ref.softmax.assign(n, kNaN);
  ref.log_softmax.assign(n, kNaN);
  if (has_nan) {
    ref.max = kNaN;
    ref.argmax = first_nan;
    ref.logsumexp = kNaN;
    return ref;
  }
  ref.argmax = best;
  ref.max = row[best];
  if (has_pos_inf) {  // inf - inf in the shifted exponentials: NaN, as in PyTorch
    ref.logsumexp = kInf;
    return ref;
  }
  if (ref.max == -kInf) {  // every element -inf: 0 / 0
    ref.logsumexp = -kInf;
    return ref;
  }
  const Real max = ref.max;
  Real sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ref.softmax[i] = exp_or_zero(Real(row[i]) - max);
    sum += ref.softmax[i];
  }
  const Real log_sum = std::log(sum);
  ref.logsumexp = max + log_sum;
  for (std::size_t i = 0; i < n; ++i) {
    ref.softmax[i] /= sum;
    ref.log_softmax[i] = (Real(row[i]) - max) - log_sum;
  }
  return ref;
}

// Vector-Jacobian products from their closed forms, for one row.

/// dx = y * (dy - <y, dy>)
template <class T>
std::vector<Real> reference_softmax_backward(std::span<const T> y, std::span<const T> dy) {
  Real dot = 0;
  for (std::size_t i = 0; i < y.size(); ++i) dot += Real(y[i]) * Real(dy[i]);
  std::vector<Real> dx(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) dx[i] = Real(y[i]) * (Real(dy[i]) - dot);
  return dx;
}

/// dx = dy - exp(y) * sum(dy)
template <class T>
std::vector<Real> reference_log_softmax_backward(std::span<const T> y, std::span<const T> dy) {
  Real sum = 0;
  for (const T v : dy) sum += v;
  std::vector<Real> dx(y.size());
  for (std::size_t i = 0; i < y.size(); ++i) dx[i] = Real(dy[i]) - exp_or_zero(Real(y[i])) * sum;
  return dx;
}

/// dx = dlse * exp(x - lse)
template <class T>
std::vector<Real> reference_logsumexp_backward(std::span<const T> x, T lse, T dlse) {
  std::vector<Real> dx(x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    dx[i] = Real(dlse) * exp_or_zero(Real(x[i]) - Real(lse));
  return dx;
}

// Element-wise functions.

inline Real reference_exp(Real x) { return std::exp(x); }
inline Real reference_log(Real x) { return std::log(x); }
inline Real reference_log1p(Real x) { return std::log1p(x); }

inline Real reference_sigmoid(Real x) {
  if (std::isnan(x)) return x;
  return x >= 0 ? 1 / (1 + std::exp(-x)) : std::exp(x) / (1 + std::exp(x));
}

inline Real reference_softplus(Real x) {
  if (std::isnan(x)) return x;
  if (x == kInf) return kInf;
  return x > 0 ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}

inline Real reference_log_sigmoid(Real x) { return -reference_softplus(-x); }

}  // namespace simdiff_test
