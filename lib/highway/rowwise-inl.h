// Row-wise kernels (max, argmax, log-sum-exp, softmax, log-softmax and their backward passes),
// written once in Highway ops and compiled for every target by highway_kernels.cc.
//
// Softmax is built from reusable steps, each one pass over the row in L1: reduce-max, then
// sum of exp(x - max) (optionally storing each exponential), then a scaling pass.
#if defined(SIMDIFF_LIB_HIGHWAY_ROWWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_ROWWISE_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_ROWWISE_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_ROWWISE_INL_H_
#endif

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>

#include "exp-inl.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"
#include "log-inl.h"
#include "tail-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Row sums are formed in blocks of kBlockVectors vectors in the element type, then each block total
// is added to a compensated (Neumaier) sum in double. The float error then stays at about
// (kBlockVectors / 4 + 2 + log2(lanes)) ulp whatever the row length, where a running float sum
// would lose accuracy linearly with it.
constexpr std::size_t kBlockVectors = 16;

// Compensated running sum of block totals (Neumaier's variant of Kahan summation).
struct CompensatedSum {
  double sum = 0;
  double compensation = 0;

  void Add(double value) {
    const double t = sum + value;
    compensation += std::fabs(sum) >= std::fabs(value) ? (sum - t) + value : (value - t) + sum;
    sum = t;
  }
  double Total() const { return sum + compensation; }
  // The total also for sums of terms that may be infinite: once the sum is +-inf, its
  // compensation (inf - inf) is NaN, and the sum itself is the total.
  double TotalAllowingInfinity() const { return std::isfinite(sum) ? sum + compensation : sum; }
};

template <class D, class V = hn::VFromD<D>>
HWY_INLINE double ReduceToDouble(D d, V v) {
  return static_cast<double>(hn::GetLane(hn::SumOfLanes(d, v)));
}

// hn::MaxOfLanes (the maximum broadcast to every lane), also for a vector of -inf: Highway 1.0.3's
// EMU128 version starts from the lowest finite number, so -inf lanes would come out as -max.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V MaxOfLanesExact(D d, V v) {
#if HWY_TARGET == HWY_EMU128
  if (hn::AllTrue(d, hn::Eq(v, hn::Set(d, -std::numeric_limits<hn::TFromD<D>>::infinity())))) {
    return v;
  }
#endif
  return hn::MaxOfLanes(d, v);
}

// Maximum of a row. With kTrackNaN, *has_nan tells whether the row holds a NaN (x86's max drops
// NaN operands, so the maximum alone cannot tell); without it NaN handling is left to the caller.
template <bool kTrackNaN, class D, class T = hn::TFromD<D>>
HWY_INLINE T RowMax(D d, const T* HWY_RESTRICT x, std::size_t cols, bool* has_nan) {
  const std::size_t N = hn::Lanes(d);
  using V = hn::VFromD<D>;
  const V lowest = hn::Set(d, -std::numeric_limits<T>::infinity());
  // Four accumulators hide the latency of the max instruction.
  V m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
  auto nan0 = hn::IsNaN(lowest);
  auto nan1 = nan0;
  std::size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    const V v0 = hn::LoadU(d, x + i);
    const V v1 = hn::LoadU(d, x + i + N);
    const V v2 = hn::LoadU(d, x + i + 2 * N);
    const V v3 = hn::LoadU(d, x + i + 3 * N);
    m0 = hn::Max(m0, v0);
    m1 = hn::Max(m1, v1);
    m2 = hn::Max(m2, v2);
    m3 = hn::Max(m3, v3);
    if constexpr (kTrackNaN) {
      nan0 = hn::Or(nan0, hn::Or(hn::IsNaN(v0), hn::IsNaN(v1)));
      nan1 = hn::Or(nan1, hn::Or(hn::IsNaN(v2), hn::IsNaN(v3)));
    }
  }
  for (; i + N <= cols; i += N) {
    const V v = hn::LoadU(d, x + i);
    m0 = hn::Max(m0, v);
    if constexpr (kTrackNaN) nan0 = hn::Or(nan0, hn::IsNaN(v));
  }
  if (i < cols) {
    const V v = LoadTail(d, x + i, cols - i, lowest);
    m0 = hn::Max(m0, v);
    if constexpr (kTrackNaN) nan0 = hn::Or(nan0, hn::IsNaN(v));
  }
  if constexpr (kTrackNaN) *has_nan = !hn::AllFalse(d, hn::Or(nan0, nan1));
  return hn::GetLane(MaxOfLanesExact(d, hn::Max(hn::Max(m0, m1), hn::Max(m2, m3))));
}

// Sums that a caller of SumExpShifted adds up beside sum exp(x[i] - m), from the values x[i] that
// the exp pass loads anyway (the loss kernels' target terms): a Terms type has kSums (1 or 2) and
// a call operator terms(i, count, v, sum0, sum1) that adds the terms of the elements [i, i + count)
// of the row, whose values are the first `count` lanes of v, to the vectors sum0 and sum1. count
// is Lanes(d) except for the last, partial vector, whose other lanes hold m and must add 0.
// NoTerms adds nothing, and SumExpShifted then compiles to the plain exp pass.
struct NoTerms {
  static constexpr std::size_t kSums = 0;
};

// Adds the block sums of terms in t0 (and t1) to their compensated totals and restarts them.
template <std::size_t kSums, class D, class V = hn::VFromD<D>>
HWY_INLINE void EndTermsBlock(D d, V& t0, V& t1, CompensatedSum* totals) {
  totals[0].Add(ReduceToDouble(d, t0));
  if constexpr (kSums > 1) totals[1].Add(ReduceToDouble(d, t1));
  t0 = hn::Zero(d);
  t1 = hn::Zero(d);
}

