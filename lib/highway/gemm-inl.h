// GEMM written once in Highway ops and compiled for every target by highway_gemm.cc: the loop
// nest of BLIS (Goto's algorithm) around one register-blocked micro-kernel.
//
//   for jc in n, step kNC:           B block [kc x nc] packed into column panels of kNR
//     for pc in k, step kKC:         (L3; shared by every row block)
//       for ic in m, step kMC:       A block [mc x kc] packed into row panels of kMR (L2)
//         for jr in nc, step kNR:    one B panel (L1), reused by every row panel
//           for ir in mc, step kMR:  micro-kernel: kMR x kNR tile of C in registers
//
// Packing makes every operand contiguous whatever its transposition, so one micro-kernel serves
// all four combinations. Small products do not pay for it: when m is small, A is read in place
// (its rows stay in L1 across the column panels) and so is B when it is not transposed (its rows
// are contiguous along n); only a partial last column panel is copied into a zero-padded buffer.
//
// Every element of C is accumulated in the same order (p ascending inside each k block, blocks
// ascending, one FMA per p) whatever the packing, the tile it falls in or the sub-product a
// caller splits off: results are bit-identical for any split into threads.
#if defined(SIMDIFF_LIB_HIGHWAY_GEMM_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef SIMDIFF_LIB_HIGHWAY_GEMM_INL_H_
#undef SIMDIFF_LIB_HIGHWAY_GEMM_INL_H_
#else
#define SIMDIFF_LIB_HIGHWAY_GEMM_INL_H_
#endif

#include <algorithm>
#include <cstddef>

#include "elementwise-inl.h"
#include "hwy/cache_control.h"
#include "hwy/contrib/math/math-inl.h"
#include "hwy/highway.h"
#include "lib/gemm/gemm_kernels.h"
#include "tail-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Tile of 6 rows x 2 vectors: 12 accumulators + 2 B vectors + 1 broadcast fit the 16 registers of
// AVX2/SSE4; the 12 independent FMA chains cover the FMA latency (4-5 cycles) times the two FMA
// ports of current x86 and Arm cores.
constexpr std::size_t kMR = 6;
// k block: a B panel of kKC x kNR (16 KiB of float on AVX2) stays in L1 while the row panels of A
// stream past it.
constexpr std::size_t kKC = 256;
// Rows of the packed A block: kMC x kKC (144 KiB of float) stays in L2.
constexpr std::size_t kMC = 144;
// Columns of the packed B block (4 MiB of float at kKC): shared in L3.
constexpr std::size_t kNCTarget = 4096;
// Products with at most this many rows read A in place (and B too when it is not transposed).
constexpr std::size_t kSmallRows = 32;

struct Blocking {
  std::size_t nr;  // columns of a micro-tile: two vectors
  std::size_t kc;  // k block: at most kKC, the blocks of one product of nearly equal size
  std::size_t mc;  // A block rows: at most kMC, a multiple of kMR, blocks of nearly equal size
  std::size_t nc;  // multiple of nr
  bool pack_a;
  bool pack_b;
};

HWY_INLINE std::size_t RoundUp(std::size_t x, std::size_t multiple) {
  return (x + multiple - 1) / multiple * multiple;
}

template <class T>
HWY_INLINE Blocking BlockingFor(const detail::GemmArgs<T>& g) {
  const hn::ScalableTag<T> d;
  const std::size_t nr = 2 * hn::Lanes(d);
  const bool small = g.m <= kSmallRows;
  // Equal blocks rather than full ones and a short remainder (784 = 4 x 196, not 3 x 256 + 16):
  // a short last block pays the tile overheads (C loads and stores) for little arithmetic.
  const std::size_t k_blocks = std::max<std::size_t>(1, (g.k + kKC - 1) / kKC);
  const std::size_t m_blocks = (g.m + kMC - 1) / kMC;
  return {nr,
          (g.k + k_blocks - 1) / k_blocks,
          RoundUp((g.m + m_blocks - 1) / m_blocks, kMR),
          std::max(nr, kNCTarget / nr * nr),
          !small,
          !small || g.trans_b};
}

