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
// shape and stride, except for SparseCategoricalCrossentropy, whose `y_true` holds `batch` integer
// class labels (stored as floating-point values, as Keras tensors do). Per-sample losses are the
// mean (binary, MSE, MAE) or sum (categorical) over the classes axis. A matrix buffer holds at
// least the elements the shape spans, `(rows - 1) * stride + cols`, and at most `rows * stride`.
//
// Arithmetic: element-wise steps (label smoothing, the probability clip, 1 - p, p / sum(p), the
// sigmoid of the focal loss) run in the element type T, as Keras runs them in the tensor dtype;
// logarithms, powers and sums run in double. The float results therefore follow Keras' float32
// results where the two types differ materially (the clip bound 1 - eps is 0.99999988 in float).
// Reductions and weights are applied in double to the per-sample losses.
//
// Errors: std::invalid_argument naming the argument, the sample index and the value, for a label
// outside [0, classes) that is not ignore_class, a NaN or non-integer label, mismatched sizes, a
// sample_weight of the wrong length, negative or non-finite weights (sample_weight and
// class_weight), label_smoothing outside [0, 1], alpha outside [0, 1], gamma negative or not
// finite, and class_weight given together with sample_weight. NaN in y_pred propagates to the
// loss and gradient.
//
// Thread safety: a Loss is immutable; concurrent calls are safe. Each thread keeps a small
// scratch buffer, so repeated calls do not allocate once they have seen their largest batch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "simdiff/matrix_shape.h"

namespace simdiff {

namespace detail {
/// Whether T is one of the alternatives of the variant V.
template <class T, class V>
inline constexpr bool is_alternative_v = false;
template <class T, class... Alternatives>
inline constexpr bool is_alternative_v<T, std::variant<Alternatives...>> =
    (std::is_same_v<T, Alternatives> || ...);
}  // namespace detail

/// How per-sample losses are combined (Keras 3's names and rules; Keras' "mean" is
/// sum_over_batch_size).
enum class Reduction {
  /// Sum of weighted per-sample losses / number of samples, zero-weight samples included (Keras'
  /// default). With ignore_class, / the number of samples not ignored (0 if there are none).
  sum_over_batch_size,
  sum,   ///< sum of weighted per-sample losses
  none,  ///< the weighted per-sample losses themselves (see Loss::per_sample)
  /// Sum of weighted per-sample losses / sum of the weights (0 if that is 0). Without
  /// sample_weight or class_weight, / number of samples (not ignored, with ignore_class).
  mean_with_sample_weight
};

/// Keras' `class_weight`: the weight of each class index; classes absent from the map weigh 1.
/// A sample's class is the argmax of a one-hot (multi-column) target (first maximum), the rounded
/// target of a single-column one (half to even, as numpy: 0.5 -> 0, 1.5 -> 2), or the integer
/// label. Weights must be finite and >= 0.
using ClassWeight = std::map<std::int64_t, double>;

/// `eps` of Keras (keras.backend.epsilon()): probabilities are clipped to [eps, 1 - eps], the
/// bounds rounded to the element type. The clip passes the gradient on the closed interval and
/// none outside it.
inline constexpr double kKerasEpsilon = 1e-7;

/// -(y ln p + (1 - y) ln(1 - p)) averaged over classes, p clipped to [eps, 1 - eps]; from logits
/// max(x, 0) - x y + log1p(exp(-|x|)), not clipped (finite limits at infinite logits).
/// Smoothing: y (1 - ls) + ls / 2.
struct BinaryCrossentropy {
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// -sum_c y_c ln p_c with p divided by its row sum then clipped; from logits
/// logsumexp(x) sum_c y_c - sum_c y_c x_c (soft targets allowed; a zero target drops its term,
/// even at a logit of -inf). Smoothing: y (1 - ls) + ls / C.
struct CategoricalCrossentropy {
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Categorical cross-entropy against integer labels. A sample whose label equals `ignore_class`
/// has loss 0, gradient 0 and is left out of the mean's count. Smoothing: (1 - ls) CE(label) +
/// ls CE(uniform 1 / C), which is the categorical loss of the smoothed one-hot target.
struct SparseCategoricalCrossentropy {
  bool from_logits = false;
  std::optional<std::int64_t> ignore_class = std::nullopt;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Keras 3's binary focal cross-entropy, averaged over classes: (1 - p_t)^gamma BCE(y, clip(p)),
/// p_t = y p + (1 - y)(1 - p) with the unclipped p, times alpha y + (1 - alpha)(1 - y) when
/// apply_class_balancing. From logits p = sigmoid(x), then the same (clipped: the cross-entropy is
/// at most -ln(eps) and its gradient vanishes where the sigmoid saturates). Smoothing as binary.
struct BinaryFocalCrossentropy {
  bool apply_class_balancing = false;
  double alpha = 0.25;
  double gamma = 2;
  bool from_logits = false;
  double label_smoothing = 0;
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// Keras 3's categorical focal cross-entropy: -sum_c alpha (1 - o_c)^gamma y_c ln o_c, o = p
/// divided by its row sum then clipped (softmax first when from_logits). alpha weighs every class
/// term. Smoothing as categorical.
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

/// mean_c |y - p| (gradient sign(p - y), 0 where p == y).
struct MeanAbsoluteError {
  Reduction reduction = Reduction::sum_over_batch_size;
};

/// One evaluation's inputs. Spans are not owned: they must stay valid for the call.
template <class T>
struct LossInput {
  std::span<const T> y_true;  ///< [batch x classes] like y_pred, or [batch] labels (sparse loss)
  std::span<const T> y_pred;  ///< [batch x classes] probabilities or logits
  MatrixShape shape;          ///< of y_pred (rows = batch, cols = classes)
  std::span<const T> sample_weight = {};      ///< [batch] finite weights >= 0, or empty
  const ClassWeight* class_weight = nullptr;  ///< Keras' class_weight, or nullptr
};

/// A loss of any kind: built implicitly from one of the structs above or by Keras name.
class Loss {
 public:
  using Config = std::variant<BinaryCrossentropy, CategoricalCrossentropy,
                              SparseCategoricalCrossentropy, BinaryFocalCrossentropy,
                              CategoricalFocalCrossentropy, MeanSquaredError, MeanAbsoluteError>;

