// Element-wise functions (exp, log, log1p, sigmoid, softplus, log_sigmoid) in Highway ops,
// compiled for every target by highway_kernels.cc.
#if defined(SIMDIFF_LIB_HIGHWAY_ELEMENTWISE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_ELEMENTWISE_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_ELEMENTWISE_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_ELEMENTWISE_INL_H_
#endif

#include <cstddef>

#include "exp-inl.h"
#include "hwy/highway.h"
#include "log-inl.h"
#include "tail-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// 1 / (1 + e^-x) from t = e^-|x| <= 1, which cannot overflow: 1 / (1 + t) for x >= 0 and
// t / (1 + t) for x < 0.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Sigmoid(D d, V x) {
  const V one = hn::Set(d, hn::TFromD<D>(1));
  const V t = ExpFullRange(d, hn::Neg(hn::Abs(x)));
  const V numerator = hn::IfThenElse(hn::Lt(x, hn::Zero(d)), t, one);
  return hn::Div(numerator, hn::Add(one, t));
}

// ln(1 + e^x) = max(x, 0) + log1p(e^-|x|); the NaN test restores NaN that max may drop.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Softplus(D d, V x) {
  const V y = hn::Add(hn::ZeroIfNegative(x), hn::Log1p(d, ExpFullRange(d, hn::Neg(hn::Abs(x)))));
  return hn::IfThenElse(hn::IsNaN(x), x, y);
}

// ln(sigmoid(x)) = min(x, 0) - log1p(e^-|x|).
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V LogSigmoid(D d, V x) {
  const V y = hn::Sub(hn::Min(x, hn::Zero(d)), hn::Log1p(d, ExpFullRange(d, hn::Neg(hn::Abs(x)))));
  return hn::IfThenElse(hn::IsNaN(x), x, y);
}

// The IEEE square root instruction, in the (d, v) form MapElements calls.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V SquareRoot(D /*d*/, V x) {
  return hn::Sqrt(x);
}

// Applies a vector function to n elements; y may be x. Four vectors per iteration keep the long
// dependency chains of exp and log overlapping.
template <class T, class F>
HWY_INLINE void MapElements(const T* x, T* y, std::size_t n, const F& f) {
  const hn::ScalableTag<T> d;
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + 4 * N <= n; i += 4 * N) {
    const auto v0 = f(d, hn::LoadU(d, x + i));
    const auto v1 = f(d, hn::LoadU(d, x + i + N));
    const auto v2 = f(d, hn::LoadU(d, x + i + 2 * N));
    const auto v3 = f(d, hn::LoadU(d, x + i + 3 * N));
    hn::StoreU(v0, d, y + i);
    hn::StoreU(v1, d, y + i + N);
    hn::StoreU(v2, d, y + i + 2 * N);
    hn::StoreU(v3, d, y + i + 3 * N);
  }
  for (; i + N <= n; i += N) hn::StoreU(f(d, hn::LoadU(d, x + i)), d, y + i);
  if (i < n) StoreTail(d, f(d, LoadTail(d, x + i, n - i, hn::Zero(d))), y + i, n - i);
}

#define SIMDIFF_HWY_ELEMENTWISE_KERNEL(Name, Function)                            \
  template <class T>                                                              \
  void Name(const T* x, T* y, std::size_t n) {                                    \
    MapElements(x, y, n, [](auto d, auto v) HWY_ATTR { return Function(d, v); }); \
  }

SIMDIFF_HWY_ELEMENTWISE_KERNEL(ExpKernel, ExpFullRange)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(LogKernel, LogFullRange)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(Log1pKernel, Log1pFullRange)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(SigmoidKernel, Sigmoid)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(SoftplusKernel, Softplus)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(LogSigmoidKernel, LogSigmoid)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(TanhKernel, hn::Tanh)
SIMDIFF_HWY_ELEMENTWISE_KERNEL(SqrtKernel, SquareRoot)
#undef SIMDIFF_HWY_ELEMENTWISE_KERNEL

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_ELEMENTWISE_INL_H_