// sum_i exp(x[i] - m), in double; with kStore also writes each exp(x[i] - m) to y[i] (y may be x).
// A NaN in the row, or an infinite m, makes the sum NaN. `next_row` (or nullptr) is prefetched
// while this row is computed, so that on matrices larger than the caches the memory transfer of
// the next row overlaps the arithmetic of this one instead of alternating with it. The sums of
// `terms` (see NoTerms), blocked like the main sum, go to terms_sums[0, Terms::kSums).
template <bool kStore, class D, class T = hn::TFromD<D>, class Terms = NoTerms>
HWY_INLINE double SumExpShifted(D d, const T* x, T* y, std::size_t cols, T m, const T* next_row,
                                const Terms& terms = {}, double* terms_sums = nullptr) {
  const std::size_t N = hn::Lanes(d);
  using V = hn::VFromD<D>;
  constexpr std::size_t kTermSums = Terms::kSums;
  static_assert(kTermSums <= 2, "at most two sums of terms");
  const V vm = hn::Set(d, m);
  CompensatedSum total;
  // One accumulator per sum of terms: their additions are a small part of the exp pass. (No
  // lambdas capture vectors here: SVE vectors cannot be members of a closure.)
  CompensatedSum terms_total[2];
  V t0 = hn::Zero(d), t1 = hn::Zero(d);
  std::size_t i = 0;
  while (i + 4 * N <= cols) {
    const std::size_t block_end = HWY_MIN(cols, i + kBlockVectors * N);
    // Four accumulators: the exp chain is long, and 4 independent vectors keep both FMA ports fed.
    V s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (; i + 4 * N <= block_end; i += 4 * N) {
      if (next_row != nullptr) {
        for (std::size_t k = 0; k < 4 * N; k += 64 / sizeof(T)) hwy::Prefetch(next_row + i + k);
      }
      const V v0 = hn::LoadU(d, x + i);
      const V v1 = hn::LoadU(d, x + i + N);
      const V v2 = hn::LoadU(d, x + i + 2 * N);
      const V v3 = hn::LoadU(d, x + i + 3 * N);
      const V e0 = ExpFlushSubnormal(d, hn::Sub(v0, vm));
      const V e1 = ExpFlushSubnormal(d, hn::Sub(v1, vm));
      const V e2 = ExpFlushSubnormal(d, hn::Sub(v2, vm));
      const V e3 = ExpFlushSubnormal(d, hn::Sub(v3, vm));
      if constexpr (kTermSums > 0) {
        terms(i, N, v0, t0, t1);
        terms(i + N, N, v1, t0, t1);
        terms(i + 2 * N, N, v2, t0, t1);
        terms(i + 3 * N, N, v3, t0, t1);
      }
      if constexpr (kStore) {
        hn::StoreU(e0, d, y + i);
        hn::StoreU(e1, d, y + i + N);
        hn::StoreU(e2, d, y + i + 2 * N);
        hn::StoreU(e3, d, y + i + 3 * N);
      }
      s0 = hn::Add(s0, e0);
      s1 = hn::Add(s1, e1);
      s2 = hn::Add(s2, e2);
      s3 = hn::Add(s3, e3);
    }
    total.Add(ReduceToDouble(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
    if constexpr (kTermSums > 0) EndTermsBlock<kTermSums>(d, t0, t1, terms_total);
  }
  V s = hn::Zero(d);
  for (; i + N <= cols; i += N) {
    const V v = hn::LoadU(d, x + i);
    const V e = ExpFlushSubnormal(d, hn::Sub(v, vm));
    if constexpr (kTermSums > 0) terms(i, N, v, t0, t1);
    if constexpr (kStore) hn::StoreU(e, d, y + i);
    s = hn::Add(s, e);
  }
  if (i < cols) {
    const std::size_t count = cols - i;
    const V v = LoadTail(d, x + i, count, vm);
    const V e = ExpFlushSubnormal(d, hn::Sub(v, vm));
    if constexpr (kTermSums > 0) terms(i, count, v, t0, t1);
    if constexpr (kStore) StoreTail(d, e, y + i, count);
    s = hn::Add(s, hn::IfThenElseZero(hn::FirstN(d, count), e));
  }
  total.Add(ReduceToDouble(d, s));
  if constexpr (kTermSums > 0) {
    EndTermsBlock<kTermSums>(d, t0, t1, terms_total);
    for (std::size_t k = 0; k < kTermSums; ++k) {
      terms_sums[k] = terms_total[k].TotalAllowingInfinity();
    }
  }
  return total.Total();
}

// y[i] = f(v) for the vectors v of a row, f(d, v) a vector function; y may be x.
template <class D, class F, class T = hn::TFromD<D>>
HWY_INLINE void MapRow(D d, const T* x, T* y, std::size_t cols, const F& f) {
  const std::size_t N = hn::Lanes(d);
  if (cols < N) {
    StoreTail(d, f(LoadTail(d, x, cols, hn::Zero(d))), y, cols);
    return;
  }
  // A partial last vector is handled as the full vector ending at the row's end, which overlaps
  // the previous one: it is loaded before anything is stored (so y may be x) and stored last,
  // rewriting the overlap with the same values. Masked stores, slow on some CPUs, are avoided.
  const auto last = hn::LoadU(d, x + cols - N);
  std::size_t i = 0;
  for (; i + N <= cols; i += N) hn::StoreU(f(hn::LoadU(d, x + i)), d, y + i);
  if (i < cols) hn::StoreU(f(last), d, y + cols - N);
}

// Outputs of more than this many bytes are written with non-temporal (streaming) stores: a matrix
// that large leaves the caches before anyone reads it, and an ordinary store would first read
// each line of y from memory (a third stream of traffic beside reading x and writing y). Smaller
// outputs stay in the cache, where their consumer (the next layer, the backward pass) finds them.
// 8 MiB is a quarter of a Zen 3 L3. Measured (bench/simdiff_bench.cc, AVX2, alternating runs of
// the binaries with and without streaming, median ratio of 5 pairs) at 4096x4096: log_softmax
// 1.41x, softmax 1.11x, sparse cross-entropy forward+backward 1.12x.
constexpr std::size_t kStreamingBytes = std::size_t{8} << 20;

// Exponentials of a row group are kept in a stack buffer of this size when the output is
// streamed, so that y is written once, by the streaming pass. Matches RowGroupSize's 16 KiB.
constexpr std::size_t kScratchBytes = 16384;

template <class T>
HWY_INLINE bool StreamsOutput(std::size_t rows, std::size_t cols, std::size_t stride) {
  return cols * sizeof(T) <= kScratchBytes &&
         (rows - 1) * stride + cols > kStreamingBytes / sizeof(T);
}

// Writes y[0, cols) by streaming stores (the row's aligned middle; an unaligned head and the tail
// are ordinary stores), from generate(i, count), the vector of the elements [i, i + count) (count
// <= Lanes(d); the other lanes are not stored). The element `special`, if < cols, is written as
// `special_value` instead: a streaming store may become visible after a later ordinary store to
// the same place, so a caller cannot patch one element afterwards. The caller issues
// hwy::FlushStream() before another thread reads y.
template <class D, class G, class T = hn::TFromD<D>>
HWY_INLINE void StreamRow(D d, T* y, std::size_t cols, const G& generate,
                          std::size_t special = ~std::size_t{0}, T special_value = T(0)) {
  const std::size_t N = hn::Lanes(d);
  const std::size_t misalignment = reinterpret_cast<std::uintptr_t>(y) % (N * sizeof(T));
  // Elements [i, i + count) by ordinary stores.
  const auto store = [&](std::size_t i, std::size_t count) HWY_ATTR {
    if (count == N) {
      hn::StoreU(generate(i, N), d, y + i);
    } else {
      StoreTail(d, generate(i, count), y + i, count);
    }
    if (special - i < count) y[special] = special_value;
  };
  std::size_t i = 0;
  if (misalignment % sizeof(T) == 0) {
    const std::size_t head = misalignment == 0 ? 0 : N - misalignment / sizeof(T);
    if (head != 0) store(0, HWY_MIN(head, cols));
    for (i = HWY_MIN(head, cols); i + N <= cols; i += N) {
      auto v = generate(i, N);
      if (special - i < N) {
        HWY_ALIGN T lanes[hn::MaxLanes(d)];
        hn::Store(v, d, lanes);
        lanes[special - i] = special_value;
        v = hn::Load(d, lanes);
      }
      hn::Stream(v, d, y + i);
    }
  }
  for (; i < cols; i += N) store(i, HWY_MIN(N, cols - i));
}

// The generator of StreamRow for y = f(x) element-wise.
template <class D, class F, class T = hn::TFromD<D>>
HWY_INLINE auto MapGenerator(D d, const T* x, const F& f) {
  return [d, x, &f](std::size_t i, std::size_t count) HWY_ATTR {
    return f(count == hn::Lanes(d) ? hn::LoadU(d, x + i) : LoadTail(d, x + i, count, hn::Zero(d)));
  };
}

// y[i] = f(a[i], b[i]); y may be a or b.
template <class D, class F, class T = hn::TFromD<D>>
HWY_INLINE void MapRow2(D d, const T* a, const T* b, T* y, std::size_t cols, const F& f) {
  const std::size_t N = hn::Lanes(d);
  if (cols < N) {
    const auto zero = hn::Zero(d);
    StoreTail(d, f(LoadTail(d, a, cols, zero), LoadTail(d, b, cols, zero)), y, cols);
    return;
  }
  // The partial last vector as in MapRow: loaded first, stored last, overlapping.
  const auto last_a = hn::LoadU(d, a + cols - N);
  const auto last_b = hn::LoadU(d, b + cols - N);
  std::size_t i = 0;
  for (; i + N <= cols; i += N) {
    hn::StoreU(f(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, y + i);
  }
  if (i < cols) hn::StoreU(f(last_a, last_b), d, y + cols - N);
}

// sum_i f(a[i], b[i]) for a vector function f, in double with the same blocking as SumExpShifted.
template <class D, class F, class T = hn::TFromD<D>>
HWY_INLINE double SumRow2(D d, const T* a, const T* b, std::size_t cols, const F& f) {
  const std::size_t N = hn::Lanes(d);
  using V = hn::VFromD<D>;
  CompensatedSum total;
  std::size_t i = 0;
  while (i + 4 * N <= cols) {
    const std::size_t block_end = HWY_MIN(cols, i + kBlockVectors * N);
    V s0 = hn::Zero(d), s1 = hn::Zero(d), s2 = hn::Zero(d), s3 = hn::Zero(d);
    for (; i + 4 * N <= block_end; i += 4 * N) {
      s0 = hn::Add(s0, f(hn::LoadU(d, a + i), hn::LoadU(d, b + i)));
      s1 = hn::Add(s1, f(hn::LoadU(d, a + i + N), hn::LoadU(d, b + i + N)));
      s2 = hn::Add(s2, f(hn::LoadU(d, a + i + 2 * N), hn::LoadU(d, b + i + 2 * N)));
      s3 = hn::Add(s3, f(hn::LoadU(d, a + i + 3 * N), hn::LoadU(d, b + i + 3 * N)));
    }
    total.Add(ReduceToDouble(d, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
  }
  V s = hn::Zero(d);
  for (; i + N <= cols; i += N) s = hn::Add(s, f(hn::LoadU(d, a + i), hn::LoadU(d, b + i)));
  if (i < cols) {
    const std::size_t count = cols - i;
    const V v = f(LoadTail(d, a + i, count, hn::Zero(d)), LoadTail(d, b + i, count, hn::Zero(d)));
    s = hn::Add(s, hn::IfThenElseZero(hn::FirstN(d, count), v));
  }
  total.Add(ReduceToDouble(d, s));
  return total.Total();
}

// Whether a row holds a NaN; used only on the rare rows whose maximum is infinite.
template <class T>
bool RowHasNaN(const T* x, std::size_t cols) {
  for (std::size_t i = 0; i < cols; ++i) {
    if (std::isnan(x[i])) return true;
  }
  return false;
}

template <class T>
void RowMaxKernel(const T* HWY_RESTRICT x, T* HWY_RESTRICT out, std::size_t rows, std::size_t cols,
                  std::size_t stride) {
  const hn::ScalableTag<T> d;
  for (std::size_t r = 0; r < rows; ++r) {
    bool has_nan = false;
    const T m = RowMax<true>(d, x + r * stride, cols, &has_nan);
    out[r] = has_nan ? std::numeric_limits<T>::quiet_NaN() : m;
  }
}

template <class T>
void RowArgmaxKernel(const T* HWY_RESTRICT x, std::size_t* HWY_RESTRICT out, std::size_t rows,
                     std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    bool has_nan = false;
    const T m = RowMax<true>(d, row, cols, &has_nan);
    // The first lane equal to the maximum (or, with NaN, the first NaN, which compares unequal
    // to itself: x != x).
    const auto vm = hn::Set(d, m);
    std::size_t found = 0;
    for (std::size_t i = 0; i < cols; i += N) {
      const std::size_t count = HWY_MIN(N, cols - i);
      const auto v = count == N ? hn::LoadU(d, row + i) : LoadTail(d, row + i, count, vm);
      const auto hit = hn::And(hn::FirstN(d, count), has_nan ? hn::IsNaN(v) : hn::Eq(v, vm));
      const intptr_t lane = hn::FindFirstTrue(d, hit);
      if (lane >= 0) {
        found = i + static_cast<std::size_t>(lane);
        break;
      }
    }
    out[r] = found;
  }
}

// Rows of at most two vectors are loaded once and reduced in registers. Lanes past the end of the
// row hold -inf, whose exponential is 0.
template <class D>
HWY_INLINE bool IsShortRow(D d, std::size_t cols) {
  return cols <= 2 * hn::Lanes(d);
}

template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void LoadShortRow(D d, const T* x, std::size_t cols, V& v0, V& v1) {
  const std::size_t N = hn::Lanes(d);
  const V lowest = hn::Set(d, -std::numeric_limits<T>::infinity());
  if (cols < N) {
    v0 = LoadTail(d, x, cols, lowest);
    v1 = lowest;
    return;
  }
  v0 = hn::LoadU(d, x);
  if (cols == 2 * N) {
    v1 = hn::LoadU(d, x + N);
  } else {
    v1 = cols > N ? LoadTail(d, x + N, cols - N, lowest) : lowest;
  }
}

template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void StoreShortRow(D d, V v0, V v1, T* y, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  if (cols < N) {
    StoreTail(d, v0, y, cols);
    return;
  }
  hn::StoreU(v0, d, y);
  if (cols == 2 * N) {
    hn::StoreU(v1, d, y + N);
  } else if (cols > N) {
    StoreTail(d, v1, y + N, cols - N);
  }
}

// The maximum m of a row and sum exp(x - m) in double; with kStore each exp(x - m) is also
// written to y (y may be x). A NaN in the row, or an infinite maximum, makes the sum NaN.
template <bool kStore, class D, class T = hn::TFromD<D>>
HWY_INLINE double RowMaxAndSumExp(D d, const T* x, T* y, std::size_t cols, T* max,
                                  const T* next_row) {
  const std::size_t N = hn::Lanes(d);
  if (cols > N && cols <= 2 * N) {
    // Two full vectors, the second ending at the row's end (see ShortRowSoftmax): its first
    // 2N - cols lanes repeat elements of the first and stay out of the sum.
    const auto v0 = hn::LoadU(d, x);
    const auto v1 = hn::LoadU(d, x + cols - N);
    const auto m = MaxOfLanesExact(d, hn::Max(v0, v1));
    const auto e0 = ExpFlushSubnormal(d, hn::Sub(v0, m));
    const auto e1 = ExpFlushSubnormal(d, hn::Sub(v1, m));
    if constexpr (kStore) {
      hn::StoreU(e0, d, y);
      hn::StoreU(e1, d, y + cols - N);
    }
    *max = hn::GetLane(m);
    const auto fresh = hn::Not(hn::FirstN(d, 2 * N - cols));
    return ReduceToDouble(d, hn::Add(e0, hn::IfThenElseZero(fresh, e1)));
  }
  if (cols <= N) {
    const auto v = LoadTail(d, x, cols, hn::Set(d, -std::numeric_limits<T>::infinity()));
    const auto m = MaxOfLanesExact(d, v);
    const auto e = ExpFlushSubnormal(d, hn::Sub(v, m));
    if constexpr (kStore) StoreTail(d, e, y, cols);
    *max = hn::GetLane(m);
    return ReduceToDouble(d, e);
  }
  *max = RowMax<false>(d, x, cols, nullptr);
  return SumExpShifted<kStore>(d, x, y, cols, *max, next_row);
}

// Softmax of a short row entirely in registers: storing the exponentials and reloading them for
// the scaling pass would stall on store-to-load forwarding, which fails for masked stores.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void ShortRowSoftmax(D d, const T* x, T* y, std::size_t cols) {
  const std::size_t N = hn::Lanes(d);
  if (cols > N) {
    // Two full vectors, the second ending at the row's end: no masked memory access (masked
    // stores are slow on some CPUs). Its first 2N - cols lanes repeat elements of the first
    // vector and stay out of the sum; both vectors are loaded before storing, so y may be x.
    const auto v0 = hn::LoadU(d, x);
    const auto v1 = hn::LoadU(d, x + cols - N);
    const auto m = MaxOfLanesExact(d, hn::Max(v0, v1));
    const auto e0 = ExpFlushSubnormal(d, hn::Sub(v0, m));
    const auto e1 = ExpFlushSubnormal(d, hn::Sub(v1, m));
    const auto fresh = hn::Not(hn::FirstN(d, 2 * N - cols));
    const auto sum = hn::SumOfLanes(d, hn::Add(e0, hn::IfThenElseZero(fresh, e1)));
    const auto inverse = hn::Div(hn::Set(d, T(1)), sum);
    hn::StoreU(hn::Mul(e0, inverse), d, y);
    hn::StoreU(hn::Mul(e1, inverse), d, y + cols - N);
    return;
  }
  hn::VFromD<D> v0 = hn::Zero(d), v1 = hn::Zero(d);
  LoadShortRow(d, x, cols, v0, v1);
  const auto m = MaxOfLanesExact(d, hn::Max(v0, v1));
  const auto e0 = ExpFlushSubnormal(d, hn::Sub(v0, m));
  const auto e1 = ExpFlushSubnormal(d, hn::Sub(v1, m));
  const auto inverse = hn::Div(hn::Set(d, T(1)), hn::SumOfLanes(d, hn::Add(e0, e1)));
  StoreShortRow(d, hn::Mul(e0, inverse), hn::Mul(e1, inverse), y, cols);
}

// ---------------------------------------------------------------------------------------------
// Blocks of short rows read as columns
//
// A block of Lanes(d) short rows is read column by column: lane j of column c is element c of
// row j. The maximum and the sum of exponentials are then vertical operations whose lane j
// belongs to row j: no cross-lane reduction per row, no padding lanes in the exponentials (a row
// of 10 floats takes 10 lanes of exp, where two overlapping 8-lane vectors take 16), and the
// logarithm or division that follows is one vector operation for the whole block.
//
// Each block is one long chain of dependent steps (transposition, max, exp, sum, log), too long
// for the out-of-order window to overlap with the next block's when blocks run one after the
// other. A group of blocks (kColumnGroupRows rows) is therefore processed step by step: all
// transpositions, then all maxima, then all sums, so that consecutive independent blocks meet
// in the window (at 32x10 on AVX2 as fast as two blocks side by side for LogSumExp, about 10%
// faster for LogSoftmax, and simpler for the losses, which need more per-row state).
//
// Lanes past the end of a block (count < Lanes(d) rows) repeat its last row; they are computed
// and never stored.

// The widest row read as columns (its columns are kept in L1 for the passes of the group), and
// the rows of a group of blocks: 4 KiB of columns for float.
constexpr std::size_t kMaxColumnCols = 32;
constexpr std::size_t kColumnGroupRows = 32;

// Whether rows of `cols` elements at `stride` are computed as column blocks: at most two vectors
// and kMaxColumnCols, and the gather offsets (row j of a block at j * stride) fit the signed
// lane type of the gather indices.
template <class D>
HWY_INLINE bool UseColumnBlocks(D d, std::size_t cols, std::size_t stride) {
  using TI = hwy::MakeSigned<hn::TFromD<D>>;
  const std::size_t N = hn::Lanes(d);
  return cols <= HWY_MIN(2 * N, kMaxColumnCols) &&
         stride <= static_cast<std::size_t>(std::numeric_limits<TI>::max()) / N;
}

// The gather offsets of a block of `count` (1 <= count <= Lanes(d)) rows: j * stride, with the
// lanes past the block repeating its last row.
template <class D, class DI = hn::RebindToSigned<D>>
HWY_INLINE hn::VFromD<DI> BlockRowOffsets(D d, std::size_t count, std::size_t stride) {
  using TI = hn::TFromD<DI>;
  const DI di;
  HWY_ALIGN TI offsets[hn::MaxLanes(di)];
  for (std::size_t j = 0; j < hn::Lanes(d); ++j) {
    offsets[j] = static_cast<TI>(HWY_MIN(j, count - 1) * stride);
  }
  return hn::Load(di, offsets);
}

// The widest vectors whose blocks are transposed (TransposeBlock); wider ones (SVE at 512 bits
// and more) gather every column instead of needing Lanes(d)^2 elements of scratch.
constexpr std::size_t kMaxTransposeLanes = 16;

// Whether TransposeBlock is available for D (more than one lane, at most kMaxTransposeLanes).
template <class D>
constexpr bool CanTransposeBlocks() {
#if HWY_TARGET == HWY_SCALAR
  return false;
#else
  return hn::MaxLanes(D()) <= kMaxTransposeLanes;
#endif
}

// Transposes the N x N block (N = Lanes(d)) whose vector i is src[i * N, (i + 1) * N): log2(N)
// rounds of ConcatEven/ConcatOdd over pairs of vectors, each of which moves one bit of the row
// index into the lane index. The rounds alternate between a and b (N * N elements each; src may
// be either); returns the one that holds the result. On AVX2 the 24 shuffles of a block of 8
// rows take about half as long as 8 gathers.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE T* TransposeBlock(D d, const T* src, T* HWY_RESTRICT a, T* HWY_RESTRICT b) {
  T* dst = a;
#if HWY_TARGET != HWY_SCALAR
  if constexpr (CanTransposeBlocks<D>()) {
    const std::size_t N = hn::Lanes(d);
    for (std::size_t n = N; n > 1; n /= 2) {
      for (std::size_t i = 0; i < N / 2; ++i) {
        const auto lo = hn::Load(d, src + 2 * i * N);
        const auto hi = hn::Load(d, src + (2 * i + 1) * N);
        hn::Store(hn::ConcatEven(d, hi, lo), d, dst + i * N);
        hn::Store(hn::ConcatOdd(d, hi, lo), d, dst + (i + N / 2) * N);
      }
      src = dst;
      dst = dst == a ? b : a;
    }
  }
#else
  (void)d;
  (void)b;
#endif
  return const_cast<T*>(src);
}

// Whether the `extra` columns of a block past the transposed ones are cheaper moved element by
// element than by gathers (loading) or by a second transposition (storing): a few of them are
// (on AVX2, 2 columns of 8 rows: 16 scalar loads and stores against 2 gathers of about 8 cycles
// each, or 48 shuffles).
template <class D>
HWY_INLINE bool ScalarColumns(D d, std::size_t extra) {
  return CanTransposeBlocks<D>() && 2 * extra <= hn::Lanes(d);
}

// columns[c * N + j] = element c of row min(j, count - 1) of the block at x, for c < cols
// (1 <= count <= N = Lanes(d)). The first min(cols, N) columns are a transposition of the rows
// (TransposeBlock), columns from N on are gathered. `scratch` holds 2 N * N elements; `columns`
// at least max(cols, N) * N.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void LoadColumns(D d, const T* HWY_RESTRICT x, std::size_t count, std::size_t cols,
                            std::size_t stride, [[maybe_unused]] T* HWY_RESTRICT scratch,
                            T* HWY_RESTRICT columns) {
  const std::size_t N = hn::Lanes(d);
  std::size_t c = 0;
  if constexpr (CanTransposeBlocks<D>()) {
    for (std::size_t j = 0; j < N; ++j) {
      const T* row = x + HWY_MIN(j, count - 1) * stride;
      hn::Store(cols >= N ? hn::LoadU(d, row) : LoadTail(d, row, cols, hn::Zero(d)), d,
                scratch + j * N);
    }
    // The rounds end in their first buffer when there is an odd number of them.
    std::size_t rounds = 0;
    for (std::size_t n = N; n > 1; n /= 2) ++rounds;
    T* other = scratch + N * N;
    const T* transposed = rounds % 2 == 1 ? TransposeBlock(d, scratch, columns, other)
                                          : TransposeBlock(d, scratch, other, columns);
    if (transposed != columns) {  // N = 1
      hn::Store(hn::Load(d, transposed), d, columns);
    }
    c = N;
  }
  if (c < cols && ScalarColumns(d, cols - c)) {
    for (; c < cols; ++c) {
      for (std::size_t j = 0; j < N; ++j)
        columns[c * N + j] = x[HWY_MIN(j, count - 1) * stride + c];
    }
  }
  if (c < cols) {
    const auto offsets = BlockRowOffsets(d, count, stride);
    for (; c < cols; ++c) hn::Store(hn::GatherIndex(d, x + c, offsets), d, columns + c * N);
  }
}

// The columns, maxima and sums of exponentials of a group of blocks of rows.
template <class D>
struct ColumnGroup {
  using T = hn::TFromD<D>;
  static constexpr std::size_t kLanes = hn::MaxLanes(D());
  static constexpr std::size_t kBlocks = HWY_MAX(std::size_t{1}, kColumnGroupRows / kLanes);
  static constexpr std::size_t kColumnVectors = HWY_MAX(kMaxColumnCols, kMaxTransposeLanes);

  HWY_ALIGN T columns[kBlocks * kColumnVectors * kLanes];
  HWY_ALIGN T scratch[2 * HWY_MIN(kLanes, kMaxTransposeLanes) * kLanes];
  // With ColumnGroupMaxSum<true>: exp(x - m), laid out as the columns.
  HWY_ALIGN T exps[kBlocks * kColumnVectors * kLanes];
  // Lane j of block b at [b * N + j]: the maximum m of its row and the sum of exp(x - m).
  HWY_ALIGN T maxima[kBlocks * kLanes];
  HWY_ALIGN T sums[kBlocks * kLanes];
};

// The rows per group for D.
template <class D>
HWY_INLINE std::size_t ColumnGroupSize(D d) {
  return ColumnGroup<D>::kBlocks * hn::Lanes(d);
}

// Fills g's maxima and sums for the `count` (<= ColumnGroupSize) rows at x. A NaN in a row makes
// its sum NaN (x86's max may drop it from the maximum, the exponential does not), as does an
// infinite maximum (inf - inf).
template <bool kStoreExps, class D, class T = hn::TFromD<D>>
HWY_INLINE void ColumnGroupMaxSum(D d, const T* HWY_RESTRICT x, std::size_t count, std::size_t cols,
                                  std::size_t stride, ColumnGroup<D>& g) {
  using V = hn::VFromD<D>;
  const std::size_t N = hn::Lanes(d);
  const std::size_t blocks = (count + N - 1) / N;
  const std::size_t block_elements = ColumnGroup<D>::kColumnVectors * N;
  for (std::size_t b = 0; b < blocks; ++b) {
    LoadColumns(d, x + b * N * stride, HWY_MIN(N, count - b * N), cols, stride, g.scratch,
                g.columns + b * block_elements);
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    const T* columns = g.columns + b * block_elements;
    V m = hn::Load(d, columns);
    for (std::size_t c = 1; c < cols; ++c) m = hn::Max(m, hn::Load(d, columns + c * N));
    hn::Store(m, d, g.maxima + b * N);
  }
  for (std::size_t b = 0; b < blocks; ++b) {
    const T* columns = g.columns + b * block_elements;
    const V m = hn::Load(d, g.maxima + b * N);
    // Two accumulators halve the chain of additions.
    V s0 = hn::Zero(d), s1 = hn::Zero(d);
    T* exps = g.exps + b * block_elements;
    std::size_t c = 0;
    for (; c + 2 <= cols; c += 2) {
      const V e0 = ExpFlushSubnormal(d, hn::Sub(hn::Load(d, columns + c * N), m));
      const V e1 = ExpFlushSubnormal(d, hn::Sub(hn::Load(d, columns + (c + 1) * N), m));
      if constexpr (kStoreExps) {
        hn::Store(e0, d, exps + c * N);
        hn::Store(e1, d, exps + (c + 1) * N);
      }
      s0 = hn::Add(s0, e0);
      s1 = hn::Add(s1, e1);
    }
    if (c < cols) {
      const V e = ExpFlushSubnormal(d, hn::Sub(hn::Load(d, columns + c * N), m));
      if constexpr (kStoreExps) hn::Store(e, d, exps + c * N);
      s0 = hn::Add(s0, e);
    }
    hn::Store(hn::Add(s0, s1), d, g.sums + b * N);
  }
}

// Stores the first count (1 <= count <= Lanes(d)) lanes of v.
template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void StoreBlock(D d, V v, T* HWY_RESTRICT p, std::size_t count) {
  if (count >= hn::Lanes(d)) {
    hn::StoreU(v, d, p);
  } else {
    StoreTail(d, v, p, count);
  }
}

// Writes the block of columns[c * N + j] (c < max(cols, N), the columns from cols on arbitrary)
// to its rows: element c of row j to y[j * stride + c], for the rows j < count with skip[j]
// false (skip may be nullptr: no row skipped). Rows are written as whole vectors after a
// transposition (TransposeBlock) where available: for cols > N the first N and the last N columns,
// overlapping. `scratch` holds 2 N * N elements.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void StoreColumnsAsRows(D d, const T* columns, std::size_t count, std::size_t cols, T* y,
                                   std::size_t stride, const bool* skip, T* scratch) {
  const std::size_t N = hn::Lanes(d);
  if constexpr (CanTransposeBlocks<D>()) {
    const T* rows = TransposeBlock(d, columns, scratch, scratch + N * N);
    for (std::size_t j = 0; j < count; ++j) {
      if (skip != nullptr && skip[j]) continue;
      StoreBlock(d, hn::Load(d, rows + j * N), y + j * stride, cols);
    }
    if (cols > N && ScalarColumns(d, cols - N)) {
      for (std::size_t j = 0; j < count; ++j) {
        if (skip != nullptr && skip[j]) continue;
        for (std::size_t c = N; c < cols; ++c) y[j * stride + c] = columns[c * N + j];
      }
    } else if (cols > N) {
      rows = TransposeBlock(d, columns + (cols - N) * N, scratch, scratch + N * N);
      for (std::size_t j = 0; j < count; ++j) {
        if (skip != nullptr && skip[j]) continue;
        hn::StoreU(hn::Load(d, rows + j * N), d, y + j * stride + cols - N);
      }
    }
  } else {
    for (std::size_t j = 0; j < count; ++j) {
      if (skip != nullptr && skip[j]) continue;
      for (std::size_t c = 0; c < cols; ++c) y[j * stride + c] = columns[c * N + j];
    }
  }
}

