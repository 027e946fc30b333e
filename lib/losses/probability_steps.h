// The element-wise steps the probability losses share, in the element type T as Keras runs them
// in the tensor dtype: label smoothing, the clip to [eps, 1 - eps] and the sigmoid. Keeping them
// in T is what makes the float results follow Keras' float32 ones near the clip (1 - 1e-7 is
// 0.99999988 in float, so a float loss of y = 0 at p = 1 is -ln(1.19e-7) = 15.94, not 16.12).
#pragma once

#include <cmath>
#include <cstddef>

#include "simdiff/losses.h"

namespace simdiff::detail {

template <class T>
struct ProbabilityClip {
  static constexpr T low = static_cast<T>(kKerasEpsilon);
  static constexpr T high = static_cast<T>(1.0 - kKerasEpsilon);
};

/// clip(p, eps, 1 - eps); NaN stays NaN.
template <class T>
T clip_probability(T p) {
  if (p < ProbabilityClip<T>::low) return ProbabilityClip<T>::low;
  if (p > ProbabilityClip<T>::high) return ProbabilityClip<T>::high;
  return p;
}

/// Whether the clip passes the gradient at p: on the closed interval [eps, 1 - eps] (TensorFlow's
/// clip_by_value and torch.clamp), and at NaN, so that a NaN input reaches the gradient.
template <class T>
bool clip_passes_gradient(T p) {
  return !(p < ProbabilityClip<T>::low) && !(p > ProbabilityClip<T>::high);
}

/// -(y ln p + (1 - y) ln(1 - p)) of a clipped p (1 - p formed in T). Both logarithms are finite,
/// so a term whose weight is exactly 0 is skipped without changing the result: hard 0/1 targets
/// need one logarithm instead of two.
template <class T>
double binary_crossentropy_of_clipped(T y, T clipped) {
  const T one_minus_y = T{1} - y;
  double sum = 0;
  if (y != 0) sum += static_cast<double>(y) * std::log(static_cast<double>(clipped));
  if (one_minus_y != 0) {
    sum += static_cast<double>(one_minus_y) * std::log(static_cast<double>(T{1} - clipped));
  }
  return -sum;
}

/// Binary label smoothing y (1 - ls) + ls / 2, applied only when ls != 0 (`if label_smoothing:`).
template <class T>
T smooth_binary_target(T y, double label_smoothing) {
  if (label_smoothing == 0) return y;
  return y * static_cast<T>(1.0 - label_smoothing) + static_cast<T>(0.5 * label_smoothing);
}

/// Categorical label smoothing y (1 - ls) + ls / C, applied only when ls != 0.
template <class T>
T smooth_categorical_target(T y, double label_smoothing, std::size_t classes) {
  if (label_smoothing == 0) return y;
  return y * static_cast<T>(1.0 - label_smoothing) +
         static_cast<T>(label_smoothing / static_cast<double>(classes));
}

/// 1 / (1 + exp(-x)) with the division in T (as ops.sigmoid in the tensor dtype: in float,
/// sigmoid(17) is exactly 1, so the focal loss's clip removes its gradient there); exact limits
/// 0 and 1 at -inf and +inf, NaN for NaN.
template <class T>
T sigmoid(T x) {
  const T e = static_cast<T>(std::exp(-static_cast<double>(x)));
  return T{1} / (T{1} + e);
}

}  // namespace simdiff::detail
