// The xsimd backend's fused loss kernels (contracts: lib/kernel_table.h): softmax cross-entropy
// against integer labels or dense targets, sigmoid (binary) cross-entropy, and the top-k count.
// They are the algorithms of the Highway backend (lib/highway/loss_kernels-inl.h) written once in
// xsimd 8.1 operations on the helpers of xsimd_kernels.h, and templated on the xsimd architecture
// `Arch` like them: every per-architecture file (xsimd_sse4_2.cc, ...) includes this header, and
// the one-definition rules at the top of xsimd_kernels.h hold here too (every function templated
// on Arch, no std:: templates called).
//
// The softmax cross-entropies reuse the steps of the softmax: a max pass, an exp pass that stores
// e = exp(x - max) into the gradient and sums it, and a scaling pass that turns e into the
// gradient, scale (e / sum - target). Their losses are written as sums of terms that are never
// negative (for targets in [0, 1]), so that no cancellation can occur however large the logits:
//   lse(x) - x_c = log(sum) + (max - x_c),
// and the target-weighted sums sum_c t'_c (max - x_c) are added up in the exp pass, which loads x
// anyway (SumExpShifted's Terms). Each difference max - x_c is formed halved,
// (max - x_c) / 2 = max / 2 - x_c / 2 in one FMA: a row whose spread exceeds the largest finite
// number then still has finite terms.
//
// Rows whose maximum is not finite (+inf, or -inf everywhere, or a NaN that the maximum kept) are
// rare and have special values: as in the Highway backend they run the scalar reference
// (lib/scalar/scalar_loss_kernels.cc), which defines them. That is decided after the max pass,
// before anything is written, so that in-place gradients (grad == x) stay possible. A NaN that the
// maximum dropped (x86's max returns its second operand) makes the sum of exponentials NaN, hence
// the loss and every gradient element of the row, as in the reference.
//
// Not ported from the Highway kernels (speed only, same results within the tests' bounds): the
// register path for rows of at most two vectors, and the row groups whose log(sum) and 1 / sum
// are computed one SIMD operation for many rows; here each row takes one std::log and one
// division.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <xsimd/xsimd.hpp>

#include "lib/log1p_polynomial.h"
#include "lib/scalar/scalar_loss_kernels.h"
#include "lib/xsimd/xsimd_kernels.h"

namespace simdiff::detail::xsimd_backend {

// ---------------------------------------------------------------------------------------------
// Shared pieces

// Zeroes cols elements of y.
template <class Arch, class T>
inline void ZeroRow(T* y, std::size_t cols) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  const V zero(T(0));
  std::size_t i = 0;
  for (; i + N <= cols; i += N) zero.store_unaligned(y + i);
  if (i < cols) StoreTail(zero, y + i, cols - i);
}

