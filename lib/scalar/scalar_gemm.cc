// The scalar backend's GEMM: the textbook loops in portable C++, the reference the SIMD kernels
// are compared with. Each element is one dot product accumulated in T, p ascending.
#include "lib/gemm/gemm_kernels.h"
#include "lib/gemm/scalar_activation.h"

namespace simdiff::detail {
namespace {

template <class T>
std::size_t workspace_elements(const GemmArgs<T>&) noexcept {
  return 0;
}

template <class T>
void gemm(const GemmArgs<T>& g, T*) noexcept {
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < g.n; ++j) {
      T sum = 0;
      for (std::size_t p = 0; p < g.k; ++p) {
        const T a = g.trans_a ? g.a[p * g.lda + i] : g.a[i * g.lda + p];
        const T b = g.trans_b ? g.b[j * g.ldb + p] : g.b[p * g.ldb + j];
        sum += a * b;
      }
      T& c = g.c[i * g.ldc + j];
      T value = g.alpha * sum;
      if (g.beta != T(0)) value += g.beta * c;
      if (g.bias != nullptr) value += g.bias[j];
      c = activate(value, g.activation);
    }
  }
}

}  // namespace

std::vector<GemmTable> scalar_gemm_tables() {
  return {GemmTable{"scalar",
                    {&workspace_elements<float>, &gemm<float>},
                    {&workspace_elements<double>, &gemm<double>}}};
}

}  // namespace simdiff::detail