  /// Validates the arguments (label_smoothing in [0, 1], alpha in [0, 1], gamma >= 0, all
  /// finite; a known reduction).
  Loss(Config config);  // NOLINT(google-explicit-constructor): Loss l = config;

  /// From one of the option structs: `Loss l = BinaryCrossentropy{.from_logits = true};`.
  template <class Options>
  requires detail::is_alternative_v<std::remove_cvref_t<Options>, Config> Loss(
      Options&& options)  // NOLINT(google-explicit-constructor)
      : Loss(Config(std::forward<Options>(options))) {}

  /// By Keras name, with default arguments: the function names "binary_crossentropy",
  /// "categorical_crossentropy", "sparse_categorical_crossentropy", "binary_focal_crossentropy",
  /// "categorical_focal_crossentropy", "mean_squared_error", "mean_absolute_error"; the class
  /// names ("BinaryCrossentropy", ...); the aliases "bce"/"BCE", "mse"/"MSE", "mae"/"MAE".
  /// Throws std::invalid_argument listing the names otherwise.
  static Loss from_name(std::string_view name);

  /// The Keras function name, e.g. "binary_crossentropy".
  [[nodiscard]] std::string_view name() const noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }
  [[nodiscard]] Reduction reduction() const noexcept;

  /// The reduced loss. With Reduction::none, the sum of the per-sample losses (see per_sample).
  /// An empty batch gives 0.
  [[nodiscard]] double operator()(const LossInput<float>& input) const;
  [[nodiscard]] double operator()(const LossInput<double>& input) const;

