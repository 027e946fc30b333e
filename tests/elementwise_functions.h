// The element-wise functions under test, each with its name and long double reference.
#pragma once

#include <simdiff/elementwise.h>

#include <span>
#include <string>
#include <vector>

#include "reference.h"

namespace simdiff_test {

template <class T>
struct ElementwiseFunction {
  std::string name;
  void (*kernel)(std::span<const T>, std::span<T>);
  Real (*reference)(Real);
};

template <class T>
std::vector<ElementwiseFunction<T>> elementwise_functions() {
  return {{"exp", simdiff::exp, reference_exp},
          {"log", simdiff::log, reference_log},
          {"log1p", simdiff::log1p, reference_log1p},
          {"sigmoid", simdiff::sigmoid, reference_sigmoid},
          {"softplus", simdiff::softplus, reference_softplus},
          {"log_sigmoid", simdiff::log_sigmoid, reference_log_sigmoid}};
}

}  // namespace simdiff_test
