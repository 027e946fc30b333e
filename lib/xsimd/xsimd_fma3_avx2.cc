// The xsimd kernels for AVX2 with FMA3, compiled with -mavx2 -mfma (cmake/xsimd_backend.cmake).
// This file holds nothing but the instantiation: see the one-definition note at the top of
// xsimd_kernels.h.
#include "lib/xsimd/xsimd_kernels.h"
#include "lib/xsimd/xsimd_loss_kernels.h"

namespace simdiff::detail::xsimd_backend {

template ArchKernels MakeArchKernels(xsimd::fma3<xsimd::avx2>);

}  // namespace simdiff::detail::xsimd_backend