  /// The reduced loss, and its gradient with respect to y_pred (logits when from_logits) written
  /// to `grad` (the shape of y_pred, disjoint from every input; elements between cols and stride
  /// untouched), in one call. The gradient is what automatic differentiation of the Keras formula
  /// gives (zero where the probability clip is active, zero for ignored samples). With
  /// Reduction::none, the gradient of the sum.
  double value_and_grad(const LossInput<float>& input, std::span<float> grad) const;
  double value_and_grad(const LossInput<double>& input, std::span<double> grad) const;

  /// The weighted per-sample losses (what Reduction::none returns in Keras: loss x weight, 0 for
  /// ignored samples), `batch` values written to `out` (which holds exactly `batch` elements).
  void per_sample(const LossInput<float>& input, std::span<float> out) const;
  void per_sample(const LossInput<double>& input, std::span<double> out) const;

 private:
  Config config_;
};

/// Keras' functional forms (keras.losses.binary_crossentropy(...)): unweighted per-sample losses,
/// `shape.rows` values written to `out`. The `reduction` member of the options is not used.
void binary_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                         MatrixShape shape, std::span<float> out, BinaryCrossentropy options = {});
void binary_crossentropy(std::span<const double> y_true, std::span<const double> y_pred,
                         MatrixShape shape, std::span<double> out, BinaryCrossentropy options = {});
void categorical_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                              MatrixShape shape, std::span<float> out,
                              CategoricalCrossentropy options = {});
void categorical_crossentropy(std::span<const double> y_true, std::span<const double> y_pred,
                              MatrixShape shape, std::span<double> out,
                              CategoricalCrossentropy options = {});
/// Ignored samples (label == ignore_class) get 0.
void sparse_categorical_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                                     MatrixShape shape, std::span<float> out,
                                     SparseCategoricalCrossentropy options = {});
void sparse_categorical_crossentropy(std::span<const double> y_true, std::span<const double> y_pred,
                                     MatrixShape shape, std::span<double> out,
                                     SparseCategoricalCrossentropy options = {});
void binary_focal_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                               MatrixShape shape, std::span<float> out,
                               BinaryFocalCrossentropy options = {});
void binary_focal_crossentropy(std::span<const double> y_true, std::span<const double> y_pred,
                               MatrixShape shape, std::span<double> out,
                               BinaryFocalCrossentropy options = {});
void categorical_focal_crossentropy(std::span<const float> y_true, std::span<const float> y_pred,
                                    MatrixShape shape, std::span<float> out,
                                    CategoricalFocalCrossentropy options = {});
void categorical_focal_crossentropy(std::span<const double> y_true, std::span<const double> y_pred,
                                    MatrixShape shape, std::span<double> out,
                                    CategoricalFocalCrossentropy options = {});
void mean_squared_error(std::span<const float> y_true, std::span<const float> y_pred,
                        MatrixShape shape, std::span<float> out);
void mean_squared_error(std::span<const double> y_true, std::span<const double> y_pred,
                        MatrixShape shape, std::span<double> out);
void mean_absolute_error(std::span<const float> y_true, std::span<const float> y_pred,
                         MatrixShape shape, std::span<float> out);
void mean_absolute_error(std::span<const double> y_true, std::span<const double> y_pred,
                         MatrixShape shape, std::span<double> out);

/// Keras' class_weight_to_sample_weights: one weight per sample from the targets: `y_true` of a
/// dense loss ([rows x cols] with the shape's stride), or `shape.rows` labels when `sparse`
/// (shape.cols is then not read). Throws std::invalid_argument for a NaN target of a single
/// column or a NaN label, a negative or non-finite weight in the map, or a short y_true.
std::vector<double> class_weight_to_sample_weight(std::span<const double> y_true, MatrixShape shape,
                                                  bool sparse, const ClassWeight& class_weight);
std::vector<double> class_weight_to_sample_weight(std::span<const float> y_true, MatrixShape shape,
                                                  bool sparse, const ClassWeight& class_weight);

}  // namespace simdiff
