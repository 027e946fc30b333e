// The per-sample part of every loss. Each function computes the unweighted loss of every row and,
// when `grad` is not nullptr, the gradient of sum_r scale[r] * loss[r] with respect to y_pred, in
// one sweep over the rows. The caller (lib/losses/loss.cc) has validated every argument and turns
// the per-row losses into the reduced loss; `scale[r]` is the weight of row r times
// d(reduction) / d(weighted loss of row r), so the gradient written is that of the reduced loss.
//
// The logits paths of the binary, categorical and sparse cross-entropies call the fused kernels
// of the selected backend (lib/kernel_table.h); the other paths are loops written once for both
// element types.
#pragma once

#include <cstddef>
#include <cstdint>

#include "simdiff/losses.h"

namespace simdiff::detail {

/// One batch, validated. Matrices are [rows x cols] with row stride `stride`.
template <class T>
struct LossRows {
  const T* y_true;             ///< targets (shape of y_pred); nullptr for the sparse loss
  const std::int64_t* labels;  ///< sparse loss: class of each row, -1 for an ignored row
  const T* y_pred;             ///< probabilities or logits
  const T* scale;              ///< rows entries; nullptr when no gradient is wanted
  T* loss;                     ///< out: rows unweighted per-sample losses
  T* grad;                     ///< out: d(sum_r scale[r] loss[r]) / d(y_pred), or nullptr
  std::size_t rows;
  std::size_t cols;
  std::size_t stride;
};

template <class T>
void binary_crossentropy_rows(const BinaryCrossentropy& options, const LossRows<T>& batch);
template <class T>
void categorical_crossentropy_rows(const CategoricalCrossentropy& options,
                                   const LossRows<T>& batch);
template <class T>
void sparse_categorical_crossentropy_rows(const SparseCategoricalCrossentropy& options,
                                          const LossRows<T>& batch);
template <class T>
void binary_focal_crossentropy_rows(const BinaryFocalCrossentropy& options,
                                    const LossRows<T>& batch);
template <class T>
void categorical_focal_crossentropy_rows(const CategoricalFocalCrossentropy& options,
                                         const LossRows<T>& batch);
template <class T>
void mean_squared_error_rows(const LossRows<T>& batch);
template <class T>
void mean_absolute_error_rows(const LossRows<T>& batch);

}  // namespace simdiff::detail
