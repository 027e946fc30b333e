// The table of kernel entry points that every backend target fills in. The public functions check
// their arguments, then call through the table of the selected target; kernels trust their
// arguments (validated shapes, rows >= 0, cols >= 1, stride >= cols) and never throw.
#pragma once

#include <cstddef>
#include <cstdint>
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

  // Fused loss kernels. Each computes per-row loss values and, when `grad` is not nullptr, the
  // gradient of sum_r scale[r] * loss[r] with respect to x in the same sweep (`scale` has `rows`
  // entries; with grad == nullptr it may be nullptr). `grad` has the shape of x; `loss` has `rows`
  // entries. Terms whose target weight is exactly 0 contribute 0 even where x is infinite.

  // Softmax cross-entropy against integer labels with label smoothing s:
  //   loss[r] = lse(x_r) - (1 - s) x[r, label_r] - (s / cols) sum_c x[r, c]
  //   grad[r, c] = scale[r] * (softmax(x_r)_c - (1 - s) [c == label_r] - s / cols)
  // label_r < 0 marks an ignored row: loss 0 and a zero gradient row. Other labels are < cols.
  void (*sparse_softmax_cross_entropy)(const T* x, const std::int64_t* labels, const T* scale,
                                       T smoothing, T* loss, T* grad, std::size_t rows,
                                       std::size_t cols, std::size_t stride);
  // Softmax cross-entropy against dense (soft) targets t, smoothed to t' = (1 - s) t + s / cols:
  //   loss[r] = lse(x_r) sum_c t'[r, c] - sum_c t'[r, c] x[r, c]
  //   grad[r, c] = scale[r] * (softmax(x_r)_c sum_k t'[r, k] - t'[r, c])
  // `targets` has the shape (and stride) of x.
  void (*softmax_cross_entropy)(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                                T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
  // Binary cross-entropy of sigmoid(x) against t' = (1 - s) t + s / 2, averaged over each row:
  //   loss[r] = mean_c (max(x, 0) - x t' + log1p(exp(-|x|)))
  //   grad[r, c] = scale[r] / cols * (sigmoid(x[r, c]) - t'[r, c])
  void (*sigmoid_cross_entropy)(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                                T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
  // counts[r] = number of c with x[r, c] > threshold[r] (the top-k test: a hit when count < k).
  // A NaN threshold counts every entry.
  void (*count_greater)(const T* x, const T* threshold, std::size_t* counts, std::size_t rows,
                        std::size_t cols, std::size_t stride);

  // Element-wise activations of the autodiff ops (not part of the public element-wise API).
  // tanh: within 4 ulp on every backend and target for results of normal magnitude (Highway's
  // hn::Tanh, xsimd::tanh, std::tanh), +-1 beyond the saturation point, NaN for NaN.
  void (*tanh)(const T* x, T* y, std::size_t n);
  // sqrt: correctly rounded (IEEE square root instructions, std::sqrt), NaN below 0.
  void (*sqrt)(const T* x, T* y, std::size_t n);
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