// Workspace layout: [packed B block | packed A block | B tail panel], each 64-byte aligned.
template <class T>
struct Workspace {
  std::size_t b_elements;
  std::size_t a_elements;
  std::size_t tail_elements;
};

template <class T>
HWY_INLINE Workspace<T> WorkspaceFor(const detail::GemmArgs<T>& g, const Blocking& blocking) {
  constexpr std::size_t kAlign = 64 / sizeof(T);
  const std::size_t kc = blocking.kc;
  Workspace<T> w{0, 0, RoundUp(kc * blocking.nr, kAlign)};
  if (blocking.pack_b) {
    w.b_elements = RoundUp(kc * RoundUp(std::min(g.n, blocking.nc), blocking.nr), kAlign);
  }
  if (blocking.pack_a) w.a_elements = RoundUp(blocking.mc * kc, kAlign);
  return w;
}

template <class T>
std::size_t GemmWorkspaceElements(const detail::GemmArgs<T>& g) noexcept {
  const Workspace<T> w = WorkspaceFor(g, BlockingFor(g));
  return w.b_elements + w.a_elements + w.tail_elements;
}

// What the epilogue of one k block does: c = alpha acc + (read_c ? beta_c c : 0), then, in the
// last k block, + bias and the activation.
template <class T>
struct Epilogue {
  T alpha;
  T beta_c;
  bool read_c;
  bool last;
  const T* bias;  // at the tile's first column; nullptr for none
  Activation activation;
};

template <class D, class V = hn::VFromD<D>>
HWY_INLINE V Activate(D d, V v, Activation activation) {
  switch (activation) {
    case Activation::none:
      return v;
    case Activation::relu:
      // Not Max(v, 0): x86's max would turn NaN into 0.
      return hn::IfThenZeroElse(hn::Lt(v, hn::Zero(d)), v);
    case Activation::sigmoid:
      return Sigmoid(d, v);
    case Activation::tanh:
      return hn::Tanh(d, v);
  }
  return v;
}

template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE V Finish(D d, V acc, const T* HWY_RESTRICT c, const T* HWY_RESTRICT bias,
                    std::size_t count, const Epilogue<T>& e) {
  const std::size_t N = hn::Lanes(d);
  V v = hn::Mul(hn::Set(d, e.alpha), acc);
  if (e.read_c) {
    const V old = count >= N ? hn::LoadU(d, c) : LoadTail(d, c, count, hn::Zero(d));
    v = hn::MulAdd(hn::Set(d, e.beta_c), old, v);
  }
  if (e.last) {
    if (bias != nullptr) {
      v = hn::Add(v, count >= N ? hn::LoadU(d, bias) : LoadTail(d, bias, count, hn::Zero(d)));
    }
    v = Activate(d, v, e.activation);
  }
  return v;
}

// Stores one row of a tile (two vectors, the first `cols` <= 2N columns) through the epilogue.
template <class D, class V = hn::VFromD<D>, class T = hn::TFromD<D>>
HWY_INLINE void StoreRow(D d, V acc0, V acc1, T* HWY_RESTRICT c, std::size_t cols,
                         const Epilogue<T>& e) {
  const std::size_t N = hn::Lanes(d);
  const T* bias = e.bias;
  if (cols >= 2 * N) {
    hn::StoreU(Finish(d, acc0, c, bias, N, e), d, c);
    hn::StoreU(Finish(d, acc1, c + N, bias ? bias + N : nullptr, N, e), d, c + N);
  } else if (cols > N) {
    hn::StoreU(Finish(d, acc0, c, bias, N, e), d, c);
    StoreTail(d, Finish(d, acc1, c + N, bias ? bias + N : nullptr, cols - N, e), c + N, cols - N);
  } else if (cols == N) {
    hn::StoreU(Finish(d, acc0, c, bias, N, e), d, c);
  } else {
    StoreTail(d, Finish(d, acc0, c, bias, cols, e), c, cols);
  }
}