// Calls f(first, count, g) for each group of rows at x, after ColumnGroupMaxSum<kStoreExps>
// filled g.
template <bool kStoreExps = false, class D, class F, class T = hn::TFromD<D>>
HWY_INLINE void ForEachColumnGroup(D d, const T* x, std::size_t rows, std::size_t cols,
                                   std::size_t stride, const F& f) {
  const std::size_t group = ColumnGroupSize(d);
  ColumnGroup<D> g;
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    ColumnGroupMaxSum<kStoreExps>(d, x + first * stride, count, cols, stride, g);
    f(first, count, g);
  }
}

template <class D, class T = hn::TFromD<D>>
HWY_INLINE void LogSumExpColumnBlocks(D d, const T* HWY_RESTRICT x, T* HWY_RESTRICT out,
                                      std::size_t rows, std::size_t cols, std::size_t stride) {
  const std::size_t N = hn::Lanes(d);
  ForEachColumnGroup(
      d, x, rows, cols, stride,
      [&](std::size_t first, std::size_t count, ColumnGroup<D>& g) HWY_ATTR {
        bool infinite = false;
        for (std::size_t i = 0; i < count; i += N) {
          // max + log(sum) in T: for cols <= kMaxColumnCols, log(sum) <= log(32), and the
          // logarithm's 2 ulp are below 5e-7. An infinite maximum is the result itself.
          const auto m = hn::Load(d, g.maxima + i);
          const auto is_inf = hn::IsInf(m);
          infinite |= !hn::AllFalse(d, is_inf);
          StoreBlock(
              d, hn::IfThenElse(is_inf, m, hn::Add(m, LogFullRange(d, hn::Load(d, g.sums + i)))),
              out + first + i, count - i);
        }
        if (HWY_UNLIKELY(infinite)) {
          // All -inf gives -inf, any +inf gives +inf, unless a NaN is present (x86's max skips it).
          for (std::size_t i = 0; i < count; ++i) {
            if (std::isinf(g.maxima[i]) && RowHasNaN(x + (first + i) * stride, cols)) {
              out[first + i] = std::numeric_limits<T>::quiet_NaN();
            }
          }
        }
      });
}

