// The xsimd backend's kernels: the algorithms of the Highway backend (lib/highway/exp-inl.h,
// rowwise-inl.h, elementwise-inl.h) written once in xsimd 8.1 operations and templated on the
// xsimd architecture `Arch`. Each architecture's instantiation lives in its own small .cc file
// compiled with that architecture's flags (xsimd_sse4_2.cc, xsimd_fma3_avx2.cc, ...), and
// xsimd_backend.cc picks the ones the CPU runs. The fused loss kernels, built from the same
// helpers, are in xsimd_loss_kernels.h, which every per-architecture file includes as well.
//
// One-definition hazard: the per-architecture files are compiled with different -m flags, so any
// inline function they share that is NOT templated on Arch would be emitted by each of them, and
// the linker would keep one arbitrary copy, possibly one using instructions the CPU lacks. Hence
// every function here takes Arch as a template parameter (even the scalar helpers), constants are
// constexpr variables, and no std:: templates (std::min, std::isnan, std::string, ...) are
// called; only extern functions (std::log(double), std::fabs(double)) are. xsimd itself has a few
// such helpers (xsimd::constants::infinity<float>(), ...): optimised builds inline them all, and
// for unoptimised ones cmake/xsimd_backend.cmake lists the lowest architecture first, so that its
// copies are the ones the linker keeps.
//
// xsimd 8.1 has no masked loads or stores and no horizontal maximum: the last, partial vector of a
// row goes through a small stack buffer, and maxima are reduced across lanes in scalar code.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <xsimd/xsimd.hpp>

#include "lib/exp_polynomial.h"
#include "lib/kernel_table.h"

