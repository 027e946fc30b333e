// The xsimd kernels for AVX-512 at xsimd's avx512bw level (F, CD, DQ, BW; the target named
// "avx512bw"), compiled with -mavx512f -mavx512cd -mavx512dq -mavx512bw -mavx512vl
// (cmake/xsimd_backend.cmake); xsimd_backend.cc requires all five at run time. The instantiation
// uses xsimd's avx512dq architecture: the kernels need no 8- or 16-bit integer lanes, and xsimd
// 8.1's avx512bw integer shifts do not compile without optimisation under GCC (they cast a batch
// straight to __v32hi inside GCC's -O0 intrinsic macros). avx512dq still needs -mavx512bw: xsimd
// 8.1 declares the avx512cd/avx512dq registers only when AVX512BW is enabled. This file holds
// nothing but the instantiation: see the one-definition note at the top of xsimd_kernels.h.

// GCC 12's own avx512fintrin.h self-initialises the placeholder of _mm512_undefined_pd/ps/epi32
// and then warns, wherever xsimd's intrinsics are inlined, that it "is used uninitialized" (GCC
// bug 105593). Including the intrinsics first, with those warnings off for their lines only, keeps
// the warnings on for everything else.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>
#pragma GCC diagnostic pop
#endif

#include "lib/xsimd/xsimd_kernels.h"
#include "lib/xsimd/xsimd_loss_kernels.h"

namespace simdiff::detail::xsimd_backend {

template ArchKernels MakeArchKernels(xsimd::avx512dq);

}  // namespace simdiff::detail::xsimd_backend