// y may be x: each row is read (by the column pass, then again here) before it is written.
template <class D, class T = hn::TFromD<D>>
HWY_INLINE void LogSoftmaxColumnBlocks(D d, const T* x, T* y, std::size_t rows, std::size_t cols,
                                       std::size_t stride) {
  const std::size_t N = hn::Lanes(d);
  ForEachColumnGroup(d, x, rows, cols, stride,
                     [&](std::size_t first, std::size_t count, ColumnGroup<D>& g) HWY_ATTR {
                       for (std::size_t i = 0; i < count; i += N) {
                         hn::Store(LogFullRange(d, hn::Load(d, g.sums + i)), d, g.sums + i);
                       }
                       for (std::size_t i = 0; i < count; ++i) {
                         const std::size_t offset = (first + i) * stride;
                         const auto m = hn::Set(d, g.maxima[i]);
                         const auto log_sum = hn::Set(d, g.sums[i]);
                         // (x - max) - log(sum), as in LogSoftmaxKernel; for cols >= N two
                         // overlapping vectors.
                         if (cols >= N) {
                           const auto v0 = hn::LoadU(d, x + offset);
                           const auto v1 = hn::LoadU(d, x + offset + cols - N);
                           hn::StoreU(hn::Sub(hn::Sub(v0, m), log_sum), d, y + offset);
                           hn::StoreU(hn::Sub(hn::Sub(v1, m), log_sum), d, y + offset + cols - N);
                         } else {
                           const auto v = LoadTail(d, x + offset, cols, m);
                           StoreTail(d, hn::Sub(hn::Sub(v, m), log_sum), y + offset, cols);
                         }
                       }
                     });
}

