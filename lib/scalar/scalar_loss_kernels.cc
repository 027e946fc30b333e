// Fused loss kernels in portable C++: the reference path. Row sums in long double.
#include "lib/scalar/scalar_loss_kernels.h"

#include <cmath>
#include <limits>

namespace simdiff::detail::scalar {
namespace {

using Wide = long double;

// Maximum of a row, NaN if it holds one.
template <class T>
T row_max(const T* x, std::size_t cols) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t c = 0; c < cols; ++c) {
    if (std::isnan(x[c])) return x[c];
    if (x[c] > m) m = x[c];
  }
  return m;
}

// t * x with 0 * x = 0 for every x but NaN (a zero-weight term contributes nothing, even at an
// infinite x; NaN propagates).
inline Wide weighted(Wide t, Wide x) { return t == 0 && !std::isnan(x) ? 0 : t * x; }

// Softmax cross-entropy of one row against the targets weight(c), whose sum is target_sum:
//   loss = target_sum lse(x) - sum_c weight(c) x_c.
// It is formed as target_sum log(sum_c exp(x_c - max)) + sum_c weight(c) (max - x_c), whose terms
// do not cancel: lse - x_c formed directly loses every digit for huge logits (at 1e30 the long
// double rounding of lse alone is 5e10). When `softmax` is not nullptr, the row's softmax is
// written to it after x was read (it may be x), NaN throughout for a row whose maximum is not
// finite (a NaN, a +inf, or only -inf).
template <class T, class Weight>
Wide cross_entropy_row(const T* x, std::size_t cols, Wide target_sum, const Weight& weight,
                       T* softmax) {
  const T m = row_max(x, cols);
  Wide loss = 0;
  if (!std::isfinite(m)) {
    // lse is NaN for a NaN or only -inf, +inf for a +inf: the loss is NaN or +-inf.
    const Wide lse = m > 0 ? Wide(m) : std::numeric_limits<Wide>::quiet_NaN();
    loss = weighted(target_sum, lse);
    for (std::size_t c = 0; c < cols; ++c) loss -= weighted(weight(c), x[c]);
    if (softmax != nullptr) {
      for (std::size_t c = 0; c < cols; ++c) softmax[c] = std::numeric_limits<T>::quiet_NaN();
    }
    return loss;
  }
  Wide sum = 0;
  for (std::size_t c = 0; c < cols; ++c) {
    sum += std::exp(static_cast<Wide>(x[c]) - m);
    loss += weighted(weight(c), static_cast<Wide>(m) - static_cast<Wide>(x[c]));
  }
  loss += weighted(target_sum, std::log(sum));
  if (softmax != nullptr) {
    for (std::size_t c = 0; c < cols; ++c) {
      softmax[c] = static_cast<T>(std::exp(static_cast<Wide>(x[c]) - m) / sum);
    }
  }
  return loss;
}

}  // namespace

template <class T>
void sparse_softmax_cross_entropy(const T* x, const std::int64_t* labels, const T* scale,
                                  T smoothing, T* loss, T* grad, std::size_t rows, std::size_t cols,
                                  std::size_t stride) {
  const Wide s = smoothing;
  const Wide uniform = s / static_cast<Wide>(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    T* g = grad == nullptr ? nullptr : grad + r * stride;
    if (labels[r] < 0) {
      loss[r] = 0;
      if (g != nullptr) {
        for (std::size_t c = 0; c < cols; ++c) g[c] = 0;
      }
      continue;
    }
    const auto label = static_cast<std::size_t>(labels[r]);
    // (1 - s) at the label plus s / cols everywhere: the targets sum to 1.
    const auto target = [&](std::size_t c) { return (c == label ? 1 - s : 0) + uniform; };
    loss[r] = static_cast<T>(cross_entropy_row(row, cols, Wide(1), target, g));
    if (g != nullptr) {
      for (std::size_t c = 0; c < cols; ++c) g[c] = static_cast<T>(scale[r] * (g[c] - target(c)));
    }
  }
}

template <class T>
void softmax_cross_entropy(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                           T* grad, std::size_t rows, std::size_t cols, std::size_t stride) {
  const Wide s = smoothing;
  const Wide uniform = s / static_cast<Wide>(cols);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    const T* t = targets + r * stride;
    T* g = grad == nullptr ? nullptr : grad + r * stride;
    const auto smoothed = [&](std::size_t c) { return (1 - s) * t[c] + uniform; };
    Wide target_sum = 0;
    for (std::size_t c = 0; c < cols; ++c) target_sum += smoothed(c);
    loss[r] = static_cast<T>(cross_entropy_row(row, cols, target_sum, smoothed, g));
    if (g != nullptr) {
      for (std::size_t c = 0; c < cols; ++c) {
        g[c] = static_cast<T>(scale[r] * (g[c] * target_sum - smoothed(c)));
      }
    }
  }
}

template <class T>
void sigmoid_cross_entropy(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                           T* grad, std::size_t rows, std::size_t cols, std::size_t stride) {
  const Wide s = smoothing;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    const T* t = targets + r * stride;
    Wide sum = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      const Wide v = row[c];
      const Wide target = (1 - s) * t[c] + s / 2;
      // max(v, 0) - v t = v (1 - t) for v >= 0 and -v t below: zero-weight terms vanish even
      // at infinite v, where the direct formula would give inf - inf.
      const Wide linear = v >= 0 ? weighted(1 - target, row[c]) : weighted(target, -row[c]);
      sum += linear + std::log1p(std::exp(-std::fabs(v)));
    }
    loss[r] = static_cast<T>(sum / static_cast<Wide>(cols));
    if (grad != nullptr) {
      T* g = grad + r * stride;
      for (std::size_t c = 0; c < cols; ++c) {
        const Wide v = row[c];
        const Wide e = std::exp(-std::fabs(v));
        const Wide sigmoid = v >= 0 ? 1 / (1 + e) : e / (1 + e);
        const Wide target = (1 - s) * t[c] + s / 2;
        g[c] = static_cast<T>(scale[r] / static_cast<Wide>(cols) * (sigmoid - target));
      }
    }
  }
}

template <class T>
void count_greater(const T* x, const T* threshold, std::size_t* counts, std::size_t rows,
                   std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    if (std::isnan(threshold[r])) {
      counts[r] = cols;
      continue;
    }
    std::size_t count = 0;
    for (std::size_t c = 0; c < cols; ++c) count += x[r * stride + c] > threshold[r] ? 1 : 0;
    counts[r] = count;
  }
}

#define SIMDIFF_INSTANTIATE(T)                                                                  \
  template void sparse_softmax_cross_entropy<T>(const T*, const std::int64_t*, const T*, T, T*, \
                                                T*, std::size_t, std::size_t, std::size_t);     \
  template void softmax_cross_entropy<T>(const T*, const T*, const T*, T, T*, T*, std::size_t,  \
                                         std::size_t, std::size_t);                             \
  template void sigmoid_cross_entropy<T>(const T*, const T*, const T*, T, T*, T*, std::size_t,  \
                                         std::size_t, std::size_t);                             \
  template void count_greater<T>(const T*, const T*, std::size_t*, std::size_t, std::size_t,    \
                                 std::size_t);
SIMDIFF_INSTANTIATE(float)
SIMDIFF_INSTANTIATE(double)
#undef SIMDIFF_INSTANTIATE

}  // namespace simdiff::detail::scalar
