// The scalar backend's fused loss kernels (contracts: lib/kernel_table.h). Declared here because
// the SIMD backends reuse them for the kernels they do not implement themselves.
#pragma once

#include <cstddef>
#include <cstdint>

namespace simdiff::detail::scalar {

template <class T>
void sparse_softmax_cross_entropy(const T* x, const std::int64_t* labels, const T* scale,
                                  T smoothing, T* loss, T* grad, std::size_t rows, std::size_t cols,
                                  std::size_t stride);
template <class T>
void softmax_cross_entropy(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                           T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
template <class T>
void sigmoid_cross_entropy(const T* x, const T* targets, const T* scale, T smoothing, T* loss,
                           T* grad, std::size_t rows, std::size_t cols, std::size_t stride);
template <class T>
void count_greater(const T* x, const T* threshold, std::size_t* counts, std::size_t rows,
                   std::size_t cols, std::size_t stride);

}  // namespace simdiff::detail::scalar
