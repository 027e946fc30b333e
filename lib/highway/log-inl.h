// Logarithms over the whole input range: hwy/contrib/math's Log and Log1p (2 ulp) cover positive
// finite inputs; the special values their documented range leaves out are handled here.
#if defined(SIMDIFF_LIB_HIGHWAY_LOG_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_LOG_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_LOG_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_LOG_INL_H_
#endif

#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// ln x: -inf at +-0, NaN below 0 and for NaN, +inf at +inf.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V LogFullRange(D d, V x) {
  V y = hn::Log(d, x);
  y = hn::IfThenElse(hn::Eq(x, hn::Zero(d)), hn::Neg(hn::Inf(d)), y);
  y = hn::IfThenElse(hn::Eq(x, hn::Inf(d)), x, y);
  return hn::IfThenElse(hn::Not(hn::Ge(x, hn::Zero(d))), hn::NaN(d), y);
}

// ln(1 + x): -inf at -1, NaN below -1 and for NaN, +inf at +inf.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Log1pFullRange(D d, V x) {
  const V minus_one = hn::Set(d, hn::TFromD<D>(-1));
  V y = hn::Log1p(d, x);
  y = hn::IfThenElse(hn::Eq(x, minus_one), hn::Neg(hn::Inf(d)), y);
  y = hn::IfThenElse(hn::Eq(x, hn::Inf(d)), x, y);
  return hn::IfThenElse(hn::Not(hn::Ge(x, minus_one)), hn::NaN(d), y);
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_LOG_INL_H_