// weight (max - x) in double, 0 for a zero weight (also at x = -inf). Formed from the halves, whose
// difference is finite for any finite max and x (for double rows max - x alone may overflow).
template <class Arch>
inline double WeightedDifference(double weight, double max, double x) {
  return weight == 0 ? 0.0 : 2 * (weight * (0.5 * max - 0.5 * x));
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy against integer labels
//
//   loss = log(sum) + (1 - s)(max - x_label) + (s / cols) sum_c (max - x_c)
//   grad = scale (e / sum - s / cols) - scale (1 - s) [c == label]
//
// The label's gradient element is fixed up after the vector pass, from its exponential.

// The exp pass's extra sum for label smoothing: sum_c (s / cols)(max - x_c) / 2. With the weight
// applied to each term, no partial sum of a row exceeds s * max / 2.
template <class T, class Arch>
struct UniformTargetTerms {
  static constexpr std::size_t kSums = 1;
  T half_max;  // max / 2
  T uniform;   // s / cols

  void operator()(std::size_t, std::size_t, Vec<T, Arch> v, Vec<T, Arch>& sum,
                  Vec<T, Arch>&) const {
    using V = Vec<T, Arch>;
    // max / 2 - x / 2 in one rounding; lanes past the row hold max and add 0.
    const V half_difference = xsimd::fnma(v, V(T(0.5)), V(half_max));
    sum = xsimd::fma(half_difference, V(uniform), sum);
  }
};

// One row that is not ignored: the loss, and the gradient if grad_row is not nullptr.
template <class Arch, class T>
inline void SparseRow(const T* row, const std::int64_t* label_ptr, const T* scale_ptr, T smoothing,
                      T keep, T uniform, T* loss, T* grad_row, std::size_t cols) {
  const T max = RowMax<false, Arch>(row, cols, nullptr);
  if (!IsFinite<Arch>(max)) {
    detail::scalar::sparse_softmax_cross_entropy<T>(row, label_ptr, scale_ptr, smoothing, loss,
                                                    grad_row, 1, cols, cols);
    return;
  }
  const auto label = static_cast<std::size_t>(*label_ptr);
  // Read before the exp pass overwrites it when grad == x.
  const T x_label = row[label];
  double rest = WeightedDifference<Arch>(keep, max, x_label);
  double sum = 0;
  if (uniform != 0) {
    const UniformTargetTerms<T, Arch> terms{max / 2, uniform};
    double half_sum = 0;
    sum = grad_row != nullptr
              ? SumExpShifted<true, Arch>(row, grad_row, cols, max, terms, &half_sum)
              : SumExpShifted<false, Arch>(row, static_cast<T*>(nullptr), cols, max, terms,
                                           &half_sum);
    rest += 2 * half_sum;
  } else {
    sum = grad_row != nullptr
              ? SumExpShifted<true, Arch>(row, grad_row, cols, max)
              : SumExpShifted<false, Arch>(row, static_cast<T*>(nullptr), cols, max);
  }
  *loss = static_cast<T>(std::log(sum) + rest);
  if (grad_row == nullptr) return;
  // scale e / sum - scale s / cols everywhere, then the label's element from its exponential.
  using V = Vec<T, Arch>;
  const T scale = *scale_ptr;
  const T coefficient = static_cast<T>(static_cast<double>(scale) / sum);
  const T target_other = scale * uniform;
  const T e_label = grad_row[label];
  const V vcoefficient(coefficient);
  const V vtarget_other(target_other);
  MapRow<Arch>(grad_row, grad_row, cols, [vcoefficient, vtarget_other](V e) {
    return xsimd::fms(e, vcoefficient, vtarget_other);
  });
  grad_row[label] = e_label * coefficient - scale * (uniform + keep);
}

template <class T, class Arch>
void SparseSoftmaxCrossEntropyKernel(const T* x, const std::int64_t* labels, const T* scale,
                                     T smoothing, T* loss, T* grad, std::size_t rows,
                                     std::size_t cols, std::size_t stride) {
  const bool with_grad = grad != nullptr;
  const T keep = T(1) - smoothing;  // the label's target weight, 1 - s
  const T uniform = static_cast<T>(static_cast<double>(smoothing) / static_cast<double>(cols));
  for (std::size_t r = 0; r < rows; ++r) {
    T* grad_row = with_grad ? grad + r * stride : nullptr;
    if (labels[r] < 0) {  // ignored
      loss[r] = 0;
      if (with_grad) ZeroRow<Arch>(grad_row, cols);
      continue;
    }
    SparseRow<Arch>(x + r * stride, &labels[r], with_grad ? &scale[r] : nullptr, smoothing, keep,
                    uniform, &loss[r], grad_row, cols);
  }
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy against dense targets, t' = (1 - s) t + s / cols:
//
//   loss = (sum_c t'_c) log(sum) + sum_c t'_c (max - x_c)       (0 where t'_c = 0)
//   grad = scale ((sum_k t'_k) e / sum - t')

// The exp pass's extra sums: sum_c t'_c and sum_c t'_c (x_c - max) / 2.
template <class T, class Arch>
struct DenseTargetTerms {
  static constexpr std::size_t kSums = 2;
  const T* targets;  // of the row
  T half_max;
  T keep;     // 1 - s
  T uniform;  // s / cols

  void operator()(std::size_t i, std::size_t count, Vec<T, Arch> v, Vec<T, Arch>& target_sum,
                  Vec<T, Arch>& weighted_sum) const {
    using V = Vec<T, Arch>;
    constexpr std::size_t N = V::size;
    const V zero(T(0));
    const V t =
        count == N ? V::load_unaligned(targets + i) : LoadTail<Arch>(targets + i, count, T(0));
    V smoothed = xsimd::fma(t, V(keep), V(uniform));
    if (count != N) smoothed = xsimd::select(FirstN<T, Arch>(count), smoothed, zero);
    target_sum += smoothed;
    // Lanes past the row hold max (a difference of 0) and a target of 0.
    const V half_difference = xsimd::fms(v, V(T(0.5)), V(half_max));
    weighted_sum += xsimd::select(smoothed == zero, zero, smoothed * half_difference);
  }
};

// One row: the loss, and the gradient if grad_row is not nullptr.
template <class Arch, class T>
inline void DenseRow(const T* row, const T* target_row, const T* scale_ptr, T smoothing, T keep,
                     T uniform, T* loss, T* grad_row, std::size_t cols) {
  const T max = RowMax<false, Arch>(row, cols, nullptr);
  if (!IsFinite<Arch>(max)) {
    detail::scalar::softmax_cross_entropy<T>(row, target_row, scale_ptr, smoothing, loss, grad_row,
                                             1, cols, cols);
    return;
  }
  const DenseTargetTerms<T, Arch> terms{target_row, max / 2, keep, uniform};
  double sums[2] = {0, 0};  // sum_c t'_c, sum_c t'_c (x_c - max) / 2
  const double sum =
      grad_row != nullptr
          ? SumExpShifted<true, Arch>(row, grad_row, cols, max, terms, sums)
          : SumExpShifted<false, Arch>(row, static_cast<T*>(nullptr), cols, max, terms, sums);
  const double target_sum = sums[0];
  const double log_sum = std::log(sum);
  // T log(sum), with a zero target sum contributing 0 (unless the sum is NaN).
  const bool log_sum_is_nan = log_sum != log_sum;
  const double log_term = target_sum == 0 && !log_sum_is_nan ? 0.0 : target_sum * log_sum;
  *loss = static_cast<T>(log_term - 2 * sums[1]);
  if (grad_row == nullptr) return;
  using V = Vec<T, Arch>;
  const T scale = *scale_ptr;
  const V coefficient(static_cast<T>(target_sum * static_cast<double>(scale) / sum));
  const V keep_scale(keep * scale);
  const V uniform_scale(uniform * scale);
  MapRow2<Arch>(grad_row, target_row, grad_row, cols,
                [coefficient, keep_scale, uniform_scale](V e, V t) {
                  return xsimd::fms(e, coefficient, xsimd::fma(t, keep_scale, uniform_scale));
                });
}

template <class T, class Arch>
void SoftmaxCrossEntropyKernel(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                               T* grad, std::size_t rows, std::size_t cols, std::size_t stride) {
  const bool with_grad = grad != nullptr;
  const T keep = T(1) - smoothing;
  const T uniform = static_cast<T>(static_cast<double>(smoothing) / static_cast<double>(cols));
  for (std::size_t r = 0; r < rows; ++r) {
    DenseRow<Arch>(x + r * stride, targets + r * stride, with_grad ? &scale[r] : nullptr, smoothing,
                   keep, uniform, &loss[r], with_grad ? grad + r * stride : nullptr, cols);
  }
}

// ---------------------------------------------------------------------------------------------
// Sigmoid (binary) cross-entropy, t' = (1 - s) t + s / 2, element-wise:
//
//   term = (x >= 0 ? x (1 - t') : -x t') + log1p(q),  q = exp(-|x|)   (a zero weight gives 0)
//   grad = scale / cols (sigmoid(x) - t'),  sigmoid(x) = (x >= 0 ? 1 : q) / (1 + q)
//
// log1p(q) for q in [0, 1] is a polynomial in q (lib/log1p_polynomial.h), which runs beside the
// one division (the gradient's) instead of after it. q below the smallest normal number is
// flushed to 0: the terms and gradients it would change are below that number.

// log1p(q) / q for q in [0, 1]: c0 + c1 q + ... as two Horner chains in q^2 (even and odd
// coefficients), half the latency of one chain in q. About 3 ulp relative.
template <class T, class Arch>
inline Vec<T, Arch> Log1pOverQ(Vec<T, Arch> q) {
  using V = Vec<T, Arch>;
  using P = Log1pPolynomial<T>;
  constexpr std::size_t kLast = P::kCoefficients.size() - 1;
  constexpr std::size_t kLastEven = kLast % 2 == 0 ? kLast : kLast - 1;
  constexpr std::size_t kLastOdd = kLast % 2 == 1 ? kLast : kLast - 1;
  // A plain pointer: std::array::operator[] would be a shared, non-Arch function in -O0 builds.
  constexpr const T* kCoefficients = P::kCoefficients.data();
  const V q2 = q * q;
  V even(kCoefficients[kLastEven]);
  for (std::size_t k = kLastEven; k >= 2; k -= 2) {
    even = xsimd::fma(even, q2, V(kCoefficients[k - 2]));
  }
  V odd(kCoefficients[kLastOdd]);
  for (std::size_t k = kLastOdd; k >= 3; k -= 2) {
    odd = xsimd::fma(odd, q2, V(kCoefficients[k - 2]));
  }
  return xsimd::fma(odd, q, even);
}

// The per-row constants of the sigmoid cross-entropy.
template <class T, class Arch>
struct BinaryRowConstants {
  T keep;            // 1 - s
  T half_smoothing;  // s / 2
  T inverse_cols;    // each term is divided by cols before it is summed: the mean is finite
                     // whenever the terms are
  T grad_scale;      // scale / cols
};

// exp(-|x|), the one transcendental function of the loss term, NaN for NaN. Results below the
// smallest normal number are flushed to 0: the terms and gradients they would change are below it.
template <class T, class Arch>
inline Vec<T, Arch> ExpMinusMagnitude(Vec<T, Arch> v) {
  return ExpFlushSubnormal(-xsimd::abs(v));
}

// The loss term of logits v against targets t, divided by cols, and with kGrad the gradient, from
// q = ExpMinusMagnitude(v) and p = Log1pOverQ(q). The callers compute q, then p, for two vectors
// before the rest: the long dependency chains of the exponentials and polynomials then overlap.
template <bool kGrad, class T, class Arch>
inline Vec<T, Arch> SigmoidCrossEntropyTerm(Vec<T, Arch> v, Vec<T, Arch> t, Vec<T, Arch> q,
                                            Vec<T, Arch> p, const BinaryRowConstants<T, Arch>& c,
                                            Vec<T, Arch>& grad) {
  using V = Vec<T, Arch>;
  const V zero(T(0));
  const V one(T(1));
  const V smoothed = xsimd::fma(t, V(c.keep), V(c.half_smoothing));
  const auto negative = v < zero;
  if constexpr (kGrad) {
    const V sigmoid_of_magnitude = one / (one + q);
    const V sigmoid = xsimd::select(negative, q * sigmoid_of_magnitude, sigmoid_of_magnitude);
    grad = (sigmoid - smoothed) * V(c.grad_scale);
  }
  // x (1 - t') for x >= 0 and -x t' = |x| t' below (NaN takes the second branch).
  const V weight = xsimd::select(negative, smoothed, one - smoothed);
  const V linear = xsimd::select(weight == zero, zero, weight * xsimd::abs(v));
  return xsimd::fma(q, p, linear) * V(c.inverse_cols);
}

// The rows are computed in chunks of kSigmoidChunkVectors vectors of contiguous elements, in three
// stages (exponentials, polynomials, terms), and short rows as one flat chunk per group of rows,
// as in the Highway kernel (lib/highway/loss_kernels-inl.h), which explains why.
constexpr std::size_t kSigmoidChunkVectors = 32;

template <class T, class Arch>
struct SigmoidChunkBuffers {
  static constexpr std::size_t kElements = kSigmoidChunkVectors * Vec<T, Arch>::size;
  alignas(Arch::alignment()) T q[kElements];
  alignas(Arch::alignment()) T p[kElements];
  alignas(Arch::alignment()) T terms[kElements];
  alignas(Arch::alignment()) T x[kElements];
  alignas(Arch::alignment()) T targets[kElements];
  alignas(Arch::alignment()) T grad[kElements];
};

// The n (1 <= n <= kElements) contiguous elements at x: terms[i] = the loss term of element i
// divided by cols; with kGrad, grad[i] = c.grad_scale (sigmoid(x[i]) - t'[i]). grad may be x.
template <bool kGrad, class Arch, class T>
inline void SigmoidCrossEntropyChunk(const T* x, const T* targets, std::size_t n,
                                     const BinaryRowConstants<T, Arch>& c,
                                     SigmoidChunkBuffers<T, Arch>& b, T* terms, T* grad,
                                     const T* next_x, const T* next_targets, std::size_t next_n) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  std::size_t i = 0;
  for (; i + N <= n; i += N) ExpMinusMagnitude(V::load_unaligned(x + i)).store_aligned(b.q + i);
  if (i < n) ExpMinusMagnitude(LoadTail<Arch>(x + i, n - i, T(0))).store_aligned(b.q + i);
  for (i = 0; i < n; i += N) {
    if (i < next_n) {  // the next chunk, during the stage that reads no memory
      __builtin_prefetch(next_x + i);
      __builtin_prefetch(next_targets + i);
    }
    Log1pOverQ(V::load_aligned(b.q + i)).store_aligned(b.p + i);
  }
  for (i = 0; i + N <= n; i += N) {
    V g(T(0));
    const V term =
        SigmoidCrossEntropyTerm<kGrad>(V::load_unaligned(x + i), V::load_unaligned(targets + i),
                                       V::load_aligned(b.q + i), V::load_aligned(b.p + i), c, g);
    term.store_unaligned(terms + i);
    if constexpr (kGrad) g.store_unaligned(grad + i);
  }
  if (i < n) {
    V g(T(0));
    const V term = SigmoidCrossEntropyTerm<kGrad>(
        LoadTail<Arch>(x + i, n - i, T(0)), LoadTail<Arch>(targets + i, n - i, T(0)),
        V::load_aligned(b.q + i), V::load_aligned(b.p + i), c, g);
    StoreTail(term, terms + i, n - i);
    if constexpr (kGrad) StoreTail(g, grad + i, n - i);
  }
}

// Adds terms[0, n) to total in blocks of kBlockVectors vectors, as the other row sums.
template <class Arch, class T>
inline void AddTermSums(const T* terms, std::size_t n, CompensatedSum<Arch>& total) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  if (n < N) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += static_cast<double>(terms[i]);
    total.Add(sum);
    return;
  }
  std::size_t i = 0;
  while (i < n) {
    const std::size_t block_end = BlockEnd<T, Arch>(i, n);
    V s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
    for (; i + 4 * N <= block_end; i += 4 * N) {
      s0 += V::load_unaligned(terms + i);
      s1 += V::load_unaligned(terms + i + N);
      s2 += V::load_unaligned(terms + i + 2 * N);
      s3 += V::load_unaligned(terms + i + 3 * N);
    }
    for (; i + N <= block_end; i += N) s0 += V::load_unaligned(terms + i);
    if (i < block_end) {
      s1 += LoadTail<Arch>(terms + i, block_end - i, T(0));
      i = block_end;
    }
    total.Add(ReduceToDouble((s0 + s1) + (s2 + s3)));
  }
}