namespace simdiff::detail::xsimd_backend {

template <class T, class Arch>
using Vec = xsimd::batch<T, Arch>;

// ---------------------------------------------------------------------------------------------
// Partial vectors and lane reductions

// The first `count` (< lanes) elements of p; the other lanes hold `fill`. Reads nothing past
// p[count - 1].
template <class Arch, class T>
inline Vec<T, Arch> LoadTail(const T* p, std::size_t count, T fill) {
  alignas(Arch::alignment()) T buffer[Vec<T, Arch>::size];
  for (std::size_t i = 0; i < Vec<T, Arch>::size; ++i) buffer[i] = i < count ? p[i] : fill;
  return Vec<T, Arch>::load_aligned(buffer);
}

// Stores the first `count` (< lanes) lanes of v to p; writes nothing past p[count - 1].
template <class T, class Arch>
inline void StoreTail(Vec<T, Arch> v, T* p, std::size_t count) {
  alignas(Arch::alignment()) T buffer[Vec<T, Arch>::size];
  v.store_aligned(buffer);
  for (std::size_t i = 0; i < count; ++i) p[i] = buffer[i];
}

// The largest lane. A NaN lane may or may not survive (as with x86's max): callers that care
// track NaN themselves.
template <class T, class Arch>
inline T MaxOfLanes(Vec<T, Arch> v) {
  alignas(Arch::alignment()) T lanes[Vec<T, Arch>::size];
  v.store_aligned(lanes);
  T m = lanes[0];
  for (std::size_t i = 1; i < Vec<T, Arch>::size; ++i) m = lanes[i] > m ? lanes[i] : m;
  return m;
}

template <class T, class Arch>
inline double ReduceToDouble(Vec<T, Arch> v) {
  return static_cast<double>(xsimd::hadd(v));
}

// The lanes [0, count) (count <= lanes): the elements of a partial last vector.
template <class T, class Arch>
inline typename Vec<T, Arch>::batch_bool_type FirstN(std::size_t count) {
  alignas(Arch::alignment()) T lanes[Vec<T, Arch>::size];
  for (std::size_t i = 0; i < Vec<T, Arch>::size; ++i) lanes[i] = static_cast<T>(i);
  return Vec<T, Arch>::load_aligned(lanes) < Vec<T, Arch>(static_cast<T>(count));
}

// Whether v is finite (neither infinite nor NaN), without std::isfinite (an inline function shared
// by every architecture file; see the top of this file): v - v is 0 exactly for finite v.
template <class Arch, class T>
inline bool IsFinite(T v) {
  return v - v == T(0);
}

// ---------------------------------------------------------------------------------------------
// Exponential (algorithm and constants: lib/exp_polynomial.h)

// c1 + c2 r + ... + cK r^(K-1), Horner's scheme.
template <class T, class Arch>
inline Vec<T, Arch> ExpPolynomialTail(Vec<T, Arch> r) {
  using P = ExpPolynomial<T>;
  constexpr std::size_t kDegree = P::kCoefficients.size();
  // A plain pointer: std::array::operator[] would be a shared, non-Arch function in -O0 builds.
  constexpr const T* kCoefficients = P::kCoefficients.data();
  Vec<T, Arch> p(kCoefficients[kDegree - 1]);
  for (std::size_t k = kDegree - 1; k-- > 0;) {
    p = xsimd::fma(p, r, Vec<T, Arch>(kCoefficients[k]));
  }
  return p;
}

// e^x for x in (-inf, 88.37] (float) or (-inf, 709.43] (double), the range of the row kernels'
// exp(x - max) <= 1. Results below the smallest normal number are flushed to zero (never
// subnormal garbage from the exponent shift); NaN in gives NaN out. About 2 ulp (float).
template <class T, class Arch>
inline Vec<T, Arch> ExpFlushSubnormal(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  using P = ExpPolynomial<T>;
  using Bits = Vec<typename P::Bits, Arch>;
  // Adding the magic number rounds x/ln2 to an integer n and leaves n + bias in the low mantissa
  // bits; shifting those bits into the exponent field gives 2^n.
  const V magic(P::kRoundMagic + P::kExponentBias);
  const V n_plus_magic = xsimd::fma(x, V(P::kLog2e), magic);
  const V scale =
      xsimd::bitwise_cast<V>(xsimd::bitwise_cast<Bits>(n_plus_magic) << P::kMantissaBits);
  const V n = n_plus_magic - magic;
  V r = xsimd::fnma(n, V(P::kLn2Hi), x);
  r = xsimd::fnma(n, V(P::kLn2Lo), r);
  const V result = xsimd::fma(r * scale, ExpPolynomialTail(r), scale);
  return xsimd::select(x < V(P::kMinNormalInput), V(0), result);
}

// e^x for every x: +inf above ln(max), gradual underflow to subnormals, 0 below them, NaN in gives
// NaN out. 2^n is applied as two factors 2^floor(n/2) * 2^(n - floor(n/2)), both normal over the
// whole range, so the only rounding into the subnormal range is the final multiplication.
template <class T, class Arch>
inline Vec<T, Arch> ExpFullRange(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  using P = ExpPolynomial<T>;
  // Unsigned lanes: n + 2 * bias is positive wherever the result is used, and a logical shift is
  // one instruction for 64-bit lanes on SSE/AVX2, where an arithmetic one is emulated.
  using Bits = Vec<std::make_unsigned_t<typename P::Bits>, Arch>;
  const V magic(P::kRoundMagic);
  const V n_plus_magic = xsimd::fma(x, V(P::kLog2e), magic);
  // n + 2 * bias, from the low mantissa bits of n_plus_magic.
  const Bits twice_biased = xsimd::bitwise_cast<Bits>(n_plus_magic) -
                            xsimd::bitwise_cast<Bits>(magic) + Bits(2 * P::kExponentBias);
  const Bits exponent1 = twice_biased >> 1;         // floor(n / 2) + bias
  const Bits exponent2 = twice_biased - exponent1;  // n - floor(n / 2) + bias
  const V scale1 = xsimd::bitwise_cast<V>(exponent1 << P::kMantissaBits);
  const V scale2 = xsimd::bitwise_cast<V>(exponent2 << P::kMantissaBits);
  const V n = n_plus_magic - magic;
  V r = xsimd::fnma(n, V(P::kLn2Hi), x);
  r = xsimd::fnma(n, V(P::kLn2Lo), r);
  V result = xsimd::fma(r * scale1, ExpPolynomialTail(r), scale1) * scale2;
  result = xsimd::select(x < V(P::kZeroBelow), V(0), result);
  constexpr T kInfinity = std::numeric_limits<T>::infinity();
  return xsimd::select(x > V(P::kInfinityAbove), V(kInfinity), result);
}

// ---------------------------------------------------------------------------------------------
// Row building blocks

// Row sums are formed in blocks of kBlockVectors vectors in the element type, then each block total
// is added to a compensated (Neumaier) sum in double. The float error then stays at about
// (kBlockVectors / 4 + 2 + log2(lanes)) ulp whatever the row length, where a running float sum
// would lose accuracy linearly with it.
constexpr std::size_t kBlockVectors = 16;

// Compensated running sum of block totals (Neumaier's variant of Kahan summation). Templated on
// Arch only to keep one copy per architecture file (see the top of this file).
template <class Arch>
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
  double TotalAllowingInfinity() const { return IsFinite<Arch>(sum) ? sum + compensation : sum; }
};

