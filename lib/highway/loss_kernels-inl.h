// Fused loss kernels (contracts: lib/kernel_table.h) in Highway ops, compiled for every target by
// highway_kernels.cc: softmax cross-entropy against integer labels or dense targets, sigmoid
// (binary) cross-entropy, and the top-k count.
//
// The softmax cross-entropies reuse the steps of the softmax (rowwise-inl.h): a max pass, an exp
// pass that stores e = exp(x - max) into the gradient and sums it, and a scaling pass that turns
// e into the gradient, scale (e / sum - target). Their losses are written as sums of terms that
// are never negative (for targets in [0, 1]), so that no cancellation can occur however large the
// logits:
//   lse(x) - x_c = log(sum) + (max - x_c),
// and the target-weighted sums sum_c t'_c (max - x_c) are added up in the exp pass, which loads x
// anyway. Each difference max - x_c is formed halved, (max - x_c) / 2 = max / 2 - x_c / 2 in one
// FMA: a row whose spread exceeds the largest finite number then still has finite terms.
//
// Rows whose maximum is not finite (+inf, or -inf everywhere, or a NaN that the maximum kept) are
// rare and have special values: they run the scalar reference (lib/scalar/scalar_loss_kernels.cc),
// which defines them. That is decided after the max pass, before anything is written, so that
// in-place gradients (grad == x) stay possible. A NaN that the maximum dropped (x86's max returns
// its second operand) makes the sum of exponentials NaN, hence the loss and every gradient element
// of the row, as in the reference.
//
// Per-target include guard: this file is re-included once per Highway target.
#if defined(SIMDIFF_LIB_HIGHWAY_LOSS_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_LOSS_KERNELS_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_LOSS_KERNELS_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_LOSS_KERNELS_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "exp-inl.h"
#include "hwy/highway.h"
#include "lib/log1p_polynomial.h"
#include "lib/scalar/scalar_loss_kernels.h"
#include "log-inl.h"
#include "rowwise-inl.h"
#include "tail-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ---------------------------------------------------------------------------------------------
// Short rows in registers

// A row of at most two vectors (IsShortRow) in two registers without masked memory operations
// where possible: for cols >= N the second vector holds the row's last N elements, overlapping the
// first one (its first 2N - cols lanes repeat elements of v0), so that loads and stores stay inside
// the row and need no mask (masked stores are slow on AVX2, and the overlapping store writes the
// same values twice). Shorter rows are one partial vector, with `fill` in the other lanes, and v1
// is all `fill`.
template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void LoadOverlappingRow(D d, const T* HWY_RESTRICT x, std::size_t cols, T fill, V& v0,
                                   V& v1) {
  const std::size_t N = hn::Lanes(d);
  if (cols < N) {
    v0 = LoadTail(d, x, cols, hn::Set(d, fill));
    v1 = hn::Set(d, fill);
    return;
  }
  v0 = hn::LoadU(d, x);
  v1 = hn::LoadU(d, x + cols - N);
}

template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void StoreOverlappingRow(D d, V v0, V v1, T* HWY_RESTRICT y, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  if (cols < N) {
    StoreTail(d, v0, y, cols);
    return;
  }
  hn::StoreU(v0, d, y);
  hn::StoreU(v1, d, y + cols - N);
}

// The lanes of v0 that are row elements.
template <class D>
HWY_INLINE auto FirstVectorLanes(D d, std::size_t cols) {
  return hn::FirstN(d, cols);
}

// The lanes of v1 that are row elements not already in v0 (none for cols <= N).
template <class D>
HWY_INLINE auto SecondVectorLanes(D d, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  return hn::Not(hn::FirstN(d, cols > N ? 2 * N - cols : N));
}

// The column index of each lane of v1, as T (past the row for cols < N).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V SecondVectorColumns(D d, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  return hn::Iota(d, static_cast<hn::TFromD<D>>(cols >= N ? cols - N : N));
}

// Calls f(tag) with the narrower of d and its half that holds a short row of cols in two vectors:
// fewer lanes make the cross-lane reductions of short rows shorter (with AVX-512, a row of 10
// floats is two 8-lane vectors, not one 16-lane vector).
template <class D, class F>
HWY_INLINE void WithShortRowTag(D d, [[maybe_unused]] std::size_t cols, const F& f) {
#if HWY_TARGET != HWY_SCALAR
  const hn::Half<D> half;
  if (cols <= 2 * hn::Lanes(half)) {
    f(half);
    return;
  }
#endif
  f(d);
}

// ---------------------------------------------------------------------------------------------
// Shared pieces

// Zeroes cols elements of y.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void ZeroRow(D d, T* HWY_RESTRICT y, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= cols; i += N) hn::StoreU(hn::Zero(d), d, y + i);
  if (i < cols) StoreTail(d, hn::Zero(d), y + i, cols - i);
}

// weight (max - x) in double, 0 for a zero weight (also at x = -inf). Formed from the halves, whose
// difference is finite for any finite max and x (for double rows max - x alone may overflow).
HWY_INLINE double WeightedDifference(double weight, double max, double x) {
  return weight == 0 ? 0.0 : 2 * (weight * (0.5 * max - 0.5 * x));
}

// Per-row numbers of a row group (see RowGroupSize), kept between the group's passes.
struct LossRowGroup {
  RowGroupValues log_sums;         // sum of exp(x - max), then its logarithm
  RowGroupValues inverses;         // 1 / sum of exp(x - max)
  double loss_rest[kMaxRowGroup];  // the loss without its log(sum) term
  bool done[kMaxRowGroup];         // finished in the first pass (ignored or special rows)

  // A row that the first pass finished: its values only keep the group's log and division finite.
  void Finish(std::size_t i) {
    done[i] = true;
    log_sums.values[i] = 1;
  }
  // log(sum) and 1 / sum of the group's `count` rows, one SIMD operation each.
  void Reduce(std::size_t count, bool want_inverses) {
    if (want_inverses) {
      for (std::size_t i = 0; i < count; ++i) inverses.values[i] = log_sums.values[i];
      inverses.Map(count, [](auto dd, auto v) HWY_ATTR { return hn::Div(hn::Set(dd, 1.0), v); });
    }
    log_sums.Map(count, [](auto dd, auto v) HWY_ATTR { return LogFullRange(dd, v); });
  }
};

// The scalar reference for one row whose maximum is not finite (see the top of this file).
template <class T>
void SpecialSparseRow(const T* x, const std::int64_t* label, const T* scale, T smoothing, T* loss,
                      T* grad, std::size_t cols) {
  detail::scalar::sparse_softmax_cross_entropy<T>(x, label, scale, smoothing, loss, grad, 1, cols,
                                                  cols);
}

