// The table of kernel entry points that every backend target fills in. The public functions check
// their arguments, then call through the table of the selected target; kernels trust their
// arguments (validated shapes, rows >= 0, cols >= 1, stride >= cols) and never throw.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace simdiff::detail {

/// Kernels for one element type. Row kernels take (inputs..., outputs..., rows, cols, stride);
/// element-wise kernels take (x, y, n). An output may equal an input (in-place) but never overlap
/// it otherwise.
template <class T>
struct TypedKernels {
  void (*row_max)(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride);
  void (*row_argmax)(const T* x, std::size_t* out, std::size_t rows, std::size_t cols,
                     std::size_t stride);
  void (*logsumexp)(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride);
  void (*softmax)(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride);
  void (*log_softmax)(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride);
  void (*softmax_backward)(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                           std::size_t stride);
  void (*log_softmax_backward)(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                               std::size_t stride);
  void (*logsumexp_backward)(const T* x, const T* lse, const T* dlse, T* dx, std::size_t rows,
                             std::size_t cols, std::size_t stride);
  void (*exp)(const T* x, T* y, std::size_t n);
  void (*log)(const T* x, T* y, std::size_t n);
  void (*log1p)(const T* x, T* y, std::size_t n);
  void (*sigmoid)(const T* x, T* y, std::size_t n);
  void (*softplus)(const T* x, T* y, std::size_t n);
  void (*log_sigmoid)(const T* x, T* y, std::size_t n);
};

/// All kernels of one target of one backend.
struct KernelTable {
  std::string target;
  TypedKernels<float> f32;
  TypedKernels<double> f64;

  template <class T>
  [[nodiscard]] const TypedKernels<T>& of() const noexcept {
    if constexpr (sizeof(T) == sizeof(float)) {
      return f32;
    } else {
      return f64;
    }
  }
};

/// Tables of the targets this CPU runs, best first. Each backend defines its function; the xsimd
/// one returns an empty list when the library was built without xsimd.
std::vector<KernelTable> highway_kernel_tables();
std::vector<KernelTable> xsimd_kernel_tables();
std::vector<KernelTable> scalar_kernel_tables();

/// The table of the selected backend and target (see <simdiff/backend.h>).
const KernelTable& active_kernels();

}  // namespace simdiff::detail
