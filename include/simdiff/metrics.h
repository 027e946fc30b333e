// Keras 3 accuracy metrics as stateful weighted means: `update` with a batch, `result` for the
// weighted mean of everything seen since the last `reset` (0 before any weight was seen).
//
//   simdiff::Metric accuracy = simdiff::Metric::from_name("accuracy");  // resolved at first update
//   accuracy.update({.y_true = labels, .y_pred = probabilities, .shape = {batch, classes}});
//   double value = accuracy.result();
//
// Shapes as in <simdiff/losses.h>: `y_pred` is a row-major [batch x classes] matrix given by
// `shape` (rows = batch, cols = classes, optional stride), of at least `(rows - 1) * stride +
// cols` and at most `rows * stride` elements (the last row may keep its padding). The dense
// metrics (binary, categorical, top-k) read a `y_true` of that same shape and stride; the sparse
// ones read exactly `batch` integer class labels (stored as floating-point values, as Keras
// tensors do; a [batch x 1] column of labels is the same buffer). `sample_weight` is empty or
// holds exactly `batch` weights. Keras' broadcasting of mismatched shapes is not reproduced.
//
// Keras semantics (keras/src/metrics/accuracy_metrics.py, reduction_metrics.py):
// - Each sample has a value in [0, 1]; the state is total += sum(value * weight) and
//   count += sum(weight), or count += batch without weights. Both are accumulated in double
//   whatever the element type (Keras accumulates in its float32 variables).
// - Predictions are compared in the element type: the binary threshold is rounded to T first, as
//   Keras casts it to y_pred's dtype.
// - NaN in y_pred: the binary metric predicts 0 for it (NaN > threshold is false); the argmax of
//   a row holding NaN is its first NaN (see row_argmax in <simdiff/rowwise.h>); in the top-k test a
//   NaN target score is never a hit and NaN scores of other classes never outrank the target.
//
// Errors: std::invalid_argument naming the metric, the argument and its value, plus the sample
// index for per-sample values: a sparse label that is NaN, not an integer or outside
// [0, classes) (Keras reports such samples as misses without an error); a buffer of the wrong
// size; a negative or non-finite weight; k == 0, or k larger than the number of classes (k equal
// to it makes every sample with a non-NaN target score a hit); a threshold outside (0, 1). A
// throwing update leaves the metric exactly as it was.
//
// Cost: argmax runs as simdiff::row_argmax and the top-k test as one SIMD counting pass over each
// row; an update allocates no memory.
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
  /// total / count, or 0 when count is 0 (Keras' divide_no_nan).
  [[nodiscard]] double result() const noexcept { return count == 0 ? 0 : total / count; }
};

/// Per sample, the fraction of its columns where (y_pred > threshold) == y_true: the threshold is
/// strict (y_pred == threshold predicts 0) and the comparison exact (a soft target such as 0.5
/// never matches). The threshold must lie in (0, 1).
struct BinaryAccuracy {
  double threshold = 0.5;
};
/// 1 for a sample when argmax(y_pred) == argmax(y_true), else 0; argmax takes the first maximum
/// on ties, for y_true as well.
struct CategoricalAccuracy {};
/// 1 for a sample when argmax(y_pred) == its label, else 0.
struct SparseCategoricalAccuracy {};
/// 1 for a sample when fewer than k classes score strictly more than its target class (the
/// argmax of y_true): ties at the k-th largest score count as hits. Needs 1 <= k <= classes.
struct TopKCategoricalAccuracy {
  std::size_t k = 5;
};
/// As TopKCategoricalAccuracy with integer labels.
struct SparseTopKCategoricalAccuracy {
  std::size_t k = 5;
};

/// One batch for Metric::update. Spans are not owned: they must stay valid for the call.
template <class T>
struct MetricInput {
  std::span<const T> y_true;  ///< the shape of y_pred, or [batch] labels for the sparse metrics
  std::span<const T> y_pred;  ///< [batch x classes] scores
  MatrixShape shape;          ///< of y_pred (rows = batch, cols = classes)
  std::span<const T> sample_weight = {};  ///< [batch] finite weights >= 0, or empty
};

/// A metric of any kind, with its weighted-mean state. A value type: copies carry their state.
class Metric {
 public:
  using Config = std::variant<BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
                              TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy>;

  /// Validates the configuration: a threshold in (0, 1), k >= 1.
  Metric(Config config);  // NOLINT(google-explicit-constructor): Metric m = BinaryAccuracy{};

  /// By Keras name, with default arguments: "binary_accuracy", "categorical_accuracy",
  /// "sparse_categorical_accuracy", "top_k_categorical_accuracy",
  /// "sparse_top_k_categorical_accuracy", and "accuracy" or "acc", whose kind is picked by
  /// resolve_accuracy at the first non-empty update. Throws std::invalid_argument listing the
  /// names otherwise.
  static Metric from_name(std::string_view name);

  /// The metric "accuracy" stands for, from the shapes of a batch (Keras 3's get_metric in
  /// keras/src/trainers/compile_utils.py, with tensors flattened to [rows x classes]):
  /// BinaryAccuracy{} when y_pred has one column (whatever y_true is); else
  /// SparseCategoricalAccuracy when y_true holds one value per row of y_pred (Keras: y_true of
  /// lower rank, or with a last dimension of 1); else CategoricalAccuracy. Keras' rank-1 trap
  /// follows: a rank-1 y_pred of B scores is the shape {1, B}, so it resolves to categorical
  /// accuracy over the batch when B > 1 and to binary accuracy when B == 1.
  [[nodiscard]] static Config resolve_accuracy(std::size_t y_true_size,
                                               MatrixShape y_pred_shape) noexcept;

  /// The name Keras reports: the one given to from_name for "accuracy" and "acc" (also after
  /// resolution), otherwise the metric's Keras name, e.g. "binary_accuracy".
  [[nodiscard]] std::string_view name() const noexcept;

  /// Whether config() says what update computes. False only for a Metric made by
  /// from_name("accuracy") or from_name("acc") before its first non-empty update succeeded;
  /// config() then holds a placeholder. reset() keeps the resolution.
  [[nodiscard]] bool resolved() const noexcept { return resolved_; }
  [[nodiscard]] const Config& config() const noexcept { return config_; }

  /// Adds a batch to the state. An empty batch (rows == 0) changes nothing, not even the
  /// resolution of "accuracy".
  void update(const MetricInput<float>& input);
  void update(const MetricInput<double>& input);

  /// The weighted mean since the last reset; 0 when no weight was seen.
  [[nodiscard]] double result() const noexcept { return state_.result(); }
  [[nodiscard]] const WeightedMean& state() const noexcept { return state_; }
  void reset() noexcept { state_ = {}; }

 private:
  Metric(Config config, std::string_view name, bool resolved);

  Config config_;
  std::string_view name_;  // a string literal
  bool resolved_ = true;
  WeightedMean state_;
};

}  // namespace simdiff
