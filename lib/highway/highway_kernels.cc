// The Highway backend: compiles the kernels of rowwise-inl.h, elementwise-inl.h and
// loss_kernels-inl.h for every attainable target and returns one kernel table per target that
// this CPU runs.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "lib/highway/highway_kernels.cc"
// Also generate the targets below the compiler's baseline (SSSE3, SSE4, EMU128), so that tests and
// benchmarks can run every one of them.
#ifndef HWY_COMPILE_ALL_ATTAINABLE
#define HWY_COMPILE_ALL_ATTAINABLE
#endif
#include "hwy/foreach_target.h"  // IWYU pragma: keep

#include "hwy/highway.h"
#include "lib/highway/elementwise-inl.h"
#include "lib/highway/loss_kernels-inl.h"
#include "lib/highway/rowwise-inl.h"
#include "lib/kernel_table.h"

HWY_BEFORE_NAMESPACE();
namespace simdiff {
namespace HWY_NAMESPACE {

template <class T>
detail::TypedKernels<T> TypedTable() {
  return {&RowMaxKernel<T>,
          &RowArgmaxKernel<T>,
          &LogSumExpKernel<T>,
          &SoftmaxKernel<T>,
          &LogSoftmaxKernel<T>,
          &SoftmaxBackwardKernel<T>,
          &LogSoftmaxBackwardKernel<T>,
          &LogSumExpBackwardKernel<T>,
          &ExpKernel<T>,
          &LogKernel<T>,
          &Log1pKernel<T>,
          &SigmoidKernel<T>,
          &SoftplusKernel<T>,
          &LogSigmoidKernel<T>,
          &SparseSoftmaxCrossEntropyKernel<T>,
          &SoftmaxCrossEntropyKernel<T>,
          &SigmoidCrossEntropyKernel<T>,
          &CountGreaterKernel<T>,
          &TanhKernel<T>,
          &SqrtKernel<T>};
}

detail::KernelTable MakeKernelTable() {
  return {hwy::TargetName(HWY_TARGET), TypedTable<float>(), TypedTable<double>()};
}

}  // namespace HWY_NAMESPACE
}  // namespace simdiff
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
#include "lib/highway/per_target_tables.h"

namespace simdiff::detail {

HWY_EXPORT(MakeKernelTable);

std::vector<KernelTable> highway_kernel_tables() {
  return per_target_tables<KernelTable>([] { return HWY_DYNAMIC_DISPATCH(MakeKernelTable)(); });
}

}  // namespace simdiff::detail
#endif  // HWY_ONCE