// The row after row r, or nullptr for the last row.
template <class T>
HWY_INLINE const T* NextRow(const T* x, std::size_t r, std::size_t rows, std::size_t stride) {
  return r + 1 < rows ? x + (r + 1) * stride : nullptr;
}

// Rows are processed in groups. Within a group the per-row passes only depend on their own row,
// so the out-of-order core overlaps the rows' latency chains, and the per-row scalar step
// (1 / sum or log(sum)) runs as one SIMD operation over the group instead of a division or a libm
// call per row, which would dominate short rows. A group's rows fit in 16 KiB of L1.
constexpr std::size_t kMaxRowGroup = 16;

template <class T>
HWY_INLINE std::size_t RowGroupSize(std::size_t cols) {
  return HWY_MAX(std::size_t{1}, HWY_MIN(kMaxRowGroup, 16384 / (cols * sizeof(T))));
}

// Per-row values of a group, in double, padded with 1.0 to whole vectors.
struct RowGroupValues {
  static constexpr std::size_t kCapacity = kMaxRowGroup + hn::MaxLanes(hn::ScalableTag<double>());
  HWY_ALIGN double values[kCapacity];

  // values[i] = f(values[i]) for i < count, a whole vector at a time.
  template <class F>
  HWY_INLINE void Map(std::size_t count, const F& f) {
    const hn::ScalableTag<double> dd;
    const std::size_t N = hn::Lanes(dd);
    for (std::size_t i = count; i < HWY_MIN(kCapacity, count + N); ++i) values[i] = 1.0;
    for (std::size_t i = 0; i < count; i += N) {
      hn::Store(f(dd, hn::Load(dd, values + i)), dd, values + i);
    }
  }
};

