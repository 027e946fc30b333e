// Losses with Keras 3 semantics: the same constructor arguments, defaults, formulas and
// reductions, so that a model trained with simdiff reports the numbers Keras reports.
//
//   simdiff::Loss loss = simdiff::SparseCategoricalCrossentropy{.from_logits = true};
//   double value = loss({.y_true = labels, .y_pred = logits, .shape = {batch, classes}});
//   double same = loss.value_and_grad({.y_true = labels, .y_pred = logits, .shape = {batch,
//   classes}},
//                                     gradient);  // d value / d logits, written in one sweep
//   simdiff::Loss by_name = simdiff::Loss::from_name("binary_crossentropy");
//
// Shapes: `y_pred` is a row-major `[batch x classes]` matrix (classes last, Keras' axis=-1), given
// by `shape` (MatrixShape: rows = batch, cols = classes, optional stride). `y_true` has the same
// shape, except for SparseCategoricalCrossentropy, whose `y_true` holds `batch` integer class
// labels (stored as floating-point values, as Keras tensors do). Per-sample losses are the mean
// (binary, MSE, MAE) or sum (categorical) over the classes axis.
//
// Errors: std::invalid_argument naming the argument, the sample index and the value, for a label
// outside [0, classes) that is not ignore_class, a NaN or non-integer label, mismatched sizes, a
// sample_weight of the wrong length, negative or non-finite weights, label_smoothing outside
// [0, 1], alpha or gamma out of range, and class_weight given together with sample_weight. NaN in
// y_pred propagates to the loss and gradient.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <variant>
#include <vector>

#include "simdiff/matrix_shape.h"

namespace simdiff {

/// How per-sample losses are combined (Keras 3's names and rules).
enum class Reduction {
  sum_over_batch_size,  ///< sum of weighted per-sample losses / number of samples (Keras' default)
  sum,                  ///< sum of weighted per-sample losses
  none,                 ///< the weighted per-sample losses themselves
  mean_with_sample_weight  ///< sum of weighted per-sample losses / sum of weights (0 if that is 0)
};

/// Keras' `class_weight`: the weight of each class index; classes absent from the map weigh 1.
/// A sample's class is the argmax of a one-hot (multi-column) target, the rounded target of a
/// single-column one (half to even, as numpy), or the integer label.
using ClassWeight = std::map<std::int64_t, double>;

/// `eps` of Keras (keras.backend.epsilon()): probabilities are clipped to [eps, 1 - eps].
inline constexpr double kKerasEpsilon = 1e-7;

/// -(y ln p + (1 - y) ln(1 - p)) averaged over classes, p clipped to [eps, 1 - eps]; from logits
/// max(x, 0) - x y + log1p(exp(-|x|)). Smoothing: y (1 - ls) + ls / 2.
struct BinaryCrossentropy {
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// -sum_c y_c ln p_c with p divided by its row sum then clipped; from logits
/// logsumexp(x) sum_c y_c - sum_c y_c x_c (soft targets allowed). Smoothing: y (1 - ls) + ls / C.
struct CategoricalCrossentropy {
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Categorical cross-entropy against integer labels. A sample whose label equals `ignore_class`
/// contributes nothing and is left out of the mean's count. Smoothing: (1 - ls) CE(label) +
/// ls CE(uniform).
struct SparseCategoricalCrossentropy {
  bool from_logits = false;
  std::optional<std::int64_t> ignore_class = std::nullopt;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Keras 3's binary focal cross-entropy: (1 - p_t)^gamma BCE, p_t = y p + (1 - y)(1 - p), with
/// the class-balancing weight alpha y + (1 - alpha)(1 - y) when apply_class_balancing.
struct BinaryFocalCrossentropy {
  bool apply_class_balancing = false;
  double alpha = 0.25;
  double gamma = 2;
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Keras 3's categorical focal cross-entropy: -sum_c alpha (1 - p_c)^gamma y_c ln p_c, p
/// normalised and clipped (softmax first when from_logits).
struct CategoricalFocalCrossentropy {
  double alpha = 0.25;
  double gamma = 2;
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// mean_c (y - p)^2.
struct MeanSquaredError {
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// mean_c |y - p|.
struct MeanAbsoluteError {
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// One evaluation's inputs. Spans are not owned: they must stay valid for the call.
template <class T>
struct LossInput {
  std::span<const T> y_true;  ///< [batch x classes], or [batch] labels for the sparse loss
  std::span<const T> y_pred;  ///< [batch x classes] probabilities or logits
  MatrixShape shape;          ///< of y_pred (rows = batch, cols = classes)
  std::span<const T> sample_weight = {};      ///< [batch] non-negative finite weights, or empty
  const ClassWeight* class_weight = nullptr;  ///< Keras' class_weight, or nullptr
};

/// A loss of any kind: built implicitly from one of the structs above or by Keras name.
class Loss {
 public:
  using Config = std::variant<BinaryCrossentropy, CategoricalCrossentropy,
                              SparseCategoricalCrossentropy, BinaryFocalCrossentropy,
                              CategoricalFocalCrossentropy, MeanSquaredError, MeanAbsoluteError>;

  /// Validates the arguments (label_smoothing in [0, 1], alpha in [0, 1], gamma >= 0, finite).
  Loss(Config config);  // NOLINT(google-explicit-constructor): Loss l = BinaryCrossentropy{};

  /// By Keras name: "binary_crossentropy", "categorical_crossentropy",
  /// "sparse_categorical_crossentropy", "binary_focal_crossentropy",
  /// "categorical_focal_crossentropy", "mean_squared_error" / "mse", "mean_absolute_error" /
  /// "mae", with default arguments. Throws std::invalid_argument listing the names otherwise.
  static Loss from_name(std::string_view name);

  /// The Keras name, e.g. "binary_crossentropy".
  [[nodiscard]] std::string_view name() const noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] Reduction reduction() const noexcept;

  /// The reduced loss. With Reduction::none, the sum of the per-sample losses (see per_sample).
  [[nodiscard]] double operator()(const LossInput<float>& input) const;
  [[nodiscard]] double operator()(const LossInput<double>& input) const;

  /// The reduced loss, and its gradient with respect to y_pred (logits when from_logits) written
  /// to `grad` (the shape of y_pred; elements between cols and stride untouched), in one call.
  /// The gradient is what automatic differentiation of the Keras formula gives (zero where the
  /// probability clip is active). With Reduction::none, the gradient of the sum.
  double value_and_grad(const LossInput<float>& input, std::span<float> grad) const;
  double value_and_grad(const LossInput<double>& input, std::span<double> grad) const;

  /// The weighted per-sample losses (what Reduction::none returns in Keras), `batch` values.
  void per_sample(const LossInput<float>& input, std::span<float> out) const;
  void per_sample(const LossInput<double>& input, std::span<double> out) const;

 private:
  Config config_;
};

/// Keras' functional forms (keras.losses.binary_crossentropy(...)): per-sample losses, unweighted.
void binary_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                         MatrixShape shape, std::span<float> out, BinaryCrossentropy options = {});
void categorical_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                              MatrixShape shape, std::span<float> out,
                              CategoricalCrossentropy options = {});
void sparse_categorical_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                                     MatrixShape shape, std::span<float> out,
                                     SparseCategoricalCrossentropy options = {});

/// Keras' class_weight_to_sample_weights: one weight per sample from the targets (`y_true` of a
/// dense loss, [batch x cols] with cols = shape.cols, or labels when `sparse`).
std::vector<double> class_weight_to_sample_weight(std::span<const double> y_true, MatrixShape shape,
                                                  bool sparse, const ClassWeight& class_weight);

}  // namespace simdiff
