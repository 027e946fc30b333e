// Built instead of the xsimd backend when SIMDIFF_WITH_XSIMD is off: the backend has no targets.
#include "lib/kernel_table.h"

namespace simdiff::detail {

std::vector<KernelTable> xsimd_kernel_tables() { return {}; }

}  // namespace simdiff::detail