template <class T>
void LogSumExpKernel(const T* HWY_RESTRICT x, T* HWY_RESTRICT out, std::size_t rows,
                     std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  if (UseColumnBlocks(d, cols, stride)) {
    LogSumExpColumnBlocks(d, x, out, rows, cols, stride);
    return;
  }
  const std::size_t group = RowGroupSize<T>(cols);
  RowGroupValues log_sums;
  T maxima[kMaxRowGroup];
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = first + i;
      log_sums.values[i] = RowMaxAndSumExp<false>(d, x + r * stride, static_cast<T*>(nullptr), cols,
                                                  &maxima[i], NextRow(x, r, rows, stride));
    }
    log_sums.Map(count, [](auto dd, auto v) HWY_ATTR { return LogFullRange(dd, v); });
    for (std::size_t i = 0; i < count; ++i) {
      const T m = maxima[i];
      if (std::isinf(m)) {
        // All -inf gives -inf, any +inf gives +inf, unless a NaN is present (x86's max skips it).
        out[first + i] =
            RowHasNaN(x + (first + i) * stride, cols) ? std::numeric_limits<T>::quiet_NaN() : m;
      } else {
        out[first + i] = static_cast<T>(static_cast<double>(m) + log_sums.values[i]);
      }
    }
  }
}

