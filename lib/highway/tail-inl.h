// Loads and stores of the last, partial vector of a row without touching memory past its end.
// Highway 1.0.3's MaskedLoad/BlendedStore are true masked memory operations on AVX2, AVX-512 and
// SVE, but on SSE4, NEON and EMU128 they read (and BlendedStore rewrites) the whole vector, which
// may cross into an unmapped page. Those targets go through a small stack buffer instead.
#if defined(SIMDIFF_LIB_HIGHWAY_TAIL_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_TAIL_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_TAIL_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_TAIL_INL_H_
#endif

#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

#undef SIMDIFF_HWY_MASKED_MEMORY
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL || \
    HWY_TARGET == HWY_SVE || HWY_TARGET == HWY_SVE2 || HWY_TARGET == HWY_SVE_256 ||  \
    HWY_TARGET == HWY_SVE2_128
#define SIMDIFF_HWY_MASKED_MEMORY 1
#else
#define SIMDIFF_HWY_MASKED_MEMORY 0
#endif

// The first `count` (< Lanes(d)) elements of p; the other lanes hold `fill`.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE V LoadTail(D d, const hn::TFromD<D>* HWY_RESTRICT p, std::size_t count, V fill) {
  const auto valid = hn::FirstN(d, count);
#if SIMDIFF_HWY_MASKED_MEMORY
  return hn::IfThenElse(valid, hn::MaskedLoad(valid, d, p), fill);
#else
  HWY_ALIGN hn::TFromD<D> buffer[hn::MaxLanes(d)] = {};
  for (std::size_t i = 0; i < count; ++i) buffer[i] = p[i];
  return hn::IfThenElse(valid, hn::Load(d, buffer), fill);
#endif
}

// Stores the first `count` (< Lanes(d)) lanes of v to p.
template <class D, class V = hn::VFromD<D>>
HWY_INLINE void StoreTail(D d, V v, hn::TFromD<D>* HWY_RESTRICT p, std::size_t count) {
#if SIMDIFF_HWY_MASKED_MEMORY
  hn::BlendedStore(v, hn::FirstN(d, count), d, p);
#else
  HWY_ALIGN hn::TFromD<D> buffer[hn::MaxLanes(d)];
  hn::Store(v, d, buffer);
  for (std::size_t i = 0; i < count; ++i) p[i] = buffer[i];
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_TAIL_INL_H_