// The sum of a row's terms as AddTermSums into an empty compensated sum gives it (the same bits):
// a row of one block needs no compensation.
template <class Arch, class T>
inline double RowTermSum(const T* terms, std::size_t n) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  if (n >= N && n < 4 * N) {
    V s0 = V::load_unaligned(terms), s1(T(0));
    std::size_t i = N;
    for (; i + N <= n; i += N) s0 += V::load_unaligned(terms + i);
    if (i < n) s1 = LoadTail<Arch>(terms + i, n - i, T(0));
    return ReduceToDouble(s0 + s1);
  }
  CompensatedSum<Arch> total;
  AddTermSums(terms, n, total);
  return total.TotalAllowingInfinity();
}

// Templated on Arch as every function here (one copy per architecture file).
template <class Arch, class T>
inline T SigmoidGradScale(const T* scale, std::size_t r, std::size_t cols) {
  return static_cast<T>(static_cast<double>(scale[r]) / static_cast<double>(cols));
}

template <bool kGrad, class Arch, class T>
inline void SigmoidCrossEntropyLongRows(const T* x, const T* targets, const T* scale,
                                        BinaryRowConstants<T, Arch> c, T* loss, T* grad,
                                        std::size_t rows, std::size_t cols, std::size_t stride,
                                        SigmoidChunkBuffers<T, Arch>& b) {
  constexpr std::size_t kChunk = SigmoidChunkBuffers<T, Arch>::kElements;
  for (std::size_t r = 0; r < rows; ++r) {
    if constexpr (kGrad) c.grad_scale = SigmoidGradScale<Arch>(scale, r, cols);
    CompensatedSum<Arch> total;
    for (std::size_t i = 0; i < cols; i += kChunk) {
      const std::size_t n = cols - i < kChunk ? cols - i : kChunk;
      std::size_t next = 0;
      std::size_t next_n = 0;
      if (i + kChunk < cols) {
        next = r * stride + i + kChunk;
        next_n = cols - i - kChunk < kChunk ? cols - i - kChunk : kChunk;
      } else if (r + 1 < rows) {
        next = (r + 1) * stride;
        next_n = cols < kChunk ? cols : kChunk;
      }
      SigmoidCrossEntropyChunk<kGrad>(x + r * stride + i, targets + r * stride + i, n, c, b,
                                      b.terms, kGrad ? grad + r * stride + i : nullptr, x + next,
                                      targets + next, next_n);
      AddTermSums(b.terms, n, total);
    }
    loss[r] = static_cast<T>(total.TotalAllowingInfinity());
  }
}

