// The exponential used by every Highway kernel, in two variants (algorithm and constants:
// lib/exp_polynomial.h). hn::Exp is accurate but about three times slower; these reach the
// polynomial's accuracy (about 2 ulp float, 1 ulp double) at the cost of one FMA chain.
//
// Per-target include guard: this file is re-included once per Highway target.
#if defined(SIMDIFF_LIB_HIGHWAY_EXP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_EXP_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_EXP_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_EXP_INL_H_
#endif

#include "../exp_polynomial.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// c1 + c2 r + ... + cK r^(K-1), Horner's scheme.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpPolynomialTail(D d, V r) {
  using P = detail::ExpPolynomial<hn::TFromD<D>>;
  constexpr std::size_t kDegree = P::kCoefficients.size();
  V p = hn::Set(d, P::kCoefficients[kDegree - 1]);
  for (std::size_t k = kDegree - 1; k-- > 0;) {
    p = hn::MulAdd(p, r, hn::Set(d, P::kCoefficients[k]));
  }
  return p;
}

// e^x for x in (-inf, 88.37] (float) or (-inf, 709.43] (double), the range of the row kernels'
// exp(x - max) <= 1. Results below the smallest normal number are flushed to zero (never
// subnormal garbage from the exponent shift); NaN in gives NaN out. About 2 ulp (float).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpFlushSubnormal(D d, V x) {
  using P = detail::ExpPolynomial<hn::TFromD<D>>;
  const hn::RebindToSigned<D> di;
  // Adding the magic number rounds x/ln2 to an integer n and leaves n + bias in the low mantissa
  // bits; shifting those bits into the exponent field gives 2^n.
  const V magic = hn::Set(d, P::kRoundMagic + P::kExponentBias);
  const V n_plus_magic = hn::MulAdd(x, hn::Set(d, P::kLog2e), magic);
  const V scale = hn::BitCast(d, hn::ShiftLeft<P::kMantissaBits>(hn::BitCast(di, n_plus_magic)));
  const V n = hn::Sub(n_plus_magic, magic);
  V r = hn::NegMulAdd(n, hn::Set(d, P::kLn2Hi), x);
  r = hn::NegMulAdd(n, hn::Set(d, P::kLn2Lo), r);
  const V result = hn::MulAdd(hn::Mul(r, scale), ExpPolynomialTail(d, r), scale);
  return hn::IfThenZeroElse(hn::Lt(x, hn::Set(d, P::kMinNormalInput)), result);
}

// e^x for every x: +inf above ln(max), gradual underflow to subnormals, 0 below them, NaN in gives
// NaN out. 2^n is applied as two factors 2^floor(n/2) * 2^(n - floor(n/2)), both normal over the
// whole range, so the only rounding into the subnormal range is the final multiplication.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V ExpFullRange(D d, V x) {
  using T = hn::TFromD<D>;
  using P = detail::ExpPolynomial<T>;
  const hn::RebindToSigned<D> di;
  const V magic = hn::Set(d, P::kRoundMagic);
  const V n_plus_magic = hn::MulAdd(x, hn::Set(d, P::kLog2e), magic);
  const auto n_int = hn::Sub(hn::BitCast(di, n_plus_magic), hn::BitCast(di, magic));
  const auto half = hn::ShiftRight<1>(n_int);
  const auto bias = hn::Set(di, P::kExponentBias);
  const V scale1 = hn::BitCast(d, hn::ShiftLeft<P::kMantissaBits>(hn::Add(half, bias)));
  const V scale2 =
      hn::BitCast(d, hn::ShiftLeft<P::kMantissaBits>(hn::Add(hn::Sub(n_int, half), bias)));
  const V n = hn::Sub(n_plus_magic, magic);
  V r = hn::NegMulAdd(n, hn::Set(d, P::kLn2Hi), x);
  r = hn::NegMulAdd(n, hn::Set(d, P::kLn2Lo), r);
  V result = hn::Mul(hn::MulAdd(hn::Mul(r, scale1), ExpPolynomialTail(d, r), scale1), scale2);
  result = hn::IfThenZeroElse(hn::Lt(x, hn::Set(d, P::kZeroBelow)), result);
  return hn::IfThenElse(hn::Gt(x, hn::Set(d, P::kInfinityAbove)), hn::Inf(d), result);
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_EXP_INL_H_
