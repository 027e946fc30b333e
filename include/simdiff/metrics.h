// Keras 3 accuracy metrics as stateful weighted means: `update` with a batch, `result` for the
// weighted mean of everything seen since the last `reset` (0 before any weight was seen).
//
//   simdiff::Metric accuracy = simdiff::Metric::from_name("accuracy");  // resolved at first update
//   accuracy.update({.y_true = labels, .y_pred = probabilities, .shape = {batch, classes}});
//   double value = accuracy.result();
//
// Shapes as in <simdiff/losses.h>: y_pred is [batch x classes]; y_true has the same shape, or
// holds `batch` integer labels for the sparse metrics. Errors: std::invalid_argument naming the
// argument, sample index and value (bad label, wrong sizes, negative or non-finite weight,
// k larger than the class count, threshold outside (0, 1)).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>
#include <variant>

#include "simdiff/matrix_shape.h"

namespace simdiff {

/// The running state of a weighted mean: total += sum(value * weight), count += sum(weight)
/// (the batch size without weights).
struct WeightedMean {
  double total = 0;
  double count = 0;
  [[nodiscard]] double result() const noexcept { return count == 0 ? 0 : total / count; }
};

/// Fraction of entries where (y_pred > threshold) == y_true (strict threshold, exact equality).
struct BinaryAccuracy {
  double threshold = 0.5;
};
/// Fraction of samples where argmax(y_pred) == argmax(y_true) (first maximum on ties).
struct CategoricalAccuracy {};
/// Fraction of samples where argmax(y_pred) == label.
struct SparseCategoricalAccuracy {};
/// Fraction of samples whose target class (argmax of y_true) scores at least the k-th largest
/// prediction of its row (ties at the boundary count as hits).
struct TopKCategoricalAccuracy {
  std::size_t k = 5;
};
/// As TopKCategoricalAccuracy with integer labels.
struct SparseTopKCategoricalAccuracy {
  std::size_t k = 5;
};

/// One batch for Metric::update. Spans are not owned.
template <class T>
struct MetricInput {
  std::span<const T> y_true;
  std::span<const T> y_pred;
  MatrixShape shape;  ///< of y_pred
  std::span<const T> sample_weight = {};
};

/// A metric of any kind, with its weighted-mean state.
class Metric {
 public:
  using Config = std::variant<BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                              TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy>;

  Metric(Config config);  // NOLINT(google-explicit-constructor): Metric m = BinaryAccuracy{};

  /// By Keras name: "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
  /// "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", and "accuracy"/"acc",
  /// which is resolved at the first update from the shapes as Keras 3 does: binary when y_pred
  /// has one column, sparse when y_true holds one label per sample and y_pred several columns,
  /// categorical otherwise.
  static Metric from_name(std::string_view name);

  [[nodiscard]] std::string_view name() const noexcept;
  /// The concrete metric (after resolution of "accuracy"; before it, std::nullopt-like: empty
  /// optional is modelled by `resolved() == false`).
  [[nodiscard]] bool resolved() const noexcept { return resolved_; }
  [[nodiscard]] const Config& config() const noexcept { return config_; }

  void update(const MetricInput<float>& input);
  void update(const MetricInput<double>& input);
  [[nodiscard]] double result() const noexcept { return state_.result(); }
  [[nodiscard]] const WeightedMean& state() const noexcept { return state_; }
  void reset() noexcept { state_ = {}; }

 private:
  Config config_;
  bool resolved_ = true;
  WeightedMean state_;
};

}  // namespace simdiff