// The end of the block of up to kBlockVectors vectors that starts at i.
template <class T, class Arch>
inline std::size_t BlockEnd(std::size_t i, std::size_t cols) {
  constexpr std::size_t kBlock = kBlockVectors * Vec<T, Arch>::size;
  return cols - i < kBlock ? cols : i + kBlock;
}

// Maximum of a row. With kTrackNaN, *has_nan tells whether the row holds a NaN (x86's max drops
// NaN operands, so the maximum alone cannot tell); without it NaN handling is left to the caller.
template <bool kTrackNaN, class Arch, class T>
inline T RowMax(const T* x, std::size_t cols, bool* has_nan) {
  using V = Vec<T, Arch>;
  using Mask = typename V::batch_bool_type;
  constexpr std::size_t N = V::size;
  constexpr T kLowest = -std::numeric_limits<T>::infinity();
  const V lowest(kLowest);
  // Four accumulators hide the latency of the max instruction.
  V m0 = lowest, m1 = lowest, m2 = lowest, m3 = lowest;
  Mask nan0(false), nan1(false);
  std::size_t i = 0;
  for (; i + 4 * N <= cols; i += 4 * N) {
    const V v0 = V::load_unaligned(x + i);
    const V v1 = V::load_unaligned(x + i + N);
    const V v2 = V::load_unaligned(x + i + 2 * N);
    const V v3 = V::load_unaligned(x + i + 3 * N);
    m0 = xsimd::max(m0, v0);
    m1 = xsimd::max(m1, v1);
    m2 = xsimd::max(m2, v2);
    m3 = xsimd::max(m3, v3);
    if constexpr (kTrackNaN) {
      nan0 = nan0 | (xsimd::isnan(v0) | xsimd::isnan(v1));
      nan1 = nan1 | (xsimd::isnan(v2) | xsimd::isnan(v3));
    }
  }
  for (; i + N <= cols; i += N) {
    const V v = V::load_unaligned(x + i);
    m0 = xsimd::max(m0, v);
    if constexpr (kTrackNaN) nan0 = nan0 | xsimd::isnan(v);
  }
  if (i < cols) {
    const V v = LoadTail<Arch>(x + i, cols - i, kLowest);
    m0 = xsimd::max(m0, v);
    if constexpr (kTrackNaN) nan0 = nan0 | xsimd::isnan(v);
  }
  if constexpr (kTrackNaN) *has_nan = xsimd::any(nan0 | nan1);
  return MaxOfLanes(xsimd::max(xsimd::max(m0, m1), xsimd::max(m2, m3)));
}

// Sums that a caller of SumExpShifted adds up beside sum exp(x[i] - m), from the values x[i] that
// the exp pass loads anyway (the loss kernels' target terms; as in lib/highway/rowwise-inl.h): a
// Terms type has kSums (1 or 2) and a call operator terms(i, count, v, sum0, sum1) that adds the
// terms of the elements [i, i + count) of the row, whose values are the first `count` lanes of v,
// to the vectors sum0 and sum1. count is the lane count except for the last, partial vector, whose
// other lanes hold m and must add 0. NoTerms adds nothing, and SumExpShifted then compiles to the
// plain exp pass.
template <class Arch>
struct NoTerms {
  static constexpr std::size_t kSums = 0;
};