template <class T>
void SpecialDenseRow(const T* x, const T* targets, const T* scale, T smoothing, T* loss, T* grad,
                     std::size_t cols) {
  detail::scalar::softmax_cross_entropy<T>(x, targets, scale, smoothing, loss, grad, 1, cols, cols);
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
template <class D, class T = hn::TFromD<D>>
struct UniformTargetTerms {
  static constexpr std::size_t kSums = 1;
  D d;
  T half_max;  // max / 2
  T uniform;   // s / cols

  template <class V>
  HWY_INLINE void operator()(std::size_t, std::size_t, V v, V& sum, V&) const {
    // max / 2 - x / 2 in one rounding; lanes past the row hold max and add 0.
    const V half_difference = hn::NegMulAdd(v, hn::Set(d, T(0.5)), hn::Set(d, half_max));
    sum = hn::MulAdd(half_difference, hn::Set(d, uniform), sum);
  }
};

// Short rows (IsShortRow) of the softmax losses are computed in registers in three stages, so
// that the kernels can interleave two rows stage by stage: a row's stages form one long chain of
// dependent operations (two cross-lane reductions and the exponentials), and two independent
// chains side by side keep the out-of-order window busy where one would leave it waiting.

// Stage 1: the row in two registers (see LoadOverlappingRow; -inf past the row) and its maximum.
template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE V ShortRowMax(D d, const T* x, std::size_t cols, V& v0, V& v1) {
  LoadOverlappingRow(d, x, cols, -std::numeric_limits<T>::infinity(), v0, v1);
  return MaxOfLanesExact(d, hn::Max(v0, v1));
}

// Stage 2: the exponentials e = exp(x - max) and their sum (in every lane).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ShortRowExp(D d, std::size_t cols, V v0, V v1, V vmax, V& e0, V& e1) {
  e0 = ExpFlushSubnormal(d, hn::Sub(v0, vmax));
  e1 = ExpFlushSubnormal(d, hn::Sub(v1, vmax));
  return hn::SumOfLanes(d, hn::Add(e0, hn::IfThenElseZero(SecondVectorLanes(d, cols), e1)));
}

// Stage 3 of the sparse loss: writes the gradient (if grad) and returns the loss without its
// log(sum) term.
template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE double SparseShortRowFinish(D d, const T* x, std::size_t label, T scale, T keep,
                                       T uniform, T* grad, std::size_t cols, V v0, V v1, V vmax,
                                       V e0, V e1, V vsum) {
  double rest = WeightedDifference(keep, hn::GetLane(vmax), x[label]);
  if (uniform != 0) {
    // As UniformTargetTerms; padding lanes (-inf) are masked.
    const V half = hn::Set(d, T(0.5));
    const V half_max = hn::Mul(vmax, half);
    const V vuniform = hn::Set(d, uniform);
    const V d0 = hn::Mul(hn::NegMulAdd(v0, half, half_max), vuniform);
    const V d1 = hn::Mul(hn::NegMulAdd(v1, half, half_max), vuniform);
    const V terms = hn::Add(hn::IfThenElseZero(FirstVectorLanes(d, cols), d0),
                            hn::IfThenElseZero(SecondVectorLanes(d, cols), d1));
    rest += 2.0 * static_cast<double>(hn::GetLane(hn::SumOfLanes(d, terms)));
  }
  if (grad != nullptr) {
    // scale e / sum - scale (uniform + keep [c == label]), with the label's target chosen per lane.
    const V coefficient = hn::Div(hn::Set(d, scale), vsum);
    const V other = hn::Set(d, scale * uniform);
    const V at_label = hn::Set(d, scale * (uniform + keep));
    const V vlabel = hn::Set(d, static_cast<T>(label));
    const V target0 = hn::IfThenElse(hn::Eq(hn::Iota(d, T(0)), vlabel), at_label, other);
    const V target1 = hn::IfThenElse(hn::Eq(SecondVectorColumns(d, cols), vlabel), at_label, other);
    StoreOverlappingRow(d, hn::MulSub(e0, coefficient, target0),
                        hn::MulSub(e1, coefficient, target1), grad, cols);
  }
  return rest;
}

// The short rows of one group of the sparse loss, two at a time (see above): the gradients (if
// grad), and for each row the sum of exponentials and the rest of the loss in g, or the whole
// result for ignored and special rows (marked done).
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void SparseShortRows(D d, const T* x, const std::int64_t* labels, const T* scale,
                                T smoothing, T keep, T uniform, T* loss, T* grad, std::size_t first,
                                std::size_t count, std::size_t cols, std::size_t stride,
                                LossRowGroup& g) {
  using V = hn::VFromD<D>;
  const bool with_grad = grad != nullptr;
  // One row by itself: ignored, special, or the last of an odd number.
  const auto single = [&](std::size_t i) HWY_ATTR {
    const std::size_t r = first + i;
    const T* row = x + r * stride;
    T* grad_row = with_grad ? grad + r * stride : nullptr;
    if (labels[r] < 0) {
      loss[r] = 0;
      if (with_grad) ZeroRow(d, grad_row, cols);
      g.Finish(i);
      return;
    }
    V v0 = hn::Zero(d), v1 = hn::Zero(d), e0 = hn::Zero(d), e1 = hn::Zero(d);
    const V vmax = ShortRowMax(d, row, cols, v0, v1);
    if (!std::isfinite(hn::GetLane(vmax))) {
      SpecialSparseRow(row, &labels[r], with_grad ? &scale[r] : nullptr, smoothing, &loss[r],
                       grad_row, cols);
      g.Finish(i);
      return;
    }
    const V vsum = ShortRowExp(d, cols, v0, v1, vmax, e0, e1);
    g.log_sums.values[i] = static_cast<double>(hn::GetLane(vsum));
    g.loss_rest[i] = SparseShortRowFinish(d, row, static_cast<std::size_t>(labels[r]),
                                          with_grad ? scale[r] : T(0), keep, uniform, grad_row,
                                          cols, v0, v1, vmax, e0, e1, vsum);
  };
  std::size_t i = 0;
  for (; i + 2 <= count; i += 2) {
    const std::size_t ra = first + i;
    const std::size_t rb = ra + 1;
    g.done[i] = g.done[i + 1] = false;
    if (labels[ra] < 0 || labels[rb] < 0) {
      single(i);
      single(i + 1);
      continue;
    }
    const T* row_a = x + ra * stride;
    const T* row_b = x + rb * stride;
    V a0 = hn::Zero(d), a1 = hn::Zero(d), b0 = hn::Zero(d), b1 = hn::Zero(d);
    const V max_a = ShortRowMax(d, row_a, cols, a0, a1);
    const V max_b = ShortRowMax(d, row_b, cols, b0, b1);
    if (!std::isfinite(hn::GetLane(max_a)) || !std::isfinite(hn::GetLane(max_b))) {
      single(i);
      single(i + 1);
      continue;
    }
    V ea0 = hn::Zero(d), ea1 = hn::Zero(d), eb0 = hn::Zero(d), eb1 = hn::Zero(d);
    const V sum_a = ShortRowExp(d, cols, a0, a1, max_a, ea0, ea1);
    const V sum_b = ShortRowExp(d, cols, b0, b1, max_b, eb0, eb1);
    g.log_sums.values[i] = static_cast<double>(hn::GetLane(sum_a));
    g.log_sums.values[i + 1] = static_cast<double>(hn::GetLane(sum_b));
    g.loss_rest[i] = SparseShortRowFinish(
        d, row_a, static_cast<std::size_t>(labels[ra]), with_grad ? scale[ra] : T(0), keep, uniform,
        with_grad ? grad + ra * stride : nullptr, cols, a0, a1, max_a, ea0, ea1, sum_a);
    g.loss_rest[i + 1] = SparseShortRowFinish(
        d, row_b, static_cast<std::size_t>(labels[rb]), with_grad ? scale[rb] : T(0), keep, uniform,
        with_grad ? grad + rb * stride : nullptr, cols, b0, b1, max_b, eb0, eb1, sum_b);
  }
  if (i < count) {
    g.done[i] = false;
    single(i);
  }
}

