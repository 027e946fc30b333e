// The CBLAS provider of <simdiff/gemm.h> (CMake option SIMDIFF_WITH_CBLAS): cblas_sgemm and
// cblas_dgemm on the library the build found, then the epilogue (bias, activation) as a second
// pass over C. Without the option, the provider list is empty.
#include <mutex>

#include "lib/gemm/gemm_kernels.h"
#include "lib/gemm/scalar_activation.h"

#ifdef SIMDIFF_HAVE_CBLAS
#include <cblas.h>
#ifdef SIMDIFF_CBLAS_IS_OPENBLAS
extern "C" void openblas_set_num_threads(int num_threads);
#endif
#endif

namespace simdiff::detail {

#ifdef SIMDIFF_HAVE_CBLAS
namespace {

template <class T>
std::size_t workspace_elements(const GemmArgs<T>&) noexcept {
  return 0;
}

template <class T>
void gemm(const GemmArgs<T>& g, T*) noexcept {
  // The public layer checked that every size fits an int. CBLAS wants leading dimensions >= 1
  // even for empty matrices (k == 0), which simdiff allows to be 0.
  const auto i = [](std::size_t x) { return static_cast<int>(x); };
  const auto ld = [](std::size_t x) { return static_cast<int>(x == 0 ? 1 : x); };
  const auto ta = g.trans_a ? CblasTrans : CblasNoTrans;
  const auto tb = g.trans_b ? CblasTrans : CblasNoTrans;
  if constexpr (sizeof(T) == sizeof(float)) {
    cblas_sgemm(CblasRowMajor, ta, tb, i(g.m), i(g.n), i(g.k), g.alpha, g.a, ld(g.lda), g.b,
                ld(g.ldb), g.beta, g.c, ld(g.ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, i(g.m), i(g.n), i(g.k), g.alpha, g.a, ld(g.lda), g.b,
                ld(g.ldb), g.beta, g.c, ld(g.ldc));
  }
  if (g.bias == nullptr && g.activation == Activation::none) return;
  for (std::size_t r = 0; r < g.m; ++r) {
    T* row = g.c + r * g.ldc;
    for (std::size_t j = 0; j < g.n; ++j) {
      row[j] = activate(g.bias ? row[j] + g.bias[j] : row[j], g.activation);
    }
  }
}

}  // namespace

std::vector<GemmTable> cblas_gemm_tables() {
#ifdef SIMDIFF_CBLAS_IS_OPENBLAS
  // simdiff's pool splits the work; OpenBLAS's own threads would oversubscribe the cores.
  static std::once_flag once;
  std::call_once(once, [] { openblas_set_num_threads(1); });
  const char* name = "openblas";
#else
  const char* name = "cblas";
#endif
  return {GemmTable{name,
                    {&workspace_elements<float>, &gemm<float>},
                    {&workspace_elements<double>, &gemm<double>}}};
}
#else
std::vector<GemmTable> cblas_gemm_tables() { return {}; }
#endif

}  // namespace simdiff::detail
