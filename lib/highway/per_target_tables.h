// One table of kernel entry points per Highway target this CPU runs, best first, for the entry
// files that compile kernels for every target (highway_kernels.cc, highway_gemm.cc,
// lib/optimizers/highway_optimizer_kernels.cc). Included after their HWY_ONCE guard.
#pragma once

#include <cstdint>
#include <vector>

#include "hwy/highway.h"

namespace simdiff::detail {

/// make() is a lambda around HWY_DYNAMIC_DISPATCH(MakeTable)(). HWY_DYNAMIC_DISPATCH picks the
/// best target allowed, so allowing one target at a time yields that target's table; the list is
/// best first (lower target bits are better). Restores Highway's own target choice afterwards.
template <class Table, class Make>
std::vector<Table> per_target_tables(const Make& make) {
  std::vector<Table> tables;
  for (const std::int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    tables.push_back(make());
  }
  hwy::SetSupportedTargetsForTest(0);
  return tables;
}

}  // namespace simdiff::detail