// Short rows as column groups (rowwise-inl.h): ColumnGroupMaxSum gives the maxima, sums and
// exponentials of a group of rows, the losses are vector operations over the group (lane j for
// row j), and so is the gradient, column by column, before a transposition writes its rows.
// Ignored rows and rows whose maximum is not finite are skipped by those stores and finished one
// by one afterwards. The whole group is read before anything is written, so grad may be x.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void SparseColumnGroups(D d, const T* x, const std::int64_t* HWY_RESTRICT labels,
                                   const T* HWY_RESTRICT scale, T smoothing, T keep, T uniform,
                                   T* HWY_RESTRICT loss, T* grad, std::size_t rows,
                                   std::size_t cols, std::size_t stride) {
  using V = hn::VFromD<D>;
  const std::size_t N = hn::Lanes(d);
  const bool with_grad = grad != nullptr;
  constexpr std::size_t kGroup = ColumnGroup<D>::kBlocks * ColumnGroup<D>::kLanes;
  const auto finish_group = [&](std::size_t first, std::size_t count, ColumnGroup<D>& g) HWY_ATTR {
    // Per row: x at the label (at column 0 for ignored rows, whose lanes are replaced later; 0
    // past the group) and the label as T (negative for ignored rows: no column matches it).
    // Which rows are replaced (skip) is only worked out when some are: the per-row checks cost
    // more than a vector test of the maxima.
    HWY_ALIGN T label_x[kGroup];
    HWY_ALIGN T label_values[kGroup];
    bool skip[kGroup];
    bool any_skipped = false;
    for (std::size_t i = 0; i < count; ++i) {
      const std::int64_t label = labels[first + i];
      const std::size_t column = label >= 0 ? static_cast<std::size_t>(label) : 0;
      label_x[i] = x[(first + i) * stride + column];
      label_values[i] = static_cast<T>(label);
      any_skipped |= label < 0;
    }
    const std::size_t padded = (count + N - 1) / N * N;
    for (std::size_t i = count; i < padded; ++i) label_x[i] = label_values[i] = T(0);
    for (std::size_t i = 0; i < count; i += N) {
      any_skipped |= !hn::AllTrue(d, hn::IsFinite(hn::Load(d, g.maxima + i)));
    }
    for (std::size_t i = 0; i < count && any_skipped; ++i) {
      skip[i] = labels[first + i] < 0 || !std::isfinite(g.maxima[i]);
    }
    const V half = hn::Set(d, T(0.5));
    const std::size_t block_elements = ColumnGroup<D>::kColumnVectors * N;
    for (std::size_t i = 0; i < count; i += N) {
      const std::size_t block_rows = HWY_MIN(N, count - i);
      // loss = log(sum) + keep (max - x_label) + uniform sum_c (max - x_c), each difference
      // formed halved as in WeightedDifference; a zero weight drops its term.
      const V vmax = hn::Load(d, g.maxima + i);
      const V vsum = hn::Load(d, g.sums + i);
      const V half_max = hn::Mul(vmax, half);
      V half_rest = hn::Zero(d);
      if (keep != 0) {
        half_rest =
            hn::Mul(hn::NegMulAdd(hn::Load(d, label_x + i), half, half_max), hn::Set(d, keep));
      }
      if (uniform != 0) {
        const T* columns = g.columns + (i / N) * block_elements;
        // The weight applied to each term, as in UniformTargetTerms: no partial sum overflows.
        const V vuniform = hn::Set(d, uniform);
        for (std::size_t c = 0; c < cols; ++c) {
          half_rest = hn::MulAdd(hn::NegMulAdd(hn::Load(d, columns + c * N), half, half_max),
                                 vuniform, half_rest);
        }
      }
      StoreBlock(d, hn::MulAdd(half_rest, hn::Set(d, T(2)), LogFullRange(d, vsum)),
                 loss + first + i, block_rows);
      if (!with_grad) continue;
      // grad = scale e / sum - scale (uniform + keep [c == label]), column by column, in place
      // of the exponentials; columns past the row (cols < N) are zero.
      const V vscale = block_rows == N ? hn::LoadU(d, scale + first + i)
                                       : LoadTail(d, scale + first + i, block_rows, hn::Zero(d));
      const V coefficient = hn::Div(vscale, vsum);
      const V other = hn::Mul(vscale, hn::Set(d, uniform));
      const V at_label = hn::Mul(vscale, hn::Set(d, uniform + keep));
      const V vlabel = hn::Load(d, label_values + i);
      T* columns = g.exps + (i / N) * block_elements;
      for (std::size_t c = 0; c < cols; ++c) {
        const V target =
            hn::IfThenElse(hn::Eq(vlabel, hn::Set(d, static_cast<T>(c))), at_label, other);
        hn::Store(hn::MulSub(hn::Load(d, columns + c * N), coefficient, target), d,
                  columns + c * N);
      }
      for (std::size_t c = cols; c < N; ++c) hn::Store(hn::Zero(d), d, columns + c * N);
      StoreColumnsAsRows(d, columns, block_rows, cols, grad + (first + i) * stride, stride,
                         any_skipped ? skip + i : nullptr, g.scratch);
    }
    if (HWY_LIKELY(!any_skipped)) return;
    for (std::size_t i = 0; i < count; ++i) {
      if (!skip[i]) continue;
      const std::size_t r = first + i;
      T* grad_row = with_grad ? grad + r * stride : nullptr;
      if (labels[r] < 0) {  // ignored
        loss[r] = 0;
        if (with_grad) ZeroRow(d, grad_row, cols);
      } else {
        SpecialSparseRow(x + r * stride, &labels[r], with_grad ? &scale[r] : nullptr, smoothing,
                         &loss[r], grad_row, cols);
      }
    }
  };
  // The exponentials are kept for the gradient only.
  if (with_grad) {
    ForEachColumnGroup<true>(d, x, rows, cols, stride, finish_group);
  } else {
    ForEachColumnGroup<false>(d, x, rows, cols, stride, finish_group);
  }
}

