// The xsimd kernels for SSE4.2, compiled with -msse4.2 (cmake/xsimd_backend.cmake). This file holds
// nothing but the instantiation: see the one-definition note at the top of xsimd_kernels.h.
#include "lib/xsimd/xsimd_kernels.h"
#include "lib/xsimd/xsimd_loss_kernels.h"

namespace simdiff::detail::xsimd_backend {

template ArchKernels MakeArchKernels(xsimd::sse4_2);

}  // namespace simdiff::detail::xsimd_backend
