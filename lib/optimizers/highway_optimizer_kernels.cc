// The Highway optimizer kernels (lib/highway/optimizer_kernels-inl.h) for every attainable
// target; one table per target this CPU runs, best first, as lib/highway/highway_kernels.cc does
// for the other kernels.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/optimizers/highway_optimizer_kernels.cc"
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/highway/optimizer_kernels-inl.h"
#include "lib/optimizers/optimizer_kernels.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {

detail::OptimizerKernels MakeOptimizerKernels() {
  return {hwy::TargetName(HWY_TARGET), &SgdKernel,   &RmspropKernel, &AdamKernel,
          &SumSquaresKernel,           &ScaleKernel, &ClipKernel,    &DecayKernel};
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/highway/per_target_tables.h"

namespace simdiff::detail {

HWY_EXPORT(MakeOptimizerKernels);

std::vector<OptimizerKernels> highway_optimizer_kernels() {
  return per_target_tables<OptimizerKernels>(
      [] { return HWY_DYNAMIC_DISPATCH(MakeOptimizerKernels)(); });
}

}  // namespace simdiff::detail
#endif  // HWY_ONCE
