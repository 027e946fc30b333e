// Per-sample weights and reductions with the rules of Keras 3 (keras/src/losses/loss.py:
// reduce_weighted_values, apply_mask, reduce_values; keras/src/trainers/data_adapters/
// data_adapter_utils.py: class_weight_to_sample_weights). Everything here runs in double on the
// per-sample losses.
//
// With per-sample losses l, weights w (1 when none are given) and the ignore_class mask m:
//   none: l w m; sum: S = sum l w m; sum_over_batch_size: S / B, or S / valid with a mask;
//   mean_with_sample_weight: S / sum w m with weights or a mask, else S / B.
// A divisor of 0 gives 0 (Keras' divide_no_nan), and a zero gradient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "simdiff/losses.h"
#include "simdiff/matrix_shape.h"

namespace simdiff::detail {

/// The weight of every sample in one evaluation.
struct SampleWeighting {
  /// `rows` weights (sample or class weight times the mask), or nullptr: every sample weighs 1.
  const double* weights = nullptr;
  bool weighted = false;  ///< sample_weight or class_weight was given (Keras: not None)
  bool masked = false;    ///< an ignore_class mask applies
  std::size_t rows = 0;
  std::size_t valid = 0;  ///< samples not ignored
  double weight_sum = 0;  ///< sum of the weights

  [[nodiscard]] double weight(std::size_t r) const { return weights == nullptr ? 1 : weights[r]; }
};

/// The weighting of `rows` samples from the (validated) sample_weight, or the class weights of
/// the targets, and the ignore mask of the sparse `labels` (-1: ignored; nullptr: no mask).
/// `storage` holds the weights.
template <class T>
SampleWeighting weigh_samples(const char* loss, const LossInput<T>& input, std::size_t rows,
                              bool sparse, const std::int64_t* labels,
                              std::vector<double>& storage);

/// What the weighted sum of the losses is divided by; 0 gives a reduced loss of 0.
double reduction_divisor(Reduction reduction, const SampleWeighting& weighting);

/// d(reduced loss) / d(weighted loss of a sample): 1 / divisor, 0 when the divisor is 0.
double reduction_factor(Reduction reduction, const SampleWeighting& weighting);

/// The reduced loss of the unweighted per-sample `losses`; Reduction::none gives their weighted
/// sum.
template <class T>
double reduce_losses(Reduction reduction, const SampleWeighting& weighting, const T* losses);

/// Keras' class of each sample (argmax of a multi-column target, round-half-to-even of a single
/// column or a label) looked up in `class_weight` (1 when absent), written to `out` (rows).
/// `function` names the caller in error messages.
template <class T>
void class_weights_of_samples(const char* function, std::span<const T> y_true, MatrixShape shape,
                              bool sparse, const ClassWeight& class_weight, double* out);

}  // namespace simdiff::detail
