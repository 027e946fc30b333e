// The GEMM kernels every backend target provides, and the arguments they take. The public
// functions (lib/gemm/gemm.cc) check the arguments, pick the table of the selected backend and
// target, size a workspace, then call `run`; kernels trust their arguments and never throw.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "simdiff/gemm.h"

namespace simdiff::detail {

/// One product C = activation(alpha op(A) op(B) + beta C + bias), the shapes of <simdiff/gemm.h>.
/// The caller guarantees m, n >= 1, the leading dimensions, buffers that hold their matrices and
/// an output that overlaps no input. `bias` is nullptr or has n elements.
template <class T>
struct GemmArgs {
  bool trans_a;
  bool trans_b;
  std::size_t m;
  std::size_t n;
  std::size_t k;
  T alpha;
  const T* a;
  std::size_t lda;
  const T* b;
  std::size_t ldb;
  T beta;
  const T* bias;
  Activation activation;
  T* c;
  std::size_t ldc;
};

template <class T>
struct GemmKernels {
  /// Elements of the workspace `run` needs for `args` (0 for none).
  std::size_t (*workspace_elements)(const GemmArgs<T>& args) noexcept;
  /// Computes the product; `workspace` is 64-byte aligned and has workspace_elements(args)
  /// elements. The result of every element of C depends only on the inputs of that element and
  /// the shape (m, n, k, transposes), never on how a caller splits C into sub-products along
  /// rows or columns: splitting stays bit-exact.
  void (*run)(const GemmArgs<T>& args, T* workspace) noexcept;
};

/// The GEMM kernels of one target of one backend; `target` is the name the backend gives the
/// target in its KernelTable (lib/kernel_table.h).
struct GemmTable {
  std::string target;
  GemmKernels<float> f32;
  GemmKernels<double> f64;

  template <class T>
  [[nodiscard]] const GemmKernels<T>& of() const noexcept {
    if constexpr (sizeof(T) == sizeof(float)) {
      return f32;
    } else {
      return f64;
    }
  }
};

/// Tables of the targets this CPU runs, best first (the order of highway_kernel_tables()).
std::vector<GemmTable> highway_gemm_tables();
std::vector<GemmTable> scalar_gemm_tables();
/// The CBLAS provider's table ("openblas" or "cblas"), or none when the build has no CBLAS.
std::vector<GemmTable> cblas_gemm_tables();

}  // namespace simdiff::detail