// y may be x (in place): each pass reads an element before it writes the same element.
template <class T>
void SoftmaxKernel(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  if (IsShortRow(d, cols)) {
    for (std::size_t r = 0; r < rows; ++r) ShortRowSoftmax(d, x + r * stride, y + r * stride, cols);
    return;
  }
  const std::size_t group = RowGroupSize<T>(cols);
  // With streaming stores the exponentials go to `scratch` (the group's rows fit), not to y.
  const bool stream = StreamsOutput<T>(rows, cols, stride);
  HWY_ALIGN T scratch[kScratchBytes / sizeof(T)];
  RowGroupValues inverses;
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t offset = (first + i) * stride;
      T* exponentials = stream ? scratch + i * cols : y + offset;
      // An infinite maximum makes the sum NaN (inf - inf), hence the row NaN, as in PyTorch.
      T m;
      inverses.values[i] = RowMaxAndSumExp<true>(d, x + offset, exponentials, cols, &m,
                                                 NextRow(x, first + i, rows, stride));
    }
    inverses.Map(count, [](auto dd, auto v) HWY_ATTR { return hn::Div(hn::Set(dd, 1.0), v); });
    for (std::size_t i = 0; i < count; ++i) {
      T* row = y + (first + i) * stride;
      const T inverse = static_cast<T>(inverses.values[i]);
      const auto scale = [d, inverse](auto v) HWY_ATTR { return hn::Mul(v, hn::Set(d, inverse)); };
      if (stream) {
        StreamRow(d, row, cols, MapGenerator(d, scratch + i * cols, scale));
      } else {
        MapRow(d, row, row, cols, scale);
      }
    }
  }
  if (stream) hwy::FlushStream();
}

