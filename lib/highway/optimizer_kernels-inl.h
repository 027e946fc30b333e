// Optimizer update kernels (SGD, RMSprop, Adam) and the gradient steps around them (sum of
// squares, scale, clip, weight decay) over a flat float buffer, compiled for every target by
// lib/optimizers/highway_optimizer_kernels.cc. The update formulas are those of
// lib/optimizers/optimizer_kernels.h, evaluated in the same order as Keras 3 so that the float
// results round like Keras' float32 ones (up to fused multiply-adds where the target has them).
#if defined(SIMDIFF_LIB_HIGHWAY_OPTIMIZER_KERNELS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_OPTIMIZER_KERNELS_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_OPTIMIZER_KERNELS_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_OPTIMIZER_KERNELS_INL_H_
#endif

#include <cstddef>

#include "hwy/highway.h"
#include "lib/highway/tail-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Runs `step(d, i, count)` over [0, n) one vector at a time; the last partial vector gets
// count < Lanes(d) and must use LoadTail/StoreTail. Updates are memory-bound (3 to 5 streams per
// element), so one vector per iteration already saturates the loads; no unrolling.
template <class D, class F>
HWY_INLINE void ForEachVector(D d, std::size_t n, const F& step) {
  const std::size_t N = hn::Lanes(d);
  std::size_t i = 0;
  for (; i + N <= n; i += N) step(i, N);
  if (i < n) step(i, n - i);
}

template <class D, class V = hn::VFromD<D>>
HWY_INLINE V LoadPart(D d, const float* HWY_RESTRICT p, std::size_t count) {
  return count == hn::Lanes(d) ? hn::LoadU(d, p) : LoadTail(d, p, count, hn::Zero(d));
}

template <class D, class V = hn::VFromD<D>>
HWY_INLINE void StorePart(D d, V v, float* HWY_RESTRICT p, std::size_t count) {
  if (count == hn::Lanes(d)) {
    hn::StoreU(v, d, p);
  } else {
    StoreTail(d, v, p, count);
  }
}

void SgdKernel(float* HWY_RESTRICT v, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
               std::size_t n, float lr, float momentum, bool nesterov) {
  const hn::ScalableTag<float> d;
  const auto vlr = hn::Set(d, lr);
  const auto vmomentum = hn::Set(d, momentum);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    const auto step = hn::Mul(LoadPart(d, g + i, count), vlr);
    auto value = LoadPart(d, v + i, count);
    if (m == nullptr) {
      value = hn::Sub(value, step);
    } else {
      const auto velocity = hn::Sub(hn::Mul(LoadPart(d, m + i, count), vmomentum), step);
      StorePart(d, velocity, m + i, count);
      value = nesterov ? hn::Add(value, hn::Sub(hn::Mul(velocity, vmomentum), step))
                       : hn::Add(value, velocity);
    }
    StorePart(d, value, v + i, count);
  });
}

void RmspropKernel(float* HWY_RESTRICT v, const float* HWY_RESTRICT g, float* HWY_RESTRICT a,
                   float* HWY_RESTRICT m, float* HWY_RESTRICT mg, std::size_t n, float lr,
                   float rho, float momentum, float epsilon) {
  const hn::ScalableTag<float> d;
  const auto vlr = hn::Set(d, lr);
  const auto vrho = hn::Set(d, rho);
  const auto vkeep = hn::Set(d, 1.0f - rho);
  const auto vmomentum = hn::Set(d, momentum);
  const auto veps = hn::Set(d, epsilon);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    const auto grad = LoadPart(d, g + i, count);
    const auto average =
        hn::Add(hn::Mul(vrho, LoadPart(d, a + i, count)), hn::Mul(vkeep, hn::Mul(grad, grad)));
    StorePart(d, average, a + i, count);
    auto denominator = hn::Add(average, veps);
    if (mg != nullptr) {
      const auto mean = hn::Add(hn::Mul(vrho, LoadPart(d, mg + i, count)), hn::Mul(vkeep, grad));
      StorePart(d, mean, mg + i, count);
      denominator = hn::Add(hn::Sub(average, hn::Mul(mean, mean)), veps);
    }
    const auto increment = hn::Div(hn::Mul(vlr, grad), hn::Sqrt(denominator));
    auto value = LoadPart(d, v + i, count);
    if (m != nullptr) {
      const auto velocity = hn::Add(hn::Mul(vmomentum, LoadPart(d, m + i, count)), increment);
      StorePart(d, velocity, m + i, count);
      value = hn::Sub(value, velocity);
    } else {
      value = hn::Sub(value, increment);
    }
    StorePart(d, value, v + i, count);
  });
}

