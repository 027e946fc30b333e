// Checks of user arguments at the public boundary; each failure throws std::invalid_argument with
// a message naming the function, the argument, its value and what was expected.
#pragma once

#include <cstddef>
#include <span>

#include "simdiff/matrix_shape.h"

namespace simdiff::detail {

/// Validates `shape` and returns the number of elements a buffer of that shape spans,
/// `(rows - 1) * stride + cols` (0 when rows == 0).
std::size_t checked_extent(const char* function, MatrixShape shape);

/// Throws unless `size >= needed`.
void check_size(const char* function, const char* argument, std::size_t size, std::size_t needed);

enum class Aliasing { in_place_allowed, disjoint_only };

/// Throws if the first `out_count` elements of `out` overlap the first `in_count` of `in`, except
/// when `aliasing` allows the two to start at the same address (in-place use).
void check_overlap_bytes(const char* function, const char* output, const void* out_begin,
                         std::size_t out_bytes, const char* input, const void* in_begin,
                         std::size_t in_bytes, Aliasing aliasing);

template <class Out, class In>
void check_overlap(const char* function, const char* output, std::span<Out> out,
                   std::size_t out_count, const char* input, std::span<In> in, std::size_t in_count,
                   Aliasing aliasing) {
  check_overlap_bytes(function, output, out.data(), out_count * sizeof(Out), input, in.data(),
                      in_count * sizeof(In), aliasing);
}

}  // namespace simdiff::detail