template <class T>
void SparseSoftmaxCrossEntropyKernel(const T* x, const std::int64_t* HWY_RESTRICT labels,
                                     const T* HWY_RESTRICT scale, T smoothing, T* HWY_RESTRICT loss,
                                     T* grad, std::size_t rows, std::size_t cols,
                                     std::size_t stride) {
  const hn::ScalableTag<T> d;
  const bool with_grad = grad != nullptr;
  const T keep = T(1) - smoothing;  // the label's target weight, 1 - s
  const T uniform = static_cast<T>(static_cast<double>(smoothing) / static_cast<double>(cols));
  if (UseColumnBlocks(d, cols, stride)) {
    SparseColumnGroups(d, x, labels, scale, smoothing, keep, uniform, loss, grad, rows, cols,
                       stride);
    return;
  }
  const bool short_rows = IsShortRow(d, cols);
  const std::size_t group = short_rows ? kMaxRowGroup : RowGroupSize<T>(cols);
  // A large gradient is streamed (see StreamsOutput); the exponentials then wait in `scratch`.
  const bool stream = with_grad && !short_rows && StreamsOutput<T>(rows, cols, stride);
  HWY_ALIGN T scratch[kScratchBytes / sizeof(T)];
  LossRowGroup g;
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    // First pass over the group's rows: maximum, exponentials (stored into grad, or scratch when
    // streaming) and their sum.
    if (short_rows) {
      // The gradient is complete; only the loss waits for the group's logarithms.
      WithShortRowTag(d, cols, [&](auto short_tag) HWY_ATTR {
        SparseShortRows(short_tag, x, labels, scale, smoothing, keep, uniform, loss, grad, first,
                        count, cols, stride, g);
      });
    }
    for (std::size_t i = 0; i < count && !short_rows; ++i) {
      const std::size_t r = first + i;
      const T* row = x + r * stride;
      T* grad_row = with_grad ? grad + r * stride : nullptr;
      g.done[i] = false;
      if (labels[r] < 0) {  // ignored
        loss[r] = 0;
        if (with_grad) ZeroRow(d, grad_row, cols);
        g.Finish(i);
        continue;
      }
      const auto label = static_cast<std::size_t>(labels[r]);
      const T max = RowMax<false>(d, row, cols, nullptr);
      if (!std::isfinite(max)) {
        SpecialSparseRow(row, &labels[r], with_grad ? &scale[r] : nullptr, smoothing, &loss[r],
                         grad_row, cols);
        g.Finish(i);
        continue;
      }
      // Read before the exp pass overwrites it when grad == x.
      const T x_label = row[label];
      double rest = WeightedDifference(keep, max, x_label);
      const T* next = NextRow(x, r, rows, stride);
      T* exponentials = stream ? scratch + i * cols : grad_row;
      double& sum = g.log_sums.values[i];
      if (uniform != 0) {
        const UniformTargetTerms<decltype(d)> terms{d, max / 2, uniform};
        double half_sum = 0;
        sum = with_grad
                  ? SumExpShifted<true>(d, row, exponentials, cols, max, next, terms, &half_sum)
                  : SumExpShifted<false>(d, row, static_cast<T*>(nullptr), cols, max, next, terms,
                                         &half_sum);
        rest += 2 * half_sum;
      } else {
        sum = with_grad ? SumExpShifted<true>(d, row, exponentials, cols, max, next)
                        : SumExpShifted<false>(d, row, static_cast<T*>(nullptr), cols, max, next);
      }
      g.loss_rest[i] = rest;
    }
    g.Reduce(count, with_grad && !short_rows);
    // Second pass: the losses and, for long rows, the gradient from the stored exponentials.
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = first + i;
      if (g.done[i]) continue;
      loss[r] = static_cast<T>(g.log_sums.values[i] + g.loss_rest[i]);
      if (!with_grad || short_rows) continue;
      T* grad_row = grad + r * stride;
      const auto label = static_cast<std::size_t>(labels[r]);
      const T coefficient = static_cast<T>(g.inverses.values[i] * static_cast<double>(scale[r]));
      const T target_other = scale[r] * uniform;
      const T* exponentials = stream ? scratch + i * cols : grad_row;
      const T grad_label = exponentials[label] * coefficient - scale[r] * (uniform + keep);
      const auto gradient = [d, coefficient, target_other](auto e) HWY_ATTR {
        return hn::MulSub(e, hn::Set(d, coefficient), hn::Set(d, target_other));
      };
      if (stream) {
        StreamRow(d, grad_row, cols, MapGenerator(d, exponentials, gradient), label, grad_label);
      } else {
        MapRow(d, grad_row, grad_row, cols, gradient);
        grad_row[label] = grad_label;
      }
    }
  }
  if (stream) hwy::FlushStream();
}

// ---------------------------------------------------------------------------------------------
// Softmax cross-entropy against dense targets, t' = (1 - s) t + s / cols:
//
//   loss = (sum_c t'_c) log(sum) + sum_c t'_c (max - x_c)       (0 where t'_c = 0)
//   grad = scale ((sum_k t'_k) e / sum - t')

// The exp pass's extra sums: sum_c t'_c and sum_c t'_c (x_c - max) / 2.
template <class D, class T = hn::TFromD<D>>
struct DenseTargetTerms {
  static constexpr std::size_t kSums = 2;
  D d;
  const T* targets;  // of the row
  T half_max;
  T keep;     // 1 - s
  T uniform;  // s / cols

  template <class V>
  HWY_INLINE void operator()(std::size_t i, std::size_t count, V v, V& target_sum,
                             V& weighted_sum) const {
    const std::size_t N = hn::Lanes(d);
    const V t =
        count == N ? hn::LoadU(d, targets + i) : LoadTail(d, targets + i, count, hn::Zero(d));
    V smoothed = hn::MulAdd(t, hn::Set(d, keep), hn::Set(d, uniform));
    if (count != N) smoothed = hn::IfThenElseZero(hn::FirstN(d, count), smoothed);
    target_sum = hn::Add(target_sum, smoothed);
    // Lanes past the row hold max (a difference of 0) and a target of 0.
    const V half_difference = hn::MulSub(v, hn::Set(d, T(0.5)), hn::Set(d, half_max));
    weighted_sum = hn::Add(weighted_sum, hn::IfThenZeroElse(hn::Eq(smoothed, hn::Zero(d)),
                                                            hn::Mul(smoothed, half_difference)));
  }
};

