// The activations of the GEMM epilogue (<simdiff/gemm.h>) on one element, in portable C++: the
// scalar backend's kernel and the CBLAS provider's second pass over C share them.
#pragma once

#include <cmath>

#include "simdiff/gemm.h"

namespace simdiff::detail {

template <class T>
T activate(T x, Activation activation) {
  switch (activation) {
    case Activation::none:
      return x;
    case Activation::relu:
      return x < T(0) ? T(0) : x;  // NaN stays NaN
    case Activation::sigmoid: {
      const T t = std::exp(-std::fabs(x));  // in [0, 1]: never overflows
      return x >= 0 ? 1 / (1 + t) : t / (1 + t);
    }
    case Activation::tanh:
      return std::tanh(x);
  }
  return x;
}

}  // namespace simdiff::detail