void AdamKernel(float* HWY_RESTRICT v, const float* HWY_RESTRICT g, float* HWY_RESTRICT m,
                float* HWY_RESTRICT s, float* HWY_RESTRICT s_max, std::size_t n, float alpha,
                float beta_1, float beta_2, float epsilon) {
  const hn::ScalableTag<float> d;
  const auto valpha = hn::Set(d, alpha);
  const auto vkeep1 = hn::Set(d, 1.0f - beta_1);
  const auto vkeep2 = hn::Set(d, 1.0f - beta_2);
  const auto veps = hn::Set(d, epsilon);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    const auto grad = LoadPart(d, g + i, count);
    auto first = LoadPart(d, m + i, count);
    first = hn::Add(first, hn::Mul(hn::Sub(grad, first), vkeep1));
    StorePart(d, first, m + i, count);
    auto second = LoadPart(d, s + i, count);
    second = hn::Add(second, hn::Mul(hn::Sub(hn::Mul(grad, grad), second), vkeep2));
    StorePart(d, second, s + i, count);
    if (s_max != nullptr) {
      second = hn::Max(LoadPart(d, s_max + i, count), second);
      StorePart(d, second, s_max + i, count);
    }
    const auto step = hn::Div(hn::Mul(first, valpha), hn::Add(hn::Sqrt(second), veps));
    StorePart(d, hn::Sub(LoadPart(d, v + i, count), step), v + i, count);
  });
}

double SumSquaresKernel(const float* HWY_RESTRICT g, std::size_t n) {
  const hn::ScalableTag<float> d;
  const std::size_t N = hn::Lanes(d);
  // Float partial sums over blocks of at most 1024 elements keep the relative error near
  // 1024 * 2^-24 / 4 before each block is folded into the double total; two accumulators hide
  // the add latency.
  constexpr std::size_t kBlock = 1024;
  double total = 0;
  for (std::size_t begin = 0; begin < n; begin += kBlock) {
    const std::size_t end = begin + kBlock < n ? begin + kBlock : n;
    auto sum0 = hn::Zero(d);
    auto sum1 = hn::Zero(d);
    std::size_t i = begin;
    for (; i + 2 * N <= end; i += 2 * N) {
      const auto x0 = hn::LoadU(d, g + i);
      const auto x1 = hn::LoadU(d, g + i + N);
      sum0 = hn::MulAdd(x0, x0, sum0);
      sum1 = hn::MulAdd(x1, x1, sum1);
    }
    for (; i < end; i += N) {
      const std::size_t count = end - i < N ? end - i : N;
      const auto x = LoadPart(d, g + i, count);
      sum0 = hn::MulAdd(x, x, sum0);
    }
    total += static_cast<double>(hn::GetLane(hn::SumOfLanes(d, hn::Add(sum0, sum1))));
  }
  return total;
}

void ScaleKernel(float* HWY_RESTRICT g, std::size_t n, float factor) {
  const hn::ScalableTag<float> d;
  const auto vfactor = hn::Set(d, factor);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    StorePart(d, hn::Mul(LoadPart(d, g + i, count), vfactor), g + i, count);
  });
}

void ClipKernel(float* HWY_RESTRICT g, std::size_t n, float limit) {
  const hn::ScalableTag<float> d;
  const auto high = hn::Set(d, limit);
  const auto low = hn::Set(d, -limit);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    const auto x = LoadPart(d, g + i, count);
    // x86 min/max return their second operand for NaN: restore NaN explicitly.
    const auto clipped = hn::Min(hn::Max(x, low), high);
    StorePart(d, hn::IfThenElse(hn::IsNaN(x), x, clipped), g + i, count);
  });
}

void DecayKernel(float* HWY_RESTRICT v, std::size_t n, float factor) {
  const hn::ScalableTag<float> d;
  const auto vfactor = hn::Set(d, factor);
  ForEachVector(d, n, [&](std::size_t i, std::size_t count) HWY_ATTR {
    const auto x = LoadPart(d, v + i, count);
    StorePart(d, hn::Sub(x, hn::Mul(x, vfactor)), v + i, count);
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_OPTIMIZER_KERNELS_INL_H_