// One short row of the dense loss in registers; as SparseShortRow. *target_sum is sum_c t'_c.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE bool DenseShortRow(D d, const T* x, const T* targets, T scale, T keep, T uniform,
                              T* grad, std::size_t cols, double* sum, double* target_sum,
                              double* weighted_sum) {
  using V = hn::VFromD<D>;
  V v0 = hn::Zero(d), v1 = hn::Zero(d);
  LoadOverlappingRow(d, x, cols, -std::numeric_limits<T>::infinity(), v0, v1);
  const V vmax = MaxOfLanesExact(d, hn::Max(v0, v1));
  const T max = hn::GetLane(vmax);
  if (!std::isfinite(max)) return false;
  V t0 = hn::Zero(d), t1 = hn::Zero(d);
  LoadOverlappingRow(d, targets, cols, T(0), t0, t1);
  const auto second = SecondVectorLanes(d, cols);
  const V vkeep = hn::Set(d, keep);
  const V vuniform = hn::Set(d, uniform);
  const V smoothed0 =
      hn::IfThenElseZero(FirstVectorLanes(d, cols), hn::MulAdd(t0, vkeep, vuniform));
  const V smoothed1 = hn::IfThenElseZero(second, hn::MulAdd(t1, vkeep, vuniform));
  const V e0 = ExpFlushSubnormal(d, hn::Sub(v0, vmax));
  const V e1 = ExpFlushSubnormal(d, hn::Sub(v1, vmax));
  const V vsum = hn::SumOfLanes(d, hn::Add(e0, hn::IfThenElseZero(second, e1)));
  const V vtarget_sum = hn::SumOfLanes(d, hn::Add(smoothed0, smoothed1));
  const V half = hn::Set(d, T(0.5));
  const V half_max = hn::Mul(vmax, half);
  const V zero = hn::Zero(d);
  // Padding lanes hold x = -inf and t' = 0: the zero-weight rule makes them 0.
  const V w0 = hn::IfThenZeroElse(hn::Eq(smoothed0, zero),
                                  hn::Mul(smoothed0, hn::MulSub(v0, half, half_max)));
  const V w1 = hn::IfThenZeroElse(hn::Eq(smoothed1, zero),
                                  hn::Mul(smoothed1, hn::MulSub(v1, half, half_max)));
  *sum = static_cast<double>(hn::GetLane(vsum));
  *target_sum = static_cast<double>(hn::GetLane(vtarget_sum));
  *weighted_sum = static_cast<double>(hn::GetLane(hn::SumOfLanes(d, hn::Add(w0, w1))));
  if (grad != nullptr) {
    // scale T e / sum - scale t', t' recomputed without the mask (v1's repeated lanes must get
    // the values v0's lanes get).
    const V coefficient = hn::Div(hn::Mul(hn::Set(d, scale), vtarget_sum), vsum);
    const V keep_scale = hn::Set(d, keep * scale);
    const V uniform_scale = hn::Set(d, uniform * scale);
    StoreOverlappingRow(d, hn::MulSub(e0, coefficient, hn::MulAdd(t0, keep_scale, uniform_scale)),
                        hn::MulSub(e1, coefficient, hn::MulAdd(t1, keep_scale, uniform_scale)),
                        grad, cols);
  }
  return true;
}

// The short rows of one group of the dense loss, one at a time; as SparseShortRows, with the
// target sums in target_sums.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void DenseShortRows(D d, const T* x, const T* targets, const T* scale, T smoothing,
                               T keep, T uniform, T* loss, T* grad, std::size_t first,
                               std::size_t count, std::size_t cols, std::size_t stride,
                               LossRowGroup& g, double* target_sums) {
  const bool with_grad = grad != nullptr;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t r = first + i;
    const T* row = x + r * stride;
    const T* target_row = targets + r * stride;
    T* grad_row = with_grad ? grad + r * stride : nullptr;
    g.done[i] = false;
    double weighted_half_sum = 0;
    if (!DenseShortRow(d, row, target_row, with_grad ? scale[r] : T(0), keep, uniform, grad_row,
                       cols, &g.log_sums.values[i], &target_sums[i], &weighted_half_sum)) {
      SpecialDenseRow(row, target_row, with_grad ? &scale[r] : nullptr, smoothing, &loss[r],
                      grad_row, cols);
      g.Finish(i);
    }
    g.loss_rest[i] = -2 * weighted_half_sum;
  }
}

// Short rows as column groups, as SparseColumnGroups; the targets of each block are transposed
// like x. Rows whose maximum is not finite run the scalar reference afterwards.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void DenseColumnGroups(D d, const T* x, const T* HWY_RESTRICT targets,
                                  const T* HWY_RESTRICT scale, T smoothing, T keep, T uniform,
                                  T* HWY_RESTRICT loss, T* grad, std::size_t rows, std::size_t cols,
                                  std::size_t stride) {
  using V = hn::VFromD<D>;
  const std::size_t N = hn::Lanes(d);
  const bool with_grad = grad != nullptr;
  constexpr std::size_t kGroup = ColumnGroup<D>::kBlocks * ColumnGroup<D>::kLanes;
  const auto finish_group = [&](std::size_t first, std::size_t count, ColumnGroup<D>& g) HWY_ATTR {
    bool skip[kGroup];
    bool any_skipped = false;
    for (std::size_t i = 0; i < count; i += N) {
      any_skipped |= !hn::AllTrue(d, hn::IsFinite(hn::Load(d, g.maxima + i)));
    }
    for (std::size_t i = 0; i < count && any_skipped; ++i) skip[i] = !std::isfinite(g.maxima[i]);
    HWY_ALIGN T target_columns[ColumnGroup<D>::kColumnVectors * ColumnGroup<D>::kLanes];
    const V zero = hn::Zero(d);
    const V half = hn::Set(d, T(0.5));
    const V vkeep = hn::Set(d, keep);
    const V vuniform = hn::Set(d, uniform);
    const std::size_t block_elements = ColumnGroup<D>::kColumnVectors * N;
    for (std::size_t i = 0; i < count; i += N) {
      const std::size_t block_rows = HWY_MIN(N, count - i);
      LoadColumns(d, targets + (first + i) * stride, block_rows, cols, stride, g.scratch,
                  target_columns);
      // loss = T log(sum) + sum_c t'_c (max - x_c), T = sum_c t'_c, the differences halved as in
      // DenseTargetTerms, a zero weight dropping its term; T log(sum) is 0 for T = 0 (unless the
      // sum is NaN).
      const V vmax = hn::Load(d, g.maxima + i);
      const V vsum = hn::Load(d, g.sums + i);
      const V half_max = hn::Mul(vmax, half);
      const T* columns = g.columns + (i / N) * block_elements;
      V target_sum = zero, weighted = zero;
      for (std::size_t c = 0; c < cols; ++c) {
        const V smoothed = hn::MulAdd(hn::Load(d, target_columns + c * N), vkeep, vuniform);
        target_sum = hn::Add(target_sum, smoothed);
        const V half_difference = hn::MulSub(hn::Load(d, columns + c * N), half, half_max);
        weighted = hn::Add(weighted, hn::IfThenZeroElse(hn::Eq(smoothed, zero),
                                                        hn::Mul(smoothed, half_difference)));
      }
      const V log_sum = LogFullRange(d, vsum);
      const V log_term =
          hn::IfThenZeroElse(hn::And(hn::Eq(target_sum, zero), hn::Not(hn::IsNaN(log_sum))),
                             hn::Mul(target_sum, log_sum));
      StoreBlock(d, hn::NegMulAdd(weighted, hn::Set(d, T(2)), log_term), loss + first + i,
                 block_rows);
      if (!with_grad) continue;
      // grad = scale (T e / sum - t'), column by column in place of the exponentials.
      const V vscale = block_rows == N ? hn::LoadU(d, scale + first + i)
                                       : LoadTail(d, scale + first + i, block_rows, zero);
      const V coefficient = hn::Div(hn::Mul(vscale, target_sum), vsum);
      const V keep_scale = hn::Mul(vscale, vkeep);
      const V uniform_scale = hn::Mul(vscale, vuniform);
      T* exps = g.exps + (i / N) * block_elements;
      for (std::size_t c = 0; c < cols; ++c) {
        const V target = hn::MulAdd(hn::Load(d, target_columns + c * N), keep_scale, uniform_scale);
        hn::Store(hn::MulSub(hn::Load(d, exps + c * N), coefficient, target), d, exps + c * N);
      }
      for (std::size_t c = cols; c < N; ++c) hn::Store(zero, d, exps + c * N);
      StoreColumnsAsRows(d, exps, block_rows, cols, grad + (first + i) * stride, stride,
                         any_skipped ? skip + i : nullptr, g.scratch);
    }
    if (HWY_LIKELY(!any_skipped)) return;
    for (std::size_t i = 0; i < count; ++i) {
      if (!skip[i]) continue;
      const std::size_t r = first + i;
      SpecialDenseRow(x + r * stride, targets + r * stride, with_grad ? &scale[r] : nullptr,
                      smoothing, &loss[r], with_grad ? grad + r * stride : nullptr, cols);
    }
  };
  if (with_grad) {
    ForEachColumnGroup<true>(d, x, rows, cols, stride, finish_group);
  } else {
    ForEachColumnGroup<false>(d, x, rows, cols, stride, finish_group);
  }
}

