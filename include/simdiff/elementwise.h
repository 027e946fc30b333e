// Element-wise functions the losses are built from, for `float` and `double`, on the backend
// selected in <simdiff/backend.h>.
//
// Common contract: `y` must have exactly `x.size()` elements (else `std::invalid_argument` naming
// both sizes); `y` may be `x` itself, any other overlap throws. NaN in gives NaN out. Accuracy
// against a `long double` reference (asserted by tests/test_elementwise.cc), for results of normal
// magnitude: within 4 ulp on every backend and target (measured worst: 3.4 ulp float, 2.2 ulp
// double).
// Results below the normal range are computed with gradual underflow, so their error is at most a
// few units of the smallest subnormal.
#pragma once

#include <span>

namespace simdiff {

/// y = e^x. +inf above the overflow threshold (88.72 float, 709.78 double), 0 below the subnormal
/// range (-103.97 float, -745.13 double).
void exp(std::span<const float> x, std::span<float> y);
void exp(std::span<const double> x, std::span<double> y);

/// y = ln x: -inf at +-0, NaN below 0, +inf at +inf.
void log(std::span<const float> x, std::span<float> y);
void log(std::span<const double> x, std::span<double> y);

/// y = ln(1 + x), exact for tiny x: -inf at -1, NaN below -1.
void log1p(std::span<const float> x, std::span<float> y);
void log1p(std::span<const double> x, std::span<double> y);

/// y = 1 / (1 + e^-x), computed without overflow for every x; 0 at -inf, 1 at +inf.
void sigmoid(std::span<const float> x, std::span<float> y);
void sigmoid(std::span<const double> x, std::span<double> y);

/// y = ln(1 + e^x) = max(x, 0) + log1p(e^-|x|), without overflow; equals x for large x.
void softplus(std::span<const float> x, std::span<float> y);
void softplus(std::span<const double> x, std::span<double> y);

/// y = ln(sigmoid(x)) = -softplus(-x), without overflow; equals x for very negative x.
void log_sigmoid(std::span<const float> x, std::span<float> y);
void log_sigmoid(std::span<const double> x, std::span<double> y);

}  // namespace simdiff