template <bool kGrad, class Arch, class T>
inline void SigmoidCrossEntropyShortRows(const T* x, const T* targets, const T* scale,
                                         BinaryRowConstants<T, Arch> c, T* loss, T* grad,
                                         std::size_t rows, std::size_t cols, std::size_t stride,
                                         SigmoidChunkBuffers<T, Arch>& b) {
  const std::size_t group_rows = SigmoidChunkBuffers<T, Arch>::kElements / cols;
  const bool packed = stride == cols;
  for (std::size_t first = 0; first < rows; first += group_rows) {
    const std::size_t count = rows - first < group_rows ? rows - first : group_rows;
    const T* group_x = x + first * stride;
    const T* group_targets = targets + first * stride;
    T* group_grad = kGrad ? grad + first * stride : nullptr;
    if (!packed) {
      for (std::size_t j = 0; j < count; ++j) {
        std::copy_n(group_x + j * stride, cols, b.x + j * cols);
        std::copy_n(group_targets + j * stride, cols, b.targets + j * cols);
      }
      group_x = b.x;
      group_targets = b.targets;
    }
    bool uniform_scale = true;
    if constexpr (kGrad) {
      for (std::size_t j = 1; j < count; ++j) uniform_scale &= scale[first + j] == scale[first];
      c.grad_scale = uniform_scale ? SigmoidGradScale<Arch>(scale, first, cols) : T(1);
    }
    // A column's terms are the losses themselves (divided by cols = 1).
    T* terms = cols == 1 ? loss + first : b.terms;
    T* chunk_grad = packed ? group_grad : b.grad;
    const std::size_t next_rows =
        rows - first - count < group_rows ? rows - first - count : group_rows;
    const std::size_t next_n = packed ? next_rows * cols : 0;
    const std::size_t next = next_n > 0 ? (first + count) * stride : 0;
    SigmoidCrossEntropyChunk<kGrad>(group_x, group_targets, count * cols, c, b, terms, chunk_grad,
                                    x + next, targets + next, next_n);
    if (cols > 1) {
      for (std::size_t j = 0; j < count; ++j) {
        loss[first + j] = static_cast<T>(RowTermSum<Arch>(b.terms + j * cols, cols));
      }
    }
    if (kGrad && !(uniform_scale && packed)) {
      for (std::size_t j = 0; j < count; ++j) {
        T* row_grad = chunk_grad + j * cols;
        if (!uniform_scale) {
          const T row_scale = SigmoidGradScale<Arch>(scale, first + j, cols);
          for (std::size_t k = 0; k < cols; ++k) row_grad[k] *= row_scale;
        }
        if (!packed) std::copy_n(row_grad, cols, group_grad + j * stride);
      }
    }
  }
}