template <class T>
void SoftmaxCrossEntropyKernel(const T* x, const T* targets, const T* HWY_RESTRICT scale,
                               T smoothing, T* HWY_RESTRICT loss, T* grad, std::size_t rows,
                               std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  const bool with_grad = grad != nullptr;
  const T keep = T(1) - smoothing;
  const T uniform = static_cast<T>(static_cast<double>(smoothing) / static_cast<double>(cols));
  if (UseColumnBlocks(d, cols, stride)) {
    DenseColumnGroups(d, x, targets, scale, smoothing, keep, uniform, loss, grad, rows, cols,
                      stride);
    return;
  }
  const bool short_rows = IsShortRow(d, cols);
  const std::size_t group = short_rows ? kMaxRowGroup : RowGroupSize<T>(cols);
  const bool stream = with_grad && !short_rows && StreamsOutput<T>(rows, cols, stride);
  HWY_ALIGN T scratch[kScratchBytes / sizeof(T)];
  LossRowGroup g;
  double target_sums[kMaxRowGroup];
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    if (short_rows) {
      WithShortRowTag(d, cols, [&](auto short_tag) HWY_ATTR {
        DenseShortRows(short_tag, x, targets, scale, smoothing, keep, uniform, loss, grad, first,
                       count, cols, stride, g, target_sums);
      });
    }
    for (std::size_t i = 0; i < count && !short_rows; ++i) {
      const std::size_t r = first + i;
      const T* row = x + r * stride;
      const T* target_row = targets + r * stride;
      T* grad_row = with_grad ? grad + r * stride : nullptr;
      g.done[i] = false;
      const T max = RowMax<false>(d, row, cols, nullptr);
      if (!std::isfinite(max)) {
        SpecialDenseRow(row, target_row, with_grad ? &scale[r] : nullptr, smoothing, &loss[r],
                        grad_row, cols);
        g.Finish(i);
        continue;
      }
      const DenseTargetTerms<decltype(d)> terms{d, target_row, max / 2, keep, uniform};
      double sums[2] = {0, 0};
      const T* next = NextRow(x, r, rows, stride);
      g.log_sums.values[i] =
          with_grad ? SumExpShifted<true>(d, row, stream ? scratch + i * cols : grad_row, cols, max,
                                          next, terms, sums)
                    : SumExpShifted<false>(d, row, static_cast<T*>(nullptr), cols, max, next, terms,
                                           sums);
      target_sums[i] = sums[0];
      g.loss_rest[i] = -2 * sums[1];
    }
    g.Reduce(count, with_grad && !short_rows);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = first + i;
      if (g.done[i]) continue;
      // T log(sum), with a zero target sum contributing 0 (unless the sum is NaN).
      const double log_term = target_sums[i] == 0 && !std::isnan(g.log_sums.values[i])
                                  ? 0.0
                                  : target_sums[i] * g.log_sums.values[i];
      loss[r] = static_cast<T>(log_term + g.loss_rest[i]);
      if (!with_grad || short_rows) continue;
      T* grad_row = grad + r * stride;
      const T coefficient =
          static_cast<T>(g.inverses.values[i] * target_sums[i] * static_cast<double>(scale[r]));
      const T keep_scale = keep * scale[r];
      const T uniform_scale = uniform * scale[r];
      const auto gradient = [d, coefficient, keep_scale, uniform_scale](auto e, auto t) HWY_ATTR {
        return hn::MulSub(e, hn::Set(d, coefficient),
                          hn::MulAdd(t, hn::Set(d, keep_scale), hn::Set(d, uniform_scale)));
      };
      const T* target_row = targets + r * stride;
      if (stream) {
        const T* exponentials = scratch + i * cols;
        StreamRow(d, grad_row, cols, [&](std::size_t k, std::size_t n) HWY_ATTR {
          if (n == hn::Lanes(d))
            return gradient(hn::LoadU(d, exponentials + k), hn::LoadU(d, target_row + k));
          return gradient(LoadTail(d, exponentials + k, n, hn::Zero(d)),
                          LoadTail(d, target_row + k, n, hn::Zero(d)));
        });
      } else {
        MapRow2(d, grad_row, target_row, grad_row, cols, gradient);
      }
    }
  }
  if (stream) hwy::FlushStream();
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
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Log1pOverQ(D d, V q) {
  constexpr auto kCoefficients = detail::Log1pPolynomial<hn::TFromD<D>>::kCoefficients;
  constexpr std::size_t kLast = kCoefficients.size() - 1;
  constexpr std::size_t kLastEven = kLast % 2 == 0 ? kLast : kLast - 1;
  constexpr std::size_t kLastOdd = kLast % 2 == 1 ? kLast : kLast - 1;
  const V q2 = hn::Mul(q, q);
  V even = hn::Set(d, kCoefficients[kLastEven]);
  for (std::size_t k = kLastEven; k >= 2; k -= 2) {
    even = hn::MulAdd(even, q2, hn::Set(d, kCoefficients[k - 2]));
  }
  V odd = hn::Set(d, kCoefficients[kLastOdd]);
  for (std::size_t k = kLastOdd; k >= 3; k -= 2) {
    odd = hn::MulAdd(odd, q2, hn::Set(d, kCoefficients[k - 2]));
  }
  return hn::MulAdd(odd, q, even);
}

// The per-row constants of the sigmoid cross-entropy.
template <class T>
struct BinaryRowConstants {
  T keep;            // 1 - s
  T half_smoothing;  // s / 2
  T inverse_cols;    // each term is divided by cols before it is summed: the mean is finite
                     // whenever the terms are
  T grad_scale;      // scale / cols
};

// exp(-|x|), the one transcendental function of the loss term, NaN for NaN. Results below the
// smallest normal number are flushed to 0: the terms and gradients they would change are below it.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpMinusMagnitude(D d, V v) {
  return ExpFlushSubnormal(d, hn::Neg(hn::Abs(v)));
}