// Adds the block sums of terms in t0 (and t1) to their compensated totals and restarts them.
template <std::size_t kSums, class T, class Arch>
inline void EndTermsBlock(Vec<T, Arch>& t0, Vec<T, Arch>& t1, CompensatedSum<Arch>* totals) {
  totals[0].Add(ReduceToDouble(t0));
  if constexpr (kSums > 1) totals[1].Add(ReduceToDouble(t1));
  t0 = Vec<T, Arch>(T(0));
  t1 = Vec<T, Arch>(T(0));
}

// sum_i exp(x[i] - m), in double; with kStore also writes each exp(x[i] - m) to y[i] (y may be x).
// A NaN in the row, or an infinite m, makes the sum NaN. The sums of `terms` (see NoTerms),
// blocked like the main sum, go to terms_sums[0, Terms::kSums).
template <bool kStore, class Arch, class T, class Terms = NoTerms<Arch>>
inline double SumExpShifted(const T* x, T* y, std::size_t cols, T m, const Terms& terms = {},
                            double* terms_sums = nullptr) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  constexpr std::size_t kTermSums = Terms::kSums;
  static_assert(kTermSums <= 2, "at most two sums of terms");
  const V vm(m);
  CompensatedSum<Arch> total;
  // One accumulator per sum of terms: their additions are a small part of the exp pass.
  CompensatedSum<Arch> terms_total[2];
  V t0(T(0)), t1(T(0));
  std::size_t i = 0;
  while (i + 4 * N <= cols) {
    const std::size_t block_end = BlockEnd<T, Arch>(i, cols);
    // Four accumulators: the exp chain is long, and 4 independent vectors keep both FMA ports fed.
    V s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
    for (; i + 4 * N <= block_end; i += 4 * N) {
      const V v0 = V::load_unaligned(x + i);
      const V v1 = V::load_unaligned(x + i + N);
      const V v2 = V::load_unaligned(x + i + 2 * N);
      const V v3 = V::load_unaligned(x + i + 3 * N);
      const V e0 = ExpFlushSubnormal(v0 - vm);
      const V e1 = ExpFlushSubnormal(v1 - vm);
      const V e2 = ExpFlushSubnormal(v2 - vm);
      const V e3 = ExpFlushSubnormal(v3 - vm);
      if constexpr (kTermSums > 0) {
        terms(i, N, v0, t0, t1);
        terms(i + N, N, v1, t0, t1);
        terms(i + 2 * N, N, v2, t0, t1);
        terms(i + 3 * N, N, v3, t0, t1);
      }
      if constexpr (kStore) {
        e0.store_unaligned(y + i);
        e1.store_unaligned(y + i + N);
        e2.store_unaligned(y + i + 2 * N);
        e3.store_unaligned(y + i + 3 * N);
      }
      s0 += e0;
      s1 += e1;
      s2 += e2;
      s3 += e3;
    }
    total.Add(ReduceToDouble((s0 + s1) + (s2 + s3)));
    if constexpr (kTermSums > 0) EndTermsBlock<kTermSums>(t0, t1, terms_total);
  }
  V s(T(0));
  for (; i + N <= cols; i += N) {
    const V v = V::load_unaligned(x + i);
    const V e = ExpFlushSubnormal(v - vm);
    if constexpr (kTermSums > 0) terms(i, N, v, t0, t1);
    if constexpr (kStore) e.store_unaligned(y + i);
    s += e;
  }
  if (i < cols) {
    // The padding lanes hold -inf, whose exponential is 0 for every finite m (for an infinite m
    // the row's own lanes already make the sum NaN); the terms get the padding m they expect.
    constexpr T kMinusInfinity = -std::numeric_limits<T>::infinity();
    const std::size_t count = cols - i;
    const V e = ExpFlushSubnormal(LoadTail<Arch>(x + i, count, kMinusInfinity) - vm);
    if constexpr (kTermSums > 0) terms(i, count, LoadTail<Arch>(x + i, count, m), t0, t1);
    if constexpr (kStore) StoreTail(e, y + i, count);
    s += e;
  }
  total.Add(ReduceToDouble(s));
  if constexpr (kTermSums > 0) {
    EndTermsBlock<kTermSums>(t0, t1, terms_total);
    for (std::size_t k = 0; k < kTermSums; ++k) {
      terms_sums[k] = terms_total[k].TotalAllowingInfinity();
    }
  }
  return total.Total();
}