template <class T>
void LogSoftmaxKernel(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  if (UseColumnBlocks(d, cols, stride)) {
    LogSoftmaxColumnBlocks(d, x, y, rows, cols, stride);
    return;
  }
  const std::size_t group = RowGroupSize<T>(cols);
  const bool stream = StreamsOutput<T>(rows, cols, stride);
  RowGroupValues log_sums;
  T maxima[kMaxRowGroup];
  for (std::size_t first = 0; first < rows; first += group) {
    const std::size_t count = HWY_MIN(group, rows - first);
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t r = first + i;
      log_sums.values[i] = RowMaxAndSumExp<false>(d, x + r * stride, static_cast<T*>(nullptr), cols,
                                                  &maxima[i], NextRow(x, r, rows, stride));
    }
    log_sums.Map(count, [](auto dd, auto v) HWY_ATTR { return LogFullRange(dd, v); });
    for (std::size_t i = 0; i < count; ++i) {
      const std::size_t offset = (first + i) * stride;
      const T m = maxima[i];
      const T log_sum = static_cast<T>(log_sums.values[i]);
      // (x - max) - log(sum): x - max is exact near the maximum, where the result is small.
      const auto shift = [d, m, log_sum](auto v) HWY_ATTR {
        return hn::Sub(hn::Sub(v, hn::Set(d, m)), hn::Set(d, log_sum));
      };
      if (stream) {
        StreamRow(d, y + offset, cols, MapGenerator(d, x + offset, shift));
      } else {
        MapRow(d, x + offset, y + offset, cols, shift);
      }
    }
  }
  if (stream) hwy::FlushStream();
}

// dx = y * (dy - dot(y, dy))
template <class T>
void SoftmaxBackwardKernel(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                           std::size_t stride) {
  const hn::ScalableTag<T> d;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    const double dot =
        SumRow2(d, y + o, dy + o, cols, [](auto a, auto b) HWY_ATTR { return hn::Mul(a, b); });
    const T dot_t = static_cast<T>(dot);
    MapRow2(d, y + o, dy + o, dx + o, cols, [d, dot_t](auto yv, auto dyv) HWY_ATTR {
      return hn::Mul(yv, hn::Sub(dyv, hn::Set(d, dot_t)));
    });
  }
}

// dx = dy - exp(y) * sum(dy), y = log_softmax(x)
template <class T>
void LogSoftmaxBackwardKernel(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                              std::size_t stride) {
  const hn::ScalableTag<T> d;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    const double sum = SumRow2(d, dy + o, dy + o, cols, [](auto a, auto) HWY_ATTR { return a; });
    const T sum_t = static_cast<T>(sum);
    MapRow2(d, y + o, dy + o, dx + o, cols, [d, sum_t](auto yv, auto dyv) HWY_ATTR {
      return hn::NegMulAdd(ExpFullRange(d, yv), hn::Set(d, sum_t), dyv);
    });
  }
}

// dx = dlse * exp(x - lse)
template <class T>
void LogSumExpBackwardKernel(const T* x, const T* HWY_RESTRICT lse, const T* HWY_RESTRICT dlse,
                             T* dx, std::size_t rows, std::size_t cols, std::size_t stride) {
  const hn::ScalableTag<T> d;
  for (std::size_t r = 0; r < rows; ++r) {
    const T row_lse = lse[r];
    const T row_dlse = dlse[r];
    MapRow(d, x + r * stride, dx + r * stride, cols, [d, row_lse, row_dlse](auto v) HWY_ATTR {
      return hn::Mul(hn::Set(d, row_dlse), ExpFullRange(d, hn::Sub(v, hn::Set(d, row_lse))));
    });
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_ROWWISE_INL_H_
