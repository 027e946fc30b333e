// Per-thread working memory of the losses. A training loop calls a loss once per step with the
// same batch shape; the vectors keep their capacity, so after the first call nothing allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace simdiff::detail {

template <class T>
struct TypedLossScratch {
  std::vector<T> losses;  ///< unweighted per-sample losses, from the row functions
  std::vector<T> scales;  ///< per-row gradient scales handed to the row functions
};

struct LossScratch {
  std::vector<double> weights;       ///< per-sample weight times the ignore_class mask
  std::vector<std::int64_t> labels;  ///< sparse labels, -1 for ignored rows
  std::vector<double> row;           ///< per-class temporaries of one row (focal losses)
  TypedLossScratch<float> f32;
  TypedLossScratch<double> f64;

  template <class T>
  TypedLossScratch<T>& of() noexcept {
    if constexpr (sizeof(T) == sizeof(float)) {
      return f32;
    } else {
      return f64;
    }
  }
};

/// This thread's scratch. Row functions may use `row`; the evaluation in loss.cc owns the rest.
LossScratch& loss_scratch();

/// `buffer` resized to `size` (growing its capacity only when a larger batch arrives).
template <class T>
T* sized(std::vector<T>& buffer, std::size_t size) {
  if (buffer.size() < size) buffer.resize(size);
  return buffer.data();
}

}  // namespace simdiff::detail
