// The scalar backend: portable C++ on <cmath>, the reference path and the fallback. Row sums are
// accumulated in double (long double for double rows), one element at a time.
#include <cmath>
#include <limits>

#include "lib/kernel_table.h"
#include "lib/scalar/scalar_loss_kernels.h"

namespace simdiff::detail {
namespace {

template <class T>
using Wide = std::conditional_t<std::is_same_v<T, float>, double, long double>;

// NaN-propagating maximum of a row; NaN if the row holds one.
template <class T>
T max_of(const T* x, std::size_t cols) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::size_t c = 0; c < cols; ++c) {
    if (std::isnan(x[c])) return x[c];
    m = x[c] > m ? x[c] : m;
  }
  return m;
}

template <class T>
void row_max(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) out[r] = max_of(x + r * stride, cols);
}

template <class T>
void row_argmax(const T* x, std::size_t* out, std::size_t rows, std::size_t cols,
                std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    std::size_t best = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      if (std::isnan(row[c])) {
        best = c;
        break;
      }
      if (row[c] > row[best]) best = c;
    }
    out[r] = best;
  }
}

// sum exp(x - m) over a row; m is the row max (finite, since callers handle infinite maxima).
template <class T>
Wide<T> sum_exp_shifted(const T* x, std::size_t cols, T m) {
  Wide<T> sum = 0;
  for (std::size_t c = 0; c < cols; ++c) sum += std::exp(static_cast<Wide<T>>(x[c] - m));
  return sum;
}

// log-sum-exp of one row with PyTorch's special values.
template <class T>
T row_logsumexp(const T* x, std::size_t cols) {
  const T m = max_of(x, cols);
  if (std::isnan(m) || std::isinf(m)) return m;  // NaN, or all -inf, or +inf (no NaN)
  return static_cast<T>(m + std::log(sum_exp_shifted(x, cols, m)));
}

template <class T>
void logsumexp(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) out[r] = row_logsumexp(x + r * stride, cols);
}

template <class T>
void softmax(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * stride;
    T* out = y + r * stride;
    // An infinite maximum makes x - m NaN (inf - inf) or -inf: the row is NaN, as in PyTorch.
    const T m = max_of(in, cols);
    const Wide<T> inverse = 1 / sum_exp_shifted(in, cols, m);
    for (std::size_t c = 0; c < cols; ++c) {
      out[c] = static_cast<T>(std::exp(static_cast<Wide<T>>(in[c] - m)) * inverse);
    }
  }
}

template <class T>
void log_softmax(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * stride;
    T* out = y + r * stride;
    const T m = max_of(in, cols);
    const Wide<T> log_sum = std::log(sum_exp_shifted(in, cols, m));
    for (std::size_t c = 0; c < cols; ++c) {
      out[c] = static_cast<T>(static_cast<Wide<T>>(in[c] - m) - log_sum);
    }
  }
}

// dx = y * (dy - dot(y, dy))
template <class T>
void softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                      std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    Wide<T> dot = 0;
    for (std::size_t c = 0; c < cols; ++c) dot += static_cast<Wide<T>>(y[o + c]) * dy[o + c];
    for (std::size_t c = 0; c < cols; ++c) {
      dx[o + c] = static_cast<T>(y[o + c] * (dy[o + c] - dot));
    }
  }
}

// dx = dy - exp(y) * sum(dy), y = log_softmax(x)
template <class T>
void log_softmax_backward(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                          std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    Wide<T> sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += dy[o + c];
    for (std::size_t c = 0; c < cols; ++c) {
      dx[o + c] = static_cast<T>(dy[o + c] - std::exp(static_cast<Wide<T>>(y[o + c])) * sum);
    }
  }
}

// dx = dlse * exp(x - lse)
template <class T>
void logsumexp_backward(const T* x, const T* lse, const T* dlse, T* dx, std::size_t rows,
                        std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    for (std::size_t c = 0; c < cols; ++c) {
      dx[o + c] = static_cast<T>(dlse[r] * std::exp(static_cast<Wide<T>>(x[o + c]) - lse[r]));
    }
  }
}

template <class T, T (*F)(T)>
void map(const T* x, T* y, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) y[i] = F(x[i]);
}

template <class T>
T sqrt_of(T x) {
  return std::sqrt(x);
}
template <class T>
T tanh_of(T x) {
  return std::tanh(x);
}
template <class T>
T exp_of(T x) {
  return std::exp(x);
}
template <class T>
T log_of(T x) {
  return std::log(x);
}
template <class T>
T log1p_of(T x) {
  return std::log1p(x);
}
template <class T>
T sigmoid_of(T x) {
  const T t = std::exp(-std::fabs(x));  // in [0, 1]: never overflows
  return x >= 0 ? 1 / (1 + t) : t / (1 + t);
}
template <class T>
T softplus_of(T x) {
  if (std::isnan(x)) return x;
  return std::fmax(x, T(0)) + std::log1p(std::exp(-std::fabs(x)));
}
template <class T>
T log_sigmoid_of(T x) {
  if (std::isnan(x)) return x;
  return std::fmin(x, T(0)) - std::log1p(std::exp(-std::fabs(x)));
}

template <class T>
TypedKernels<T> typed_kernels() {
  return {&row_max<T>,
          &row_argmax<T>,
          &logsumexp<T>,
          &softmax<T>,
          &log_softmax<T>,
          &softmax_backward<T>,
          &log_softmax_backward<T>,
          &logsumexp_backward<T>,
          &map<T, exp_of<T>>,
          &map<T, log_of<T>>,
          &map<T, log1p_of<T>>,
          &map<T, sigmoid_of<T>>,
          &map<T, softplus_of<T>>,
          &map<T, log_sigmoid_of<T>>,
          &scalar::sparse_softmax_cross_entropy<T>,
          &scalar::softmax_cross_entropy<T>,
          &scalar::sigmoid_cross_entropy<T>,
          &scalar::count_greater<T>,
          &map<T, tanh_of<T>>,
          &map<T, sqrt_of<T>>};
}

}  // namespace

std::vector<KernelTable> scalar_kernel_tables() {
  return {KernelTable{"scalar", typed_kernels<float>(), typed_kernels<double>()}};
}

}  // namespace simdiff::detail
