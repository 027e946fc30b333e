// Element-wise kernels of the optimizers over a flat float buffer, one table per target of each
// backend. Kernels trust their arguments (n >= 1, disjoint buffers, slots of n elements) and never
// throw; Optimizer::apply in optimizer.cc validates and picks the table.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace simdiff::detail {

struct OptimizerKernels {
  std::string target;
  // v -= lr g (m == nullptr), else m = momentum m - lr g; v += m, or v += momentum m - lr g
  // (nesterov).
  void (*sgd)(float* v, const float* g, float* m, std::size_t n, float lr, float momentum,
              bool nesterov);
  // a = rho a + (1 - rho) g^2; with mg: mg = rho mg + (1 - rho) g and d = a - mg^2 + eps, else
  // d = a + eps; inc = lr g / sqrt(d); with m: m = momentum m + inc, v -= m; else v -= inc.
  void (*rmsprop)(float* v, const float* g, float* a, float* m, float* mg, std::size_t n, float lr,
                  float rho, float momentum, float epsilon);
  // m += (g - m)(1 - beta_1); s += (g^2 - s)(1 - beta_2); with s_max: s_max = max(s_max, s) and
  // s_max replaces s below; v -= m alpha / (sqrt(s) + eps).
  void (*adam)(float* v, const float* g, float* m, float* s, float* s_max, std::size_t n,
               float alpha, float beta_1, float beta_2, float epsilon);
  // sum of g^2, accumulated in double across blocks (float within a block of a few hundred).
  double (*sum_squares)(const float* g, std::size_t n);
  // g *= factor.
  void (*scale)(float* g, std::size_t n, float factor);
  // g = min(max(g, -limit), limit); NaN stays NaN.
  void (*clip)(float* g, std::size_t n, float limit);
  // v -= v * factor (Keras' weight decay: variable - variable * wd * lr).
  void (*decay)(float* v, std::size_t n, float factor);
};

std::vector<OptimizerKernels> highway_optimizer_kernels();
OptimizerKernels scalar_optimizer_kernels();

/// The table of the backend and target selected in <simdiff/backend.h> (the best Highway target
/// when the xsimd backend is selected).
const OptimizerKernels& active_optimizer_kernels();

}  // namespace simdiff::detail