// y[i] = f(v) for the vectors v of a row, f a vector function; y may be x.
template <class Arch, class T, class F>
inline void MapRow(const T* x, T* y, std::size_t cols, const F& f) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  std::size_t i = 0;
  for (; i + N <= cols; i += N) f(V::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < cols) StoreTail(f(LoadTail<Arch>(x + i, cols - i, T(0))), y + i, cols - i);
}

// y[i] = f(a[i], b[i]); y may be a or b.
template <class Arch, class T, class F>
inline void MapRow2(const T* a, const T* b, T* y, std::size_t cols, const F& f) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  std::size_t i = 0;
  for (; i + N <= cols; i += N) {
    f(V::load_unaligned(a + i), V::load_unaligned(b + i)).store_unaligned(y + i);
  }
  if (i < cols) {
    const std::size_t count = cols - i;
    StoreTail(f(LoadTail<Arch>(a + i, count, T(0)), LoadTail<Arch>(b + i, count, T(0))), y + i,
              count);
  }
}

// sum_i f(a[i], b[i]) for a vector function f with f(0, 0) == 0 (the padding of the last, partial
// vector is 0), in double with the same blocking as SumExpShifted.
template <class Arch, class T, class F>
inline double SumRow2(const T* a, const T* b, std::size_t cols, const F& f) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  CompensatedSum<Arch> total;
  std::size_t i = 0;
  while (i + 4 * N <= cols) {
    const std::size_t block_end = BlockEnd<T, Arch>(i, cols);
    V s0(T(0)), s1(T(0)), s2(T(0)), s3(T(0));
    for (; i + 4 * N <= block_end; i += 4 * N) {
      s0 += f(V::load_unaligned(a + i), V::load_unaligned(b + i));
      s1 += f(V::load_unaligned(a + i + N), V::load_unaligned(b + i + N));
      s2 += f(V::load_unaligned(a + i + 2 * N), V::load_unaligned(b + i + 2 * N));
      s3 += f(V::load_unaligned(a + i + 3 * N), V::load_unaligned(b + i + 3 * N));
    }
    total.Add(ReduceToDouble((s0 + s1) + (s2 + s3)));
  }
  V s(T(0));
  for (; i + N <= cols; i += N) s += f(V::load_unaligned(a + i), V::load_unaligned(b + i));
  if (i < cols) {
    const std::size_t count = cols - i;
    s += f(LoadTail<Arch>(a + i, count, T(0)), LoadTail<Arch>(b + i, count, T(0)));
  }
  total.Add(ReduceToDouble(s));
  return total.Total();
}

// Whether a row holds a NaN (x != x only for NaN); used only on the rare rows whose maximum is
// infinite.
template <class Arch, class T>
inline bool RowHasNaN(const T* x, std::size_t cols) {
  for (std::size_t i = 0; i < cols; ++i) {
    if (x[i] != x[i]) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Row kernels (signatures of TypedKernels in lib/kernel_table.h)

template <class T, class Arch>
void RowMaxKernel(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride) {
  constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();
  for (std::size_t r = 0; r < rows; ++r) {
    bool has_nan = false;
    const T m = RowMax<true, Arch>(x + r * stride, cols, &has_nan);
    out[r] = has_nan ? kNaN : m;
  }
}

template <class T, class Arch>
void RowArgmaxKernel(const T* x, std::size_t* out, std::size_t rows, std::size_t cols,
                     std::size_t stride) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * stride;
    bool has_nan = false;
    const T m = RowMax<true, Arch>(row, cols, &has_nan);
    // The first element equal to the maximum (or, with NaN, the first NaN): whole vectors find the
    // one that holds it, scalar code the lane (and the last, partial vector).
    const V vm(m);
    std::size_t i = 0;
    for (; i + N <= cols; i += N) {
      const V v = V::load_unaligned(row + i);
      if (xsimd::any(has_nan ? xsimd::isnan(v) : v == vm)) break;
    }
    std::size_t found = 0;
    for (; i < cols; ++i) {
      if (has_nan ? row[i] != row[i] : row[i] == m) {
        found = i;
        break;
      }
    }
    out[r] = found;
  }
}