// The loss term of logits v against targets t, divided by cols, and with kGrad the gradient, from
// q = ExpMinusMagnitude(v) and p = Log1pOverQ(q).
template <bool kGrad, class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE V SigmoidCrossEntropyTerm(D d, V v, V t, V q, V p, const BinaryRowConstants<T>& c,
                                     V& grad) {
  const V zero = hn::Zero(d);
  const V one = hn::Set(d, T(1));
  const V smoothed = hn::MulAdd(t, hn::Set(d, c.keep), hn::Set(d, c.half_smoothing));
  const auto negative = hn::Lt(v, zero);
  if constexpr (kGrad) {
    const V sigmoid_of_magnitude = hn::Div(one, hn::Add(one, q));
    const V sigmoid =
        hn::IfThenElse(negative, hn::Mul(q, sigmoid_of_magnitude), sigmoid_of_magnitude);
    grad = hn::Mul(hn::Sub(sigmoid, smoothed), hn::Set(d, c.grad_scale));
  }
  // x (1 - t') for x >= 0 and -x t' = |x| t' below (NaN takes the second branch).
  const V weight = hn::IfThenElse(negative, smoothed, hn::Sub(one, smoothed));
  const V linear = hn::IfThenZeroElse(hn::Eq(weight, zero), hn::Mul(weight, hn::Abs(v)));
  return hn::Mul(hn::MulAdd(q, p, linear), hn::Set(d, c.inverse_cols));
}

// The rows are computed in chunks of kSigmoidChunkVectors vectors of contiguous elements, in three
// stages over the chunk: q = exp(-|x|) of every vector into a buffer, then p = Log1pOverQ(q), then
// the division and the terms. Each stage is a run of independent short chains that the
// out-of-order window overlaps. One vector's whole term is a chain of about 70 cycles on AVX2
// (exponential, polynomial, then the division's dependants), and computed vector after vector
// the window held about one pair of them: the kernel ran at that latency, not at the FMA units'
// throughput. Short rows (shorter than a chunk) are grouped: the elements of a group of rows are
// one flat chunk (copied together first when the rows are strided), whose terms are then summed
// per row. A matrix of one column, a batch of sigmoid outputs, is then as fast as a long row,
// where one row at a time it had been 20 times slower.
constexpr std::size_t kSigmoidChunkVectors = 32;

// The elements of a chunk on D.
template <class D>
HWY_INLINE std::size_t SigmoidChunkElements(D d) {
  return kSigmoidChunkVectors * hn::Lanes(d);
}

// Chunk buffers: q, the terms, and for strided short rows packed copies of x, the targets and
// the gradient.
template <class D>
struct SigmoidChunkBuffers {
  using T = hn::TFromD<D>;
  static constexpr std::size_t kElements = kSigmoidChunkVectors * hn::MaxLanes(D());
  HWY_ALIGN T q[kElements];
  HWY_ALIGN T p[kElements];
  HWY_ALIGN T terms[kElements];
  HWY_ALIGN T x[kElements];
  HWY_ALIGN T targets[kElements];
  HWY_ALIGN T grad[kElements];
};

// The n (1 <= n <= SigmoidChunkElements) contiguous elements at x: terms[i] = the loss term of
// element i divided by cols; with kGrad, grad[i] = c.grad_scale (sigmoid(x[i]) - t'[i]). grad may
// be x (each vector is read before it is written). The next chunk's logits and targets (next_n
// elements at next_x and next_targets) are prefetched during the polynomial stage, which reads no
// memory: on inputs larger than the caches the transfer then overlaps the arithmetic.
template <bool kGrad, class D, class Buffers, class T = hn::TFromD<D>>
HWY_INLINE void SigmoidCrossEntropyChunk(D d, const T* x, const T* targets, std::size_t n,
                                         const BinaryRowConstants<T>& c, Buffers& b,
                                         T* HWY_RESTRICT terms, T* grad, const T* next_x,
                                         const T* next_targets, std::size_t next_n) {
  using V = hn::VFromD<D>;
  const std::size_t N = hn::Lanes(d);
  const V zero = hn::Zero(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) hn::Store(ExpMinusMagnitude(d, hn::LoadU(d, x + i)), d, b.q + i);
  if (i < n) hn::Store(ExpMinusMagnitude(d, LoadTail(d, x + i, n - i, zero)), d, b.q + i);
  for (i = 0; i < n; i += N) {
    if (i < next_n) {
      hwy::Prefetch(next_x + i);
      hwy::Prefetch(next_targets + i);
    }
    hn::Store(Log1pOverQ(d, hn::Load(d, b.q + i)), d, b.p + i);
  }
  for (i = 0; i + N <= n; i += N) {
    V g = zero;
    const V term = SigmoidCrossEntropyTerm<kGrad>(d, hn::LoadU(d, x + i), hn::LoadU(d, targets + i),
                                                  hn::Load(d, b.q + i), hn::Load(d, b.p + i), c, g);
    hn::StoreU(term, d, terms + i);
    if constexpr (kGrad) hn::StoreU(g, d, grad + i);
  }
  if (i < n) {
    V g = zero;
    const V term = SigmoidCrossEntropyTerm<kGrad>(d, LoadTail(d, x + i, n - i, zero),
                                                  LoadTail(d, targets + i, n - i, zero),
                                                  hn::Load(d, b.q + i), hn::Load(d, b.p + i), c, g);
    StoreTail(d, term, terms + i, n - i);
    if constexpr (kGrad) StoreTail(d, g, grad + i, n - i);
  }
}