template <class T, class Arch>
void SigmoidCrossEntropyKernel(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                               T* grad, std::size_t rows, std::size_t cols, std::size_t stride) {
  SigmoidChunkBuffers<T, Arch> buffers;
  const BinaryRowConstants<T, Arch> c{T(1) - smoothing, smoothing / 2,
                                      static_cast<T>(1.0 / static_cast<double>(cols)), T(0)};
  const bool long_rows = cols >= SigmoidChunkBuffers<T, Arch>::kElements;
  if (grad != nullptr) {
    (long_rows ? SigmoidCrossEntropyLongRows<true, Arch, T>
               : SigmoidCrossEntropyShortRows<true, Arch, T>)(x, targets, scale, c, loss, grad,
                                                              rows, cols, stride, buffers);
  } else {
    (long_rows ? SigmoidCrossEntropyLongRows<false, Arch, T>
               : SigmoidCrossEntropyShortRows<false, Arch, T>)(x, targets, scale, c, loss, grad,
                                                               rows, cols, stride, buffers);
  }
}

// ---------------------------------------------------------------------------------------------
// Top-k count: the number of entries above the row's threshold.
//
// xsimd 8.1 cannot count the true lanes of a mask, so each lane counts its hits as a T (1 or 0
// added per vector) over a block of at most kBlockVectors vectors, whose total (at most
// kBlockVectors times the lane count, exact in T) then goes to the integer count.

