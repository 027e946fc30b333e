// The scalar optimizer kernels (the reference path), and the choice of the table that follows the
// backend selected in <simdiff/backend.h>.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "lib/optimizers/optimizer_kernels.h"
#include "simdiff/backend.h"

namespace simdiff::detail {
namespace {

void sgd(float* v, const float* g, float* m, std::size_t n, float lr, float momentum,
         bool nesterov) {
  for (std::size_t i = 0; i < n; ++i) {
    const float step = g[i] * lr;
    if (m == nullptr) {
      v[i] -= step;
      continue;
    }
    m[i] = m[i] * momentum - step;
    v[i] += nesterov ? m[i] * momentum - step : m[i];
  }
}

void rmsprop(float* v, const float* g, float* a, float* m, float* mg, std::size_t n, float lr,
             float rho, float momentum, float epsilon) {
  const float keep = 1.0f - rho;
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = rho * a[i] + keep * (g[i] * g[i]);
    float denominator = a[i] + epsilon;
    if (mg != nullptr) {
      mg[i] = rho * mg[i] + keep * g[i];
      denominator = (a[i] - mg[i] * mg[i]) + epsilon;
    }
    const float increment = (lr * g[i]) / std::sqrt(denominator);
    if (m != nullptr) {
      m[i] = momentum * m[i] + increment;
      v[i] -= m[i];
    } else {
      v[i] -= increment;
    }
  }
}

void adam(float* v, const float* g, float* m, float* s, float* s_max, std::size_t n, float alpha,
          float beta_1, float beta_2, float epsilon) {
  const float keep1 = 1.0f - beta_1;
  const float keep2 = 1.0f - beta_2;
  for (std::size_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * keep1;
    s[i] += (g[i] * g[i] - s[i]) * keep2;
    float second = s[i];
    if (s_max != nullptr) {
      s_max[i] = std::max(s_max[i], s[i]);
      second = s_max[i];
    }
    v[i] -= (m[i] * alpha) / (std::sqrt(second) + epsilon);
  }
}

double sum_squares(const float* g, std::size_t n) {
  double total = 0;
  for (std::size_t i = 0; i < n; ++i) total += static_cast<double>(g[i]) * g[i];
  return total;
}

void scale(float* g, std::size_t n, float factor) {
  for (std::size_t i = 0; i < n; ++i) g[i] *= factor;
}

void clip(float* g, std::size_t n, float limit) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isnan(g[i])) g[i] = std::clamp(g[i], -limit, limit);
  }
}

void decay(float* v, std::size_t n, float factor) {
  for (std::size_t i = 0; i < n; ++i) v[i] -= v[i] * factor;
}

}  // namespace

OptimizerKernels scalar_optimizer_kernels() {
  return {"scalar", &sgd, &rmsprop, &adam, &sum_squares, &scale, &clip, &decay};
}

const OptimizerKernels& active_optimizer_kernels() {
  static const std::vector<OptimizerKernels> highway = highway_optimizer_kernels();
  static const OptimizerKernels scalar = scalar_optimizer_kernels();
  const BackendInfo info = backend_info();
  switch (info.backend) {
    case Backend::scalar:
      return scalar;
    case Backend::xsimd:
      return highway.front();  // documented in <simdiff/optimizers.h>
    case Backend::highway:
      for (const auto& table : highway) {
        if (table.target == info.target) return table;
      }
      break;
  }
  throw std::logic_error("optimizer: no kernels for the selected target " + info.target);
}

}  // namespace simdiff::detail