// Adds terms[0, n) to total: blocks of kBlockVectors vectors summed in T (four accumulators),
// each block total added to the compensated sum, as the other row sums (rowwise-inl.h).
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void AddTermSums(D d, const T* HWY_RESTRICT terms, std::size_t n,
                            CompensatedSum& total) {
  using V = hn::VFromD<D>;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  if (n < N) {
    double sum = 0;
    for (; i < n; ++i) sum += static_cast<double>(terms[i]);
    total.Add(sum);
    return;
  }
  while (i < n) {
    const std::size_t block_end = HWY_MIN(n, i + kBlockVectors * N);
    V s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (; i + 4 * N <= block_end; i += 4 * N) {
      s0 = hn::Add(s0, hn::LoadU(d, terms + i));
      s1 = hn::Add(s1, hn::LoadU(d, terms + i + N));
      s2 = hn::Add(s2, hn::LoadU(d, terms + i + 2 * N));
      s3 = hn::Add(s3, hn::LoadU(d, terms + i + 3 * N));
    }
    for (; i + N <= block_end; i += N) s0 = hn::Add(s0, hn::LoadU(d, terms + i));
    if (i < block_end) {
      s1 = hn::Add(s1, LoadTail(d, terms + i, block_end - i, hn::Zero(d)));
      i = block_end;
    }
    total.Add(ReduceToDouble(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  }
}

// The sum of the terms of a row of n (< SigmoidChunkElements) elements, as AddTermSums into an
// empty compensated sum gives it (the same bits): a row of one block needs no compensation.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE double RowTermSum(D d, const T* HWY_RESTRICT terms, std::size_t n) {
  const std::size_t N = hn::Lanes(d);
  if (n >= N && n < 4 * N) {
    using V = hn::VFromD<D>;
    V s0 = hn::LoadU(d, terms), s1 = hn::Zero(d);
    std::size_t i = N;
    for (; i + N <= n; i += N) s0 = hn::Add(s0, hn::LoadU(d, terms + i));
    if (i < n) s1 = LoadTail(d, terms + i, n - i, hn::Zero(d));
    return ReduceToDouble(d, hn::Add(s0, s1));
  }
  CompensatedSum total;
  AddTermSums(d, terms, n, total);
  return total.TotalAllowingInfinity();
}

// Whether the n (>= 1) values at p are all equal to p[0].
template <class D, class T = hn::TFromD<D>>
HWY_INLINE bool AllEqual(D d, const T* p, std::size_t n) {
  const std::size_t N = hn::Lanes(d);
  const auto first = hn::Set(d, p[0]);
  std::size_t i = 0;
  for (; i + N <= n; i += N) {
    if (!hn::AllTrue(d, hn::Eq(hn::LoadU(d, p + i), first))) return false;
  }
  for (; i < n; ++i) {
    if (!(p[i] == p[0])) return false;
  }
  return true;
}

// The gradient scale of row r: scale[r] / cols, rounded once.
template <class T>
HWY_INLINE T SigmoidGradScale(const T* scale, std::size_t r, std::size_t cols) {
  return static_cast<T>(static_cast<double>(scale[r]) / static_cast<double>(cols));
}

// Rows of at least one chunk: each row in chunks, its terms summed across them.
template <bool kGrad, class D, class T = hn::TFromD<D>>
HWY_INLINE void SigmoidCrossEntropyLongRows(D d, const T* x, const T* targets, const T* scale,
                                            BinaryRowConstants<T> c, T* loss, T* grad,
                                            std::size_t rows, std::size_t cols, std::size_t stride,
                                            SigmoidChunkBuffers<D>& b) {
  const std::size_t chunk = SigmoidChunkElements(d);
  for (std::size_t r = 0; r < rows; ++r) {
    if constexpr (kGrad) c.grad_scale = SigmoidGradScale(scale, r, cols);
    CompensatedSum total;
    for (std::size_t i = 0; i < cols; i += chunk) {
      const std::size_t n = HWY_MIN(chunk, cols - i);
      // The next chunk: the rest of this row, or the start of the next one.
      std::size_t next = 0;
      std::size_t next_n = 0;
      if (i + chunk < cols) {
        next = r * stride + i + chunk;
        next_n = HWY_MIN(chunk, cols - i - chunk);
      } else if (r + 1 < rows) {
        next = (r + 1) * stride;
        next_n = HWY_MIN(chunk, cols);
      }
      SigmoidCrossEntropyChunk<kGrad>(d, x + r * stride + i, targets + r * stride + i, n, c, b,
                                      b.terms, kGrad ? grad + r * stride + i : nullptr, x + next,
                                      targets + next, next_n);
      AddTermSums(d, b.terms, n, total);
    }
    loss[r] = static_cast<T>(total.TotalAllowingInfinity());
  }
}

// Rows shorter than a chunk, in groups of chunk / cols rows computed as one flat chunk. A group
// whose rows share one gradient scale (no sample weights) gets it in the chunk; otherwise the
// chunk's gradient is sigmoid - t' and each row is scaled after it, the same one rounding.
template <bool kGrad, class D, class T = hn::TFromD<D>>
HWY_INLINE void SigmoidCrossEntropyShortRows(D d, const T* x, const T* targets, const T* scale,
                                             BinaryRowConstants<T> c, T* loss, T* grad,
                                             std::size_t rows, std::size_t cols, std::size_t stride,
                                             SigmoidChunkBuffers<D>& b) {
  const std::size_t group_rows = SigmoidChunkElements(d) / cols;
  const bool packed = stride == cols;
  for (std::size_t first = 0; first < rows; first += group_rows) {
    const std::size_t count = HWY_MIN(group_rows, rows - first);
    const std::size_t n = count * cols;
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
      uniform_scale = AllEqual(d, scale + first, count);
      c.grad_scale = uniform_scale ? SigmoidGradScale(scale, first, cols) : T(1);
    }
    // A column's terms are the losses themselves (divided by cols = 1).
    T* terms = cols == 1 ? loss + first : b.terms;
    // The next group, when its rows are contiguous.
    const std::size_t next_n = packed ? HWY_MIN(group_rows, rows - first - count) * cols : 0;
    const std::size_t next = next_n > 0 ? (first + count) * stride : 0;
    SigmoidCrossEntropyChunk<kGrad>(d, group_x, group_targets, n, c, b, terms,
                                    packed ? group_grad : b.grad, x + next, targets + next, next_n);
    if (cols > 1) {
      for (std::size_t j = 0; j < count; ++j) {
        loss[first + j] = static_cast<T>(RowTermSum(d, b.terms + j * cols, cols));
      }
    }
    if (kGrad && !(uniform_scale && packed)) {
      T* chunk_grad = packed ? group_grad : b.grad;
      for (std::size_t j = 0; j < count; ++j) {
        T* row_grad = chunk_grad + j * cols;
        if (!uniform_scale) {
          const auto row_scale = hn::Set(d, SigmoidGradScale(scale, first + j, cols));
          MapRow(d, row_grad, row_grad, cols,
                 [&](auto v) HWY_ATTR { return hn::Mul(v, row_scale); });
        }
        if (!packed) std::copy_n(row_grad, cols, group_grad + j * stride);
      }
    }
  }
}

template <class T>
void SigmoidCrossEntropyKernel(const T* x, const T* targets, const T* HWY_RESTRICT scale,
                               T smoothing, T* HWY_RESTRICT loss, T* grad, std::size_t rows,
                               std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  SigmoidChunkBuffers<decltype(d)> buffers;
  const BinaryRowConstants<T> c{T(1) - smoothing, smoothing / 2,
                                static_cast<T>(1.0 / static_cast<double>(cols)), T(0)};
  const bool long_rows = cols >= SigmoidChunkElements(d);
  if (grad != nullptr) {
    (long_rows ? SigmoidCrossEntropyLongRows<true, decltype(d), T>
               : SigmoidCrossEntropyShortRows<true, decltype(d), T>)(d, x, targets, scale, c, loss,
                                                                     grad, rows, cols, stride,
                                                                     buffers);
  } else {
    (long_rows ? SigmoidCrossEntropyLongRows<false, decltype(d), T>
               : SigmoidCrossEntropyShortRows<false, decltype(d), T>)(d, x, targets, scale, c, loss,
                                                                      grad, rows, cols, stride,
                                                                      buffers);
  }
}

// ---------------------------------------------------------------------------------------------
// Top-k count: the number of entries above the row's threshold.

template <class T>
void CountGreaterKernel(const T* HWY_RESTRICT x, const T* HWY_RESTRICT threshold,
                        std::size_t* HWY_RESTRICT counts, std::size_t rows, std::size_t cols,
                        std::size_t stride) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    const T limit = threshold[r];
    if (std::isnan(limit)) {  // every entry counts (see the contract)
      counts[r] = cols;
      continue;
    }
    const auto vlimit = hn::Set(d, limit);
    std::size_t count = 0;
    std::size_t i = 0;
    for (; i + N <= cols; i += N) count += hn::CountTrue(d, hn::Gt(hn::LoadU(d, row + i), vlimit));
    // The padding holds the threshold itself, which is not greater than it.
    if (i < cols) count += hn::CountTrue(d, hn::Gt(LoadTail(d, row + i, cols - i, vlimit), vlimit));
    counts[r] = count;
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_LOSS_KERNELS_INL_H_