template <class T, class Arch>
void CountGreaterKernel(const T* x, const T* threshold, std::size_t* counts, std::size_t rows,
                        std::size_t cols, std::size_t stride) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  const V zero(T(0));
  const V one(T(1));
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    const T limit = threshold[r];
    if (limit != limit) {  // a NaN threshold: every entry counts (see the contract)
      counts[r] = cols;
      continue;
    }
    const V vlimit(limit);
    std::size_t count = 0;
    std::size_t i = 0;
    while (i + 4 * N <= cols) {
      const std::size_t block_end = BlockEnd<T, Arch>(i, cols);
      // Four accumulators hide the latency of the additions.
      V c0 = zero, c1 = zero, c2 = zero, c3 = zero;
      for (; i + 4 * N <= block_end; i += 4 * N) {
        c0 += xsimd::select(V::load_unaligned(row + i) > vlimit, one, zero);
        c1 += xsimd::select(V::load_unaligned(row + i + N) > vlimit, one, zero);
        c2 += xsimd::select(V::load_unaligned(row + i + 2 * N) > vlimit, one, zero);
        c3 += xsimd::select(V::load_unaligned(row + i + 3 * N) > vlimit, one, zero);
      }
      count += static_cast<std::size_t>(xsimd::hadd((c0 + c1) + (c2 + c3)));
    }
    V c = zero;
    for (; i + N <= cols; i += N)
      c += xsimd::select(V::load_unaligned(row + i) > vlimit, one, zero);
    // The padding holds the threshold itself, which is not greater than it.
    if (i < cols) c += xsimd::select(LoadTail<Arch>(row + i, cols - i, limit) > vlimit, one, zero);
    counts[r] = count + static_cast<std::size_t>(xsimd::hadd(c));
  }
}

}  // namespace simdiff::detail::xsimd_backend
