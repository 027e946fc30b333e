// The xsimd kernels for AArch64 NEON (part of the base architecture: no extra flags). This file
// holds nothing but the instantiation: see the one-definition note at the top of xsimd_kernels.h.
#include "lib/xsimd/xsimd_kernels.h"
#include "lib/xsimd/xsimd_loss_kernels.h"

namespace simdiff::detail::xsimd_backend {

template ArchKernels MakeArchKernels(xsimd::neon64);

}  // namespace simdiff::detail::xsimd_backend