// log-sum-exp of one row, with PyTorch's special values.
template <class Arch, class T>
inline T RowLogSumExp(const T* row, std::size_t cols) {
  constexpr T kInfinity = std::numeric_limits<T>::infinity();
  constexpr T kNaN = std::numeric_limits<T>::quiet_NaN();
  const T m = RowMax<false, Arch>(row, cols, nullptr);
  if (m == kInfinity || m == -kInfinity) {
    // All -inf gives -inf, any +inf gives +inf, unless a NaN is present (x86's max skips it).
    return RowHasNaN<Arch>(row, cols) ? kNaN : m;
  }
  // A NaN that the max skipped makes the sum NaN.
  return static_cast<T>(static_cast<double>(m) + std::log(SumExpShifted<false, Arch>(
                                                     row, static_cast<T*>(nullptr), cols, m)));
}

template <class T, class Arch>
void LogSumExpKernel(const T* x, T* out, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) out[r] = RowLogSumExp<Arch>(x + r * stride, cols);
}

// y may be x (in place): each pass reads an element before it writes the same element.
template <class T, class Arch>
void SoftmaxKernel(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * stride;
    T* out = y + r * stride;
    // An infinite maximum makes the sum NaN (inf - inf), hence the row NaN, as in PyTorch.
    const T m = RowMax<false, Arch>(in, cols, nullptr);
    const double sum = SumExpShifted<true, Arch>(in, out, cols, m);
    const Vec<T, Arch> inverse(static_cast<T>(1.0 / sum));
    MapRow<Arch>(out, out, cols, [inverse](Vec<T, Arch> v) { return v * inverse; });
  }
}

template <class T, class Arch>
void LogSoftmaxKernel(const T* x, T* y, std::size_t rows, std::size_t cols, std::size_t stride) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* in = x + r * stride;
    const T m = RowMax<false, Arch>(in, cols, nullptr);
    const double sum = SumExpShifted<false, Arch>(in, static_cast<T*>(nullptr), cols, m);
    // (x - max) - log(sum): x - max is exact near the maximum, where the result is small.
    const Vec<T, Arch> vm(m);
    const Vec<T, Arch> log_sum(static_cast<T>(std::log(sum)));
    MapRow<Arch>(in, y + r * stride, cols,
                 [vm, log_sum](Vec<T, Arch> v) { return (v - vm) - log_sum; });
  }
}

// dx = y * (dy - dot(y, dy))
template <class T, class Arch>
void SoftmaxBackwardKernel(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                           std::size_t stride) {
  using V = Vec<T, Arch>;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    const double dot = SumRow2<Arch>(y + o, dy + o, cols, [](V a, V b) { return a * b; });
    const V dot_v(static_cast<T>(dot));
    MapRow2<Arch>(y + o, dy + o, dx + o, cols, [dot_v](V yv, V dyv) { return yv * (dyv - dot_v); });
  }
}

// dx = dy - exp(y) * sum(dy), y = log_softmax(x)
template <class T, class Arch>
void LogSoftmaxBackwardKernel(const T* y, const T* dy, T* dx, std::size_t rows, std::size_t cols,
                              std::size_t stride) {
  using V = Vec<T, Arch>;
  for (std::size_t r = 0; r < rows; ++r) {
    const std::size_t o = r * stride;
    const double sum = SumRow2<Arch>(dy + o, dy + o, cols, [](V a, V) { return a; });
    const V sum_v(static_cast<T>(sum));
    MapRow2<Arch>(y + o, dy + o, dx + o, cols,
                  [sum_v](V yv, V dyv) { return xsimd::fnma(ExpFullRange(yv), sum_v, dyv); });
  }
}

// dx = dlse * exp(x - lse)
template <class T, class Arch>
void LogSumExpBackwardKernel(const T* x, const T* lse, const T* dlse, T* dx, std::size_t rows,
                             std::size_t cols, std::size_t stride) {
  using V = Vec<T, Arch>;
  for (std::size_t r = 0; r < rows; ++r) {
    const V row_lse(lse[r]);
    const V row_dlse(dlse[r]);
    MapRow<Arch>(x + r * stride, dx + r * stride, cols,
                 [row_lse, row_dlse](V v) { return row_dlse * ExpFullRange(v - row_lse); });
  }
}