// The micro-kernel: C[kRows x cols] (cols <= 2N) from kc rank-1 updates. Row r of op(A) at step p
// is a[r * a_rs + p * a_cs]; row p of the B panel is the 2N elements at b + p * b_rs (zero-padded
// beyond cols when packed). Accumulators are named variables, not an array: SVE vectors are
// sizeless and cannot be array elements. Not inlined: inside the loop nest the register allocator
// spills accumulators (it keeps the epilogue's constants in vector registers across the k loop).
template <std::size_t kRows, class T>
HWY_NOINLINE void MicroKernel(std::size_t kc, const T* HWY_RESTRICT a, std::size_t a_rs,
                              std::size_t a_cs, const T* HWY_RESTRICT b, std::size_t b_rs,
                              T* HWY_RESTRICT c, std::size_t ldc, std::size_t cols,
                              const Epilogue<T>& e) {
  static_assert(kRows >= 1 && kRows <= kMR);
  const hn::ScalableTag<T> d;
  using V = hn::VFromD<decltype(d)>;
  const std::size_t N = hn::Lanes(d);
  V c00 = hn::Zero(d), c01 = hn::Zero(d), c10 = hn::Zero(d), c11 = hn::Zero(d);
  V c20 = hn::Zero(d), c21 = hn::Zero(d), c30 = hn::Zero(d), c31 = hn::Zero(d);
  V c40 = hn::Zero(d), c41 = hn::Zero(d), c50 = hn::Zero(d), c51 = hn::Zero(d);
  if (e.read_c) {
    // The tile of C is read only after the k loop; fetching it now hides its latency (it comes
    // from L3 or memory once C outgrows L2) behind the arithmetic.
    for (std::size_t r = 0; r < kRows; ++r) {
      hwy::Prefetch(c + r * ldc);
      hwy::Prefetch(c + r * ldc + cols - 1);
    }
  }
  const T* HWY_RESTRICT a0 = a;
  const T* HWY_RESTRICT a1 = a + (kRows > 1 ? a_rs : 0);
  const T* HWY_RESTRICT a2 = a + (kRows > 2 ? 2 * a_rs : 0);
  const T* HWY_RESTRICT a3 = a + (kRows > 3 ? 3 * a_rs : 0);
  const T* HWY_RESTRICT a4 = a + (kRows > 4 ? 4 * a_rs : 0);
  const T* HWY_RESTRICT a5 = a + (kRows > 5 ? 5 * a_rs : 0);
  for (std::size_t p = 0; p < kc; ++p) {
    const V b0 = hn::LoadU(d, b);
    const V b1 = hn::LoadU(d, b + N);
    b += b_rs;
    const std::size_t o = p * a_cs;
#define SIMDIFF_GEMM_ROW(r)                \
  if constexpr (kRows > r) {               \
    const V ar = hn::Set(d, a##r[o]);      \
    c##r##0 = hn::MulAdd(ar, b0, c##r##0); \
    c##r##1 = hn::MulAdd(ar, b1, c##r##1); \
  }
    SIMDIFF_GEMM_ROW(0)
    SIMDIFF_GEMM_ROW(1)
    SIMDIFF_GEMM_ROW(2)
    SIMDIFF_GEMM_ROW(3)
    SIMDIFF_GEMM_ROW(4)
    SIMDIFF_GEMM_ROW(5)
#undef SIMDIFF_GEMM_ROW
  }
  StoreRow(d, c00, c01, c, cols, e);
  if constexpr (kRows > 1) StoreRow(d, c10, c11, c + ldc, cols, e);
  if constexpr (kRows > 2) StoreRow(d, c20, c21, c + 2 * ldc, cols, e);
  if constexpr (kRows > 3) StoreRow(d, c30, c31, c + 3 * ldc, cols, e);
  if constexpr (kRows > 4) StoreRow(d, c40, c41, c + 4 * ldc, cols, e);
  if constexpr (kRows > 5) StoreRow(d, c50, c51, c + 5 * ldc, cols, e);
}

template <class T>
HWY_INLINE void RunTile(std::size_t rows, std::size_t kc, const T* a, std::size_t a_rs,
                        std::size_t a_cs, const T* b, std::size_t b_rs, T* c, std::size_t ldc,
                        std::size_t cols, const Epilogue<T>& e) {
  switch (rows) {
    case 6:
      return MicroKernel<6>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
    case 5:
      return MicroKernel<5>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
    case 4:
      return MicroKernel<4>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
    case 3:
      return MicroKernel<3>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
    case 2:
      return MicroKernel<2>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
    default:
      return MicroKernel<1>(kc, a, a_rs, a_cs, b, b_rs, c, ldc, cols, e);
  }
}

// Copies op(B)[p0 + p, j0 + j] for p < kc, j < width (<= nr) into dst[p * nr + j], zero beyond.
template <class T>
HWY_INLINE void PackBPanel(const detail::GemmArgs<T>& g, std::size_t p0, std::size_t j0,
                           std::size_t kc, std::size_t width, std::size_t nr, T* HWY_RESTRICT dst) {
  if (!g.trans_b) {
    for (std::size_t p = 0; p < kc; ++p) {
      const T* HWY_RESTRICT src = g.b + (p0 + p) * g.ldb + j0;
      T* HWY_RESTRICT out = dst + p * nr;
      std::size_t j = 0;
      for (; j < width; ++j) out[j] = src[j];
      for (; j < nr; ++j) out[j] = T(0);
    }
  } else {
    // B is stored [n x k]: read each of its rows contiguously.
    for (std::size_t j = 0; j < width; ++j) {
      const T* HWY_RESTRICT src = g.b + (j0 + j) * g.ldb + p0;
      for (std::size_t p = 0; p < kc; ++p) dst[p * nr + j] = src[p];
    }
    for (std::size_t j = width; j < nr; ++j) {
      for (std::size_t p = 0; p < kc; ++p) dst[p * nr + j] = T(0);
    }
  }
}

// Copies op(A)[i0 + i, p0 + p] for i < mc, p < kc into panels of kMR rows: panel q holds rows
// [q kMR, (q + 1) kMR) as dst[q * kMR * kc + p * kMR + i], zero beyond mc.
template <class T>
HWY_INLINE void PackABlock(const detail::GemmArgs<T>& g, std::size_t i0, std::size_t p0,
                           std::size_t mc, std::size_t kc, T* HWY_RESTRICT dst) {
  for (std::size_t q = 0; q * kMR < mc; ++q) {
    T* HWY_RESTRICT panel = dst + q * kMR * kc;
    const std::size_t rows = std::min(kMR, mc - q * kMR);
    if (!g.trans_a) {
      for (std::size_t i = 0; i < rows; ++i) {
        const T* HWY_RESTRICT src = g.a + (i0 + q * kMR + i) * g.lda + p0;
        for (std::size_t p = 0; p < kc; ++p) panel[p * kMR + i] = src[p];
      }
    } else {
      // A is stored [k x m]: op(A)'s column p is a contiguous row of it.
      for (std::size_t p = 0; p < kc; ++p) {
        const T* HWY_RESTRICT src = g.a + (p0 + p) * g.lda + i0 + q * kMR;
        for (std::size_t i = 0; i < rows; ++i) panel[p * kMR + i] = src[i];
      }
    }
    for (std::size_t i = rows; i < kMR; ++i) {
      for (std::size_t p = 0; p < kc; ++p) panel[p * kMR + i] = T(0);
    }
  }
}

// k == 0: C = beta C through the epilogue (bias, activation), with a zero product.
template <class T>
HWY_INLINE void ScaleOnly(const detail::GemmArgs<T>& g, std::size_t nr) {
  const hn::ScalableTag<T> d;
  const Epilogue<T> base{T(0), g.beta, g.beta != T(0), true, g.bias, g.activation};
  for (std::size_t i = 0; i < g.m; ++i) {
    for (std::size_t j = 0; j < g.n; j += nr) {
      Epilogue<T> e = base;
      e.bias = g.bias ? g.bias + j : nullptr;
      StoreRow(d, hn::Zero(d), hn::Zero(d), g.c + i * g.ldc + j, std::min(nr, g.n - j), e);
    }
  }
}

template <class T>
void GemmKernel(const detail::GemmArgs<T>& g, T* HWY_RESTRICT workspace) noexcept {
  const Blocking blocking = BlockingFor(g);
  const std::size_t nr = blocking.nr;
  if (g.k == 0) return ScaleOnly(g, nr);
  const Workspace<T> w = WorkspaceFor(g, blocking);
  T* HWY_RESTRICT packed_b = workspace;
  T* HWY_RESTRICT packed_a = workspace + w.b_elements;
  T* HWY_RESTRICT tail_b = packed_a + w.a_elements;
  // op(A)[i, p] = g.a[i * a_rs + p * a_cs] when A is read in place.
  const std::size_t a_rs = g.trans_a ? 1 : g.lda;
  const std::size_t a_cs = g.trans_a ? g.lda : 1;

  for (std::size_t jc = 0; jc < g.n; jc += blocking.nc) {
    const std::size_t nc = std::min(blocking.nc, g.n - jc);
    for (std::size_t pc = 0; pc < g.k; pc += blocking.kc) {
      const std::size_t kc = std::min(blocking.kc, g.k - pc);
      Epilogue<T> e{
          g.alpha,     pc == 0 ? g.beta : T(1), pc != 0 || g.beta != T(0), pc + kc == g.k, nullptr,
          g.activation};
      if (blocking.pack_b) {
        for (std::size_t jr = 0; jr < nc; jr += nr) {
          PackBPanel(g, pc, jc + jr, kc, std::min(nr, nc - jr), nr, packed_b + jr * kc);
        }
      } else if (nc % nr != 0) {
        const std::size_t jr = nc - nc % nr;
        PackBPanel(g, pc, jc + jr, kc, nc - jr, nr, tail_b);
      }
      for (std::size_t ic = 0; ic < g.m; ic += blocking.mc) {
        const std::size_t mc = std::min(blocking.mc, g.m - ic);
        if (blocking.pack_a) PackABlock(g, ic, pc, mc, kc, packed_a);
        for (std::size_t jr = 0; jr < nc; jr += nr) {
          const std::size_t cols = std::min(nr, nc - jr);
          const T* b = nullptr;
          std::size_t b_rs = nr;
          if (blocking.pack_b) {
            b = packed_b + jr * kc;
          } else if (cols < nr) {
            b = tail_b;
          } else {
            b = g.b + pc * g.ldb + jc + jr;
            b_rs = g.ldb;
          }
          e.bias = g.bias && e.last ? g.bias + jc + jr : nullptr;
          T* c = g.c + ic * g.ldc + jc + jr;
          for (std::size_t ir = 0; ir < mc; ir += kMR) {
            const std::size_t rows = std::min(kMR, mc - ir);
            if (blocking.pack_a) {
              RunTile(rows, kc, packed_a + ir * kc, 1, kMR, b, b_rs, c + ir * g.ldc, g.ldc, cols,
                      e);
            } else {
              RunTile(rows, kc, g.a + (ic + ir) * a_rs + pc * a_cs, a_rs, a_cs, b, b_rs,
                      c + ir * g.ldc, g.ldc, cols, e);
            }
          }
        }
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#endif  // SIMDIFF_LIB_HIGHWAY_GEMM_INL_H_
