// The accuracy the public headers promise (include/simdiff/rowwise.h and elementwise.h), as test
// tolerances against the long double references. Keep these and the header comments in sync.
// Tolerances are doubles: their own rounding does not matter, and long double arithmetic is slow
// where it is emulated.
//
// The suite prints the largest error it sees per kernel as a fraction of these bounds. Measured on
// every target of x86-64 (AVX-512 CPU) and aarch64 (qemu, SVE2 and NEON), the row kernels stay
// below 0.35 of the float bounds and 0.25 of the double bounds (plus the rounding of x - max
// for softmax, which a kernel reaches but cannot exceed), and the element-wise functions below
// 3.4 ulp (float) and 2.2 ulp (double).
#pragma once

#include <cmath>
#include <limits>

#include "reference.h"
#include "test_support.h"

namespace simdiff_test {

template <class T>
struct Bounds;

template <>
struct Bounds<float> {
  /// Half the distance from 1 to the next float: the relative rounding error of one operation.
  static constexpr double unit_roundoff = 0x1p-24;
  static constexpr double logsumexp_absolute = 1e-6;
  static constexpr double logsumexp_relative = 1e-6;
  static constexpr double softmax_relative = 1e-6;
  static constexpr double log_softmax_absolute = 1e-6;
  static constexpr double log_softmax_relative = 1e-6;
  static constexpr double elementwise_ulp = 4;
  static constexpr double backward_relative = 1e-6;
};

/// Double bounds: about 18 units of rounding, 5 times the largest error measured.
template <>
struct Bounds<double> {
  static constexpr double unit_roundoff = 0x1p-53;
  static constexpr double logsumexp_absolute = 2e-15;
  static constexpr double logsumexp_relative = 2e-15;
  static constexpr double softmax_relative = 2e-15;
  static constexpr double log_softmax_absolute = 2e-15;
  static constexpr double log_softmax_relative = 2e-15;
  static constexpr double elementwise_ulp = 4;
  static constexpr double backward_relative = 2e-15;
};

/// Log-sum-exp is a logarithm: near 0 only an absolute error is meaningful (and attainable: the
/// error of the sum becomes an absolute error of its logarithm).
template <class T>
double logsumexp_tolerance(double expected) {
  return Bounds<T>::logsumexp_absolute + Bounds<T>::logsumexp_relative * std::fabs(expected);
}

/// `shifted` is x - max of the element. Every implementation forms x - max in T before the
/// exponential, and its rounding (up to |x - max| u) becomes a relative error of the result:
/// the bound has that term on top of the kernel's own error. Outputs below the smallest normal
/// number may be flushed to zero.
template <class T>
double softmax_tolerance(double expected, double shifted) {
  const double min_normal = std::numeric_limits<T>::min();
  if (std::fabs(expected) < min_normal) return min_normal;
  return (Bounds<T>::softmax_relative + std::fabs(shifted) * Bounds<T>::unit_roundoff) *
         std::fabs(expected);
}

template <class T>
double log_softmax_tolerance(double expected) {
  return Bounds<T>::log_softmax_absolute + Bounds<T>::log_softmax_relative * std::fabs(expected);
}

/// Element-wise results: within the ulp bound, counted in the smallest subnormal below the normal
/// range. Results that round to 0 with margin (below a quarter of the smallest subnormal) must be
/// exactly 0, not subnormal garbage: the allowed error |reference| admits 0 and nothing else.
template <class T>
Expected expect_elementwise(Real reference) {
  const double magnitude = std::fabs(static_cast<double>(reference));
  if (magnitude < static_cast<double>(std::numeric_limits<T>::denorm_min()) / 4) {
    return expect<T>(reference, magnitude, /*measured=*/false);
  }
  return expect<T>(reference,
                   Bounds<T>::elementwise_ulp * ulp_of<T>(static_cast<double>(reference)));
}

// The backward kernels' errors scale with the magnitude of the terms they combine (there is
// cancellation in dy - <y, dy>), so their bounds are relative to those magnitudes. Results in the
// subnormal range may be off by a few of the smallest subnormals.
template <class T>
double subnormal_allowance() {
  return 4 * double(std::numeric_limits<T>::denorm_min());
}

/// dx = y (dy - <y, dy>): relative to |y| (|dy| + sum |y dy|).
template <class T>
double softmax_backward_tolerance(double y, double dy, double sum_abs_y_dy) {
  return Bounds<T>::backward_relative * std::fabs(y) * (std::fabs(dy) + sum_abs_y_dy) +
         subnormal_allowance<T>();
}

/// dx = dy - exp(y) sum(dy): relative to |dy| + exp(y) sum |dy|.
template <class T>
double log_softmax_backward_tolerance(double y, double dy, double sum_abs_dy) {
  return Bounds<T>::backward_relative * (std::fabs(dy) + std::exp(y) * sum_abs_dy) +
         subnormal_allowance<T>();
}

/// dx = dlse exp(x - lse): relative, plus the rounding of x - lse in T (see softmax_tolerance).
template <class T>
double logsumexp_backward_tolerance(double expected, double x_minus_lse) {
  return (Bounds<T>::backward_relative + std::fabs(x_minus_lse) * Bounds<T>::unit_roundoff) *
             std::fabs(expected) +
         subnormal_allowance<T>();
}

}  // namespace simdiff_test