// ---------------------------------------------------------------------------------------------
// Element-wise functions. xsimd::log and xsimd::log1p (about 1 ulp) already return the special
// values of <simdiff/elementwise.h>: -inf at +-0 (log) or -1 (log1p), NaN below that and for NaN,
// +inf at +inf.

// ln x. xsimd 8.1's double log rescales a subnormal input but reads its exponent before doing so
// (ln(4.9e-324) comes out as -746.5 instead of -744.4), so subnormal inputs are rescaled here,
// into the normal range, before calling it: ln x = ln(x 2^k) - k ln2.
template <class T, class Arch>
inline Vec<T, Arch> LogFullRange(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  constexpr int kShift = std::numeric_limits<T>::digits + 1;  // 2^kShift * denorm_min is normal
  constexpr T kScale = T(std::uint64_t{1} << kShift);
  constexpr T kShiftLog = T(kShift * 0.693147180559945309417232121458176568L);
  constexpr T kMinNormal = std::numeric_limits<T>::min();
  // x > 0 also keeps -0 (-inf) and negative inputs (NaN) away from the rescaling.
  const auto subnormal = (x < V(kMinNormal)) & (x > V(T(0)));
  return xsimd::log(xsimd::select(subnormal, x * V(kScale), x)) -
         xsimd::select(subnormal, V(kShiftLog), V(T(0)));
}

// 1 / (1 + e^-x) from t = e^-|x| <= 1, which cannot overflow: 1 / (1 + t) for x >= 0 and
// t / (1 + t) for x < 0.
template <class T, class Arch>
inline Vec<T, Arch> Sigmoid(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  const V one(T(1));
  const V t = ExpFullRange(-xsimd::abs(x));
  const V numerator = xsimd::select(x < V(T(0)), t, one);
  return numerator / (one + t);
}

// ln(1 + e^x) = max(x, 0) + log1p(e^-|x|); the NaN test restores NaN that max may drop.
template <class T, class Arch>
inline Vec<T, Arch> Softplus(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  const V y = xsimd::max(x, V(T(0))) + xsimd::log1p(ExpFullRange(-xsimd::abs(x)));
  return xsimd::select(xsimd::isnan(x), x, y);
}

// ln(sigmoid(x)) = min(x, 0) - log1p(e^-|x|).
template <class T, class Arch>
inline Vec<T, Arch> LogSigmoid(Vec<T, Arch> x) {
  using V = Vec<T, Arch>;
  const V y = xsimd::min(x, V(T(0))) - xsimd::log1p(ExpFullRange(-xsimd::abs(x)));
  return xsimd::select(xsimd::isnan(x), x, y);
}

// Applies a vector function to n elements; y may be x. Four vectors per iteration keep the long
// dependency chains of exp and log overlapping.
template <class Arch, class T, class F>
inline void MapElements(const T* x, T* y, std::size_t n, const F& f) {
  using V = Vec<T, Arch>;
  constexpr std::size_t N = V::size;
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const V v0 = f(V::load_unaligned(x + i));
    const V v1 = f(V::load_unaligned(x + i + N));
    const V v2 = f(V::load_unaligned(x + i + 2 * N));
    const V v3 = f(V::load_unaligned(x + i + 3 * N));
    v0.store_unaligned(y + i);
    v1.store_unaligned(y + i + N);
    v2.store_unaligned(y + i + 2 * N);
    v3.store_unaligned(y + i + 3 * N);
  }
  for (; i + N <= n; i += N) f(V::load_unaligned(x + i)).store_unaligned(y + i);
  if (i < n) StoreTail(f(LoadTail<Arch>(x + i, n - i, T(0))), y + i, n - i);
}

// xsimd 8.1 has no neon64 overload of sqrt for float: neon64 inherits the 32-bit NEON version, a
// reciprocal-square-root estimate with two Newton steps that is not correctly rounded and gives
// NaN at +inf. AArch64 has a correctly rounded vector square root; use it there.
template <class T, class Arch>
inline Vec<T, Arch> Sqrt(Vec<T, Arch> x) {
#if defined(__aarch64__) || defined(_M_ARM64)
  if constexpr (std::is_same_v<T, float> && std::is_same_v<Arch, xsimd::neon64>) {
    return Vec<T, Arch>(vsqrtq_f32(x));
  }
#endif
  return xsimd::sqrt(x);
}

