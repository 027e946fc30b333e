// The Highway GEMM kernels (gemm-inl.h) for every attainable target, one GemmTable per target this
// CPU runs, in the order and with the names of highway_kernel_tables().
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/highway/highway_gemm.cc"
// Also the targets below the compiler's baseline, so that tests can run every one of them.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/gemm/gemm_kernels.h"
#include "lib/highway/gemm-inl.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {

detail::GemmTable MakeGemmTable() {
  return {hwy::TargetName(HWY_TARGET),
          {&GemmWorkspaceElements<float>, &GemmKernel<float>},
          {&GemmWorkspaceElements<double>, &GemmKernel<double>}};
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/highway/per_target_tables.h"

namespace simdiff::detail {

HWY_EXPORT(MakeGemmTable);

std::vector<GemmTable> highway_gemm_tables() {
  return per_target_tables<GemmTable>([] { return HWY_DYNAMIC_DISPATCH(MakeGemmTable)(); });
}

}  // namespace simdiff::detail
#endif  // HWY_ONCE
