// The xsimd backend: one kernel table per xsimd architecture that this CPU runs, best first. The
// kernels are instantiated by the per-architecture files (xsimd_sse4_2.cc, ...); this file is
// compiled with the baseline flags and only picks among them.
#include <vector>
#include <xsimd/xsimd.hpp>

#include "lib/kernel_table.h"
#include "lib/xsimd/xsimd_kernels.h"

namespace simdiff::detail {
namespace {

void add_table(std::vector<KernelTable>& tables, const char* target,
               const xsimd_backend::ArchKernels& kernels) {
  tables.push_back(KernelTable{target, kernels.f32, kernels.f64});
}

}  // namespace

std::vector<KernelTable> xsimd_kernel_tables() {
  std::vector<KernelTable> tables;
  const auto cpu = xsimd::available_architectures();
#if defined(__x86_64__) || defined(_M_X64)
  // xsimd 8.1 reads the CPUID feature bits only; it does not ask (XGETBV) whether the operating
  // system saves the AVX and AVX-512 registers. __builtin_cpu_supports checks both, so an
  // architecture is offered only when both agree. Each test names every -m flag of its file.
  __builtin_cpu_init();
  if (cpu.avx512f && cpu.avx512cd && cpu.avx512dq && cpu.avx512bw &&
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vl")) {
    // xsimd's avx512dq architecture at the avx512bw level: see xsimd_avx512bw.cc.
    add_table(tables, "avx512bw", xsimd_backend::MakeArchKernels(xsimd::avx512dq{}));
  }
  if (cpu.fma3_avx2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    add_table(tables, "avx2+fma", xsimd_backend::MakeArchKernels(xsimd::fma3<xsimd::avx2>{}));
  }
  if (cpu.sse4_2 && __builtin_cpu_supports("sse4.2")) {
    add_table(tables, "sse4.2", xsimd_backend::MakeArchKernels(xsimd::sse4_2{}));
  }
#elif defined(__aarch64__) || defined(_M_ARM64)
  // NEON is part of the AArch64 base architecture.
  if (cpu.neon64) add_table(tables, "neon64", xsimd_backend::MakeArchKernels(xsimd::neon64{}));
#endif
  return tables;
}

}  // namespace simdiff::detail
