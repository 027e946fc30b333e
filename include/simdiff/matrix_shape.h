// Shape of a row-major matrix view, shared by every row-wise primitive.
#pragma once

#include <cstddef>

namespace simdiff {

/// A row-major `[rows x cols]` matrix inside a flat buffer: row `r` occupies the elements
/// `[r * stride, r * stride + cols)`. `stride == 0` means a dense matrix (`stride == cols`).
/// Functions that take a shape throw `std::invalid_argument` when `cols == 0`, when a non-zero
/// `stride` is smaller than `cols`, when `(rows - 1) * stride + cols` overflows `std::size_t`,
/// or when a buffer is shorter than that extent. `rows == 0` is an empty batch and does nothing.
struct MatrixShape {
  std::size_t rows = 0;
  std::size_t cols = 0;
  std::size_t stride = 0;

  /// The distance between row starts, with the dense default applied.
  [[nodiscard]] constexpr std::size_t row_stride() const noexcept {
    return stride == 0 ? cols : stride;
  }
};

}  // namespace simdiff
