// Public element-wise functions: argument checks, then calls into the selected kernel table, on
// contiguous ranges of elements split over threads above a size threshold (lib/threads/chunks.h).
#include "simdiff/elementwise.h"

#include <stdexcept>
#include <string>

#include "argument_checks.h"
#include "kernel_table.h"
#include "lib/threads/chunks.h"

namespace simdiff {
namespace {

template <class T>
void elementwise(const char* function, std::span<const T> x, std::span<T> y,
                 void (*kernel)(const T*, T*, std::size_t)) {
  if (y.size() != x.size()) {
    throw std::invalid_argument(std::string(function) + ": y has " + std::to_string(y.size()) +
                                " elements; expected the " + std::to_string(x.size()) +
                                " elements of x");
  }
  detail::check_overlap(function, "y", y, y.size(), "x", x, x.size(),
                        detail::Aliasing::in_place_allowed);
  detail::parallel_elements(x.size(), sizeof(T), detail::kElementwiseSplit,
                            [&](std::size_t begin, std::size_t end) {
                              kernel(x.data() + begin, y.data() + begin, end - begin);
                            });
}

}  // namespace

#define SIMDIFF_ELEMENTWISE_FOR(T, name)                                \
  void name(std::span<const T> x, std::span<T> y) {                     \
    elementwise<T>(#name, x, y, detail::active_kernels().of<T>().name); \
  }
#define SIMDIFF_ELEMENTWISE(name)      \
  SIMDIFF_ELEMENTWISE_FOR(float, name) \
  SIMDIFF_ELEMENTWISE_FOR(double, name)

SIMDIFF_ELEMENTWISE(exp)
SIMDIFF_ELEMENTWISE(log)
SIMDIFF_ELEMENTWISE(log1p)
SIMDIFF_ELEMENTWISE(sigmoid)
SIMDIFF_ELEMENTWISE(softplus)
SIMDIFF_ELEMENTWISE(log_sigmoid)
#undef SIMDIFF_ELEMENTWISE
#undef SIMDIFF_ELEMENTWISE_FOR

}  // namespace simdiff
