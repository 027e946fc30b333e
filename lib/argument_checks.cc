#include "argument_checks.h"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace simdiff::detail {

std::size_t checked_extent(const char* function, MatrixShape shape) {
  if (shape.cols == 0) {
    throw std::invalid_argument(std::string(function) + ": " +
                                "shape.cols is 0; expected at least 1 column");
  }
  if (shape.stride != 0 && shape.stride < shape.cols) {
    throw std::invalid_argument(std::string(function) + ": " + "shape.stride " +
                                std::to_string(shape.stride) + " is smaller than shape.cols " +
                                std::to_string(shape.cols) +
                                "; expected stride >= cols (or 0 for dense rows)");
  }
  if (shape.rows == 0) return 0;
  const std::size_t stride = shape.row_stride();
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  // Elements are addressed through byte pointers: keep the extent below SIZE_MAX / 8.
  const std::size_t limit = kMax / sizeof(double);
  if (shape.rows - 1 > (limit - shape.cols) / stride) {
    throw std::invalid_argument(std::string(function) + ": " + "shape rows " +
                                std::to_string(shape.rows) + " x stride " + std::to_string(stride) +
                                " + cols " + std::to_string(shape.cols) +
                                " overflows the addressable size");
  }
  return (shape.rows - 1) * stride + shape.cols;
}

void check_size(const char* function, const char* argument, std::size_t size, std::size_t needed) {
  if (size < needed) {
    throw std::invalid_argument(std::string(function) + ": " + argument + " has " +
                                std::to_string(size) + " elements; the shape needs at least " +
                                std::to_string(needed));
  }
}

void check_overlap_bytes(const char* function, const char* output, const void* out_begin,
                         std::size_t out_bytes, const char* input, const void* in_begin,
                         std::size_t in_bytes, Aliasing aliasing) {
  const auto out = reinterpret_cast<std::uintptr_t>(out_begin);
  const auto in = reinterpret_cast<std::uintptr_t>(in_begin);
  if (out_bytes == 0 || in_bytes == 0) return;
  if (out == in && aliasing == Aliasing::in_place_allowed) return;
  if (out < in + in_bytes && in < out + out_bytes) {
    throw std::invalid_argument(
        std::string(function) + ": " + output + " overlaps " + input +
        (aliasing == Aliasing::in_place_allowed
             ? " without being the same buffer; expected the same buffer or disjoint ones"
             : "; expected disjoint buffers"));
  }
}

}  // namespace simdiff::detail