#define SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(Name, Function)                    \
  template <class T, class Arch>                                            \
  void Name(const T* x, T* y, std::size_t n) {                              \
    MapElements<Arch>(x, y, n, [](Vec<T, Arch> v) { return Function(v); }); \
  }

SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(ExpKernel, ExpFullRange)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(LogKernel, LogFullRange)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(Log1pKernel, xsimd::log1p)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(SigmoidKernel, Sigmoid)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(SoftplusKernel, Softplus)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(LogSigmoidKernel, LogSigmoid)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(TanhKernel, xsimd::tanh)
SIMDIFF_XSIMD_ELEMENTWISE_KERNEL(SqrtKernel, Sqrt)
#undef SIMDIFF_XSIMD_ELEMENTWISE_KERNEL

// ---------------------------------------------------------------------------------------------
// Tables

// The fused loss kernels (signatures of TypedKernels in lib/kernel_table.h), defined in
// xsimd_loss_kernels.h. Every per-architecture file includes that header too: one that did not
// would fail to link (no other file instantiates these for its architecture).
template <class T, class Arch>
void SparseSoftmaxCrossEntropyKernel(const T* x, const std::int64_t* labels, const T* scale,
                                     T smoothing, T* loss, T* grad, std::size_t rows,
                                     std::size_t cols, std::size_t stride);
template <class T, class Arch>
void SoftmaxCrossEntropyKernel(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                               T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
template <class T, class Arch>
void SigmoidCrossEntropyKernel(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                               T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
template <class T, class Arch>
void CountGreaterKernel(const T* x, const T* threshold, std::size_t* counts, std::size_t rows,
                        std::size_t cols, std::size_t stride);

template <class T, class Arch>
TypedKernels<T> TypedTable() {
  return {&RowMaxKernel<T, Arch>,
          &RowArgmaxKernel<T, Arch>,
          &LogSumExpKernel<T, Arch>,
          &SoftmaxKernel<T, Arch>,
          &LogSoftmaxKernel<T, Arch>,
          &SoftmaxBackwardKernel<T, Arch>,
          &LogSoftmaxBackwardKernel<T, Arch>,
          &LogSumExpBackwardKernel<T, Arch>,
          &ExpKernel<T, Arch>,
          &LogKernel<T, Arch>,
          &Log1pKernel<T, Arch>,
          &SigmoidKernel<T, Arch>,
          &SoftplusKernel<T, Arch>,
          &LogSigmoidKernel<T, Arch>,
          &SparseSoftmaxCrossEntropyKernel<T, Arch>,
          &SoftmaxCrossEntropyKernel<T, Arch>,
          &SigmoidCrossEntropyKernel<T, Arch>,
          &CountGreaterKernel<T, Arch>,
          &TanhKernel<T, Arch>,
          &SqrtKernel<T, Arch>};
}

// The kernels of one architecture. A plain aggregate of function pointers, so the per-architecture
// files construct no std::string or other library type (see the top of this file); the backend
// adds the target name.
struct ArchKernels {
  TypedKernels<float> f32;
  TypedKernels<double> f64;
};

// Defined here, instantiated only by the file of each architecture (compiled with its flags).
template <class Arch>
ArchKernels MakeArchKernels(Arch) {
  static_assert(Arch::supported(), "compile this file with the architecture's -m flags");
  return {TypedTable<float, Arch>(), TypedTable<double, Arch>()};
}

// The instantiations that exist; every other file must use these, never instantiate its own.
#if defined(__x86_64__) || defined(_M_X64)
extern template ArchKernels MakeArchKernels(xsimd::avx512dq);
extern template ArchKernels MakeArchKernels(xsimd::fma3<xsimd::avx2>);
extern template ArchKernels MakeArchKernels(xsimd::sse4_2);
#elif defined(__aarch64__) || defined(_M_ARM64)
extern template ArchKernels MakeArchKernels(xsimd::neon64);
#endif

}  // namespace simdiff::detail::xsimd_backend
