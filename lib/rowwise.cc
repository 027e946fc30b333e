// Public row-wise primitives: argument checks, then calls into the selected kernel table, on
// contiguous ranges of rows split over threads above a size threshold (lib/threads/chunks.h).
#include "simdiff/rowwise.h"

#include "argument_checks.h"
#include "kernel_table.h"
#include "lib/threads/chunks.h"

namespace simdiff {
namespace {

using detail::active_kernels;
using detail::Aliasing;
using detail::check_overlap;
using detail::check_size;
using detail::checked_extent;

// Validated pieces of a call: the extent of each matrix buffer and the stride. (Copied into plain
// variables by the callers: clang 14 cannot capture structured bindings in lambdas.)
struct Checked {
  std::size_t extent;
  std::size_t stride;
};

Checked check_matrix(const char* function, MatrixShape shape) {
  return {checked_extent(function, shape), shape.row_stride()};
}

template <class T, class Out>
void per_row(const char* function, std::span<const T> x, MatrixShape shape, std::span<Out> out,
             void (*kernel)(const T*, Out*, std::size_t, std::size_t, std::size_t)) {
  const Checked checked = check_matrix(function, shape);
  const std::size_t extent = checked.extent;
  const std::size_t stride = checked.stride;
  check_size(function, "x", x.size(), extent);
  check_size(function, "out", out.size(), shape.rows);
  check_overlap(function, "out", out, shape.rows, "x", x, extent, Aliasing::disjoint_only);
  const T* xs = x.data();
  Out* outs = out.data();
  detail::parallel_rows(
      shape.rows, shape.cols, detail::kRowwiseSplit, [&](std::size_t begin, std::size_t end) {
        kernel(xs + begin * stride, outs + begin, end - begin, shape.cols, stride);
      });
}

template <class T>
void matrix_to_matrix(const char* function, std::span<const T> x, MatrixShape shape, std::span<T> y,
                      void (*kernel)(const T*, T*, std::size_t, std::size_t, std::size_t)) {
  const Checked checked = check_matrix(function, shape);
  const std::size_t extent = checked.extent;
  const std::size_t stride = checked.stride;
  check_size(function, "x", x.size(), extent);
  check_size(function, "y", y.size(), extent);
  check_overlap(function, "y", y, extent, "x", x, extent, Aliasing::in_place_allowed);
  const T* xs = x.data();
  T* ys = y.data();
  detail::parallel_rows(shape.rows, shape.cols, detail::kRowwiseSplit,
                        [&](std::size_t begin, std::size_t end) {
                          const std::size_t offset = begin * stride;
                          kernel(xs + offset, ys + offset, end - begin, shape.cols, stride);
                        });
}

template <class T>
void backward(const char* function, const char* a_name, std::span<const T> a, std::span<const T> dy,
              MatrixShape shape, std::span<T> dx,
              void (*kernel)(const T*, const T*, T*, std::size_t, std::size_t, std::size_t)) {
  const Checked checked = check_matrix(function, shape);
  const std::size_t extent = checked.extent;
  const std::size_t stride = checked.stride;
  check_size(function, a_name, a.size(), extent);
  check_size(function, "dy", dy.size(), extent);
  check_size(function, "dx", dx.size(), extent);
  check_overlap(function, "dx", dx, extent, a_name, a, extent, Aliasing::in_place_allowed);
  check_overlap(function, "dx", dx, extent, "dy", dy, extent, Aliasing::in_place_allowed);
  const T* as = a.data();
  const T* dys = dy.data();
  T* dxs = dx.data();
  detail::parallel_rows(
      shape.rows, shape.cols, detail::kRowwiseSplit, [&](std::size_t begin, std::size_t end) {
        const std::size_t offset = begin * stride;
        kernel(as + offset, dys + offset, dxs + offset, end - begin, shape.cols, stride);
      });
}

template <class T>
void logsumexp_backward_impl(std::span<const T> x, std::span<const T> lse, std::span<const T> dlse,
                             MatrixShape shape, std::span<T> dx) {
  constexpr const char* kFunction = "logsumexp_backward";
  const Checked checked = check_matrix(kFunction, shape);
  const std::size_t extent = checked.extent;
  const std::size_t stride = checked.stride;
  check_size(kFunction, "x", x.size(), extent);
  check_size(kFunction, "lse", lse.size(), shape.rows);
  check_size(kFunction, "dlse", dlse.size(), shape.rows);
  check_size(kFunction, "dx", dx.size(), extent);
  check_overlap(kFunction, "dx", dx, extent, "x", x, extent, Aliasing::in_place_allowed);
  // lse and dlse are read row by row while dx is written: they must not share its memory.
  check_overlap(kFunction, "dx", dx, extent, "lse", lse, shape.rows, Aliasing::disjoint_only);
  check_overlap(kFunction, "dx", dx, extent, "dlse", dlse, shape.rows, Aliasing::disjoint_only);
  const auto kernel = active_kernels().of<T>().logsumexp_backward;
  detail::parallel_rows(shape.rows, shape.cols, detail::kRowwiseSplit,
                        [&](std::size_t begin, std::size_t end) {
                          const std::size_t offset = begin * stride;
                          kernel(x.data() + offset, lse.data() + begin, dlse.data() + begin,
                                 dx.data() + offset, end - begin, shape.cols, stride);
                        });
}

}  // namespace

#define SIMDIFF_ROWWISE_FOR(T)                                                                     \
  void row_max(std::span<const T> x, MatrixShape shape, std::span<T> out) {                        \
    per_row("row_max", x, shape, out, active_kernels().of<T>().row_max);                           \
  }                                                                                                \
  void row_argmax(std::span<const T> x, MatrixShape shape, std::span<std::size_t> out) {           \
    per_row("row_argmax", x, shape, out, active_kernels().of<T>().row_argmax);                     \
  }                                                                                                \
  void logsumexp(std::span<const T> x, MatrixShape shape, std::span<T> out) {                      \
    per_row("logsumexp", x, shape, out, active_kernels().of<T>().logsumexp);                       \
  }                                                                                                \
  void softmax(std::span<const T> x, MatrixShape shape, std::span<T> y) {                          \
    matrix_to_matrix<T>("softmax", x, shape, y, active_kernels().of<T>().softmax);                 \
  }                                                                                                \
  void softmax_inplace(std::span<T> x, MatrixShape shape) {                                        \
    matrix_to_matrix<T>("softmax_inplace", x, shape, x, active_kernels().of<T>().softmax);         \
  }                                                                                                \
  void log_softmax(std::span<const T> x, MatrixShape shape, std::span<T> y) {                      \
    matrix_to_matrix<T>("log_softmax", x, shape, y, active_kernels().of<T>().log_softmax);         \
  }                                                                                                \
  void log_softmax_inplace(std::span<T> x, MatrixShape shape) {                                    \
    matrix_to_matrix<T>("log_softmax_inplace", x, shape, x, active_kernels().of<T>().log_softmax); \
  }                                                                                                \
  void softmax_backward(std::span<const T> y, std::span<const T> dy, MatrixShape shape,            \
                        std::span<T> dx) {                                                         \
    backward<T>("softmax_backward", "y", y, dy, shape, dx,                                         \
                active_kernels().of<T>().softmax_backward);                                        \
  }                                                                                                \
  void log_softmax_backward(std::span<const T> y, std::span<const T> dy, MatrixShape shape,        \
                            std::span<T> dx) {                                                     \
    backward<T>("log_softmax_backward", "y", y, dy, shape, dx,                                     \
                active_kernels().of<T>().log_softmax_backward);                                    \
  }                                                                                                \
  void logsumexp_backward(std::span<const T> x, std::span<const T> lse, std::span<const T> dlse,   \
                          MatrixShape shape, std::span<T> dx) {                                    \
    logsumexp_backward_impl<T>(x, lse, dlse, shape, dx);                                           \
  }

SIMDIFF_ROWWISE_FOR(float)
SIMDIFF_ROWWISE_FOR(double)
#undef SIMDIFF_ROWWISE_FOR

}  // namespace simdiff
