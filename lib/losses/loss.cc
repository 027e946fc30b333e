// The Loss class: options check, the registry of Keras names, and one evaluation path shared by
// operator(), value_and_grad and per_sample: check the arguments, convert labels and weights, let
// the loss compute its per-sample values (and gradient) row by row, reduce. Above a size threshold
// the rows split over threads in contiguous ranges (lib/threads/chunks.h); the reduction runs on
// the calling thread over the per-row losses in row order, so the value does not depend on the
// thread count.
#include <array>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "lib/argument_checks.h"
#include "lib/losses/loss_arguments.h"
#include "lib/losses/loss_rows.h"
#include "lib/losses/reduction.h"
#include "lib/losses/scratch.h"
#include "lib/threads/chunks.h"
#include "simdiff/losses.h"

namespace simdiff {
namespace {

using detail::LossRows;

struct LossNames {
  const char* function;    // keras.losses.binary_crossentropy
  const char* class_name;  // keras.losses.BinaryCrossentropy
};

// In the order of Loss::Config's alternatives.
constexpr std::array<LossNames, 7> kLossNames = {{
    {"binary_crossentropy", "BinaryCrossentropy"},
    {"categorical_crossentropy", "CategoricalCrossentropy"},
    {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy"},
    {"binary_focal_crossentropy", "BinaryFocalCrossentropy"},
    {"categorical_focal_crossentropy", "CategoricalFocalCrossentropy"},
    {"mean_squared_error", "MeanSquaredError"},
    {"mean_absolute_error", "MeanAbsoluteError"},
}};
static_assert(kLossNames.size() == std::variant_size_v<Loss::Config>, "every loss needs its names");

// Keras' short names (keras/src/losses/__init__.py, ALL_OBJECTS_DICT).
struct Alias {
  const char* name;
  std::size_t index;  // into Loss::Config
};
constexpr std::array<Alias, 6> kAliases = {{
    {"bce", 0},
    {"BCE", 0},
    {"mse", 5},
    {"MSE", 5},
    {"mae", 6},
    {"MAE", 6},
}};

Loss::Config default_config(std::size_t index) {
  static const std::array<Loss::Config, 7> kDefaults = {
      BinaryCrossentropy{},      CategoricalCrossentropy{},      SparseCategoricalCrossentropy{},
      BinaryFocalCrossentropy{}, CategoricalFocalCrossentropy{}, MeanSquaredError{},
      MeanAbsoluteError{}};
  return kDefaults[index];
}

const char* name_of(const Loss::Config& config) { return kLossNames[config.index()].function; }

// The per-row computation of each loss.
template <class T>
void compute_rows(const BinaryCrossentropy& options, const LossRows<T>& batch) {
  detail::binary_crossentropy_rows(options, batch);
}
template <class T>
void compute_rows(const CategoricalCrossentropy& options, const LossRows<T>& batch) {
  detail::categorical_crossentropy_rows(options, batch);
}
template <class T>
void compute_rows(const SparseCategoricalCrossentropy& options, const LossRows<T>& batch) {
  detail::sparse_categorical_crossentropy_rows(options, batch);
}
template <class T>
void compute_rows(const BinaryFocalCrossentropy& options, const LossRows<T>& batch) {
  detail::binary_focal_crossentropy_rows(options, batch);
}
template <class T>
void compute_rows(const CategoricalFocalCrossentropy& options, const LossRows<T>& batch) {
  detail::categorical_focal_crossentropy_rows(options, batch);
}
template <class T>
void compute_rows(const MeanSquaredError&, const LossRows<T>& batch) {
  detail::mean_squared_error_rows(batch);
}
template <class T>
void compute_rows(const MeanAbsoluteError&, const LossRows<T>& batch) {
  detail::mean_absolute_error_rows(batch);
}

// Rows [begin, end) of a batch.
template <class T>
LossRows<T> rows_of(const LossRows<T>& batch, std::size_t begin, std::size_t end) {
  const std::size_t offset = begin * batch.stride;
  LossRows<T> part = batch;
  if (part.y_true != nullptr) part.y_true += offset;
  if (part.labels != nullptr) part.labels += begin;
  part.y_pred += offset;
  if (part.scale != nullptr) part.scale += begin;
  part.loss += begin;
  if (part.grad != nullptr) part.grad += offset;
  part.rows = end - begin;
  return part;
}

// What one evaluation writes besides the reduced loss; an empty span is not written.
template <class T>
struct Outputs {
  std::span<T> grad = {};
  std::span<T> per_sample = {};
  bool want_grad = false;
  bool want_per_sample = false;
};

template <class T, class In>
void check_output_disjoint(const char* loss, const char* output, std::span<T> out,
                           std::size_t out_count, const char* input, std::span<In> in) {
  detail::check_overlap(loss, output, out, out_count, input, in, in.size(),
                        detail::Aliasing::disjoint_only);
}

template <class T>
void check_inputs(const char* loss, const LossInput<T>& input, bool sparse,
                  const Outputs<T>& outputs) {
  const MatrixShape shape = input.shape;
  const std::size_t extent = detail::check_loss_matrix(loss, "y_pred", input.y_pred.size(), shape);
  if (sparse) {
    detail::check_per_sample_size(loss, "y_true", input.y_true.size(), shape.rows);
  } else {
    detail::check_loss_matrix(loss, "y_true", input.y_true.size(), shape);
  }
  detail::check_sample_weight(loss, input.sample_weight, shape.rows);
  if (input.class_weight != nullptr && !input.sample_weight.empty()) {
    detail::throw_loss_error(loss,
                             "class_weight and sample_weight are both given; expected at most "
                             "one (Keras refuses both: class weights are sample weights)");
  }
  const auto check_output = [&](const char* name, std::span<T> out, std::size_t count) {
    check_output_disjoint(loss, name, out, count, "y_pred", input.y_pred);
    check_output_disjoint(loss, name, out, count, "y_true", input.y_true);
    check_output_disjoint(loss, name, out, count, "sample_weight", input.sample_weight);
  };
  if (outputs.want_grad) {
    detail::check_loss_matrix(loss, "grad", outputs.grad.size(), shape);
    check_output("grad", outputs.grad, extent);
  }
  if (outputs.want_per_sample) {
    detail::check_per_sample_size(loss, "out", outputs.per_sample.size(), shape.rows);
    check_output("out", outputs.per_sample, shape.rows);
  }
}

template <class T>
double evaluate(const Loss::Config& config, Reduction reduction, const LossInput<T>& input,
                const Outputs<T>& outputs) {
  const char* loss = name_of(config);
  const auto* sparse_options = std::get_if<SparseCategoricalCrossentropy>(&config);
  const bool sparse = sparse_options != nullptr;
  check_inputs(loss, input, sparse, outputs);
  const std::size_t rows = input.shape.rows;
  if (rows == 0) return 0;  // Keras' divide_no_nan of an empty sum

  detail::LossScratch& scratch = detail::loss_scratch();
  const std::int64_t* labels = nullptr;
  const std::int64_t* mask = nullptr;  // labels, when ignore_class can mark some as ignored
  if (sparse) {
    std::int64_t* converted = detail::sized(scratch.labels, rows);
    detail::convert_labels(loss, input.y_true, input.shape.cols, sparse_options->ignore_class,
                           converted);
    labels = converted;
    if (sparse_options->ignore_class.has_value()) mask = converted;
  }
  const detail::SampleWeighting weighting =
      detail::weigh_samples(loss, input, rows, sparse, mask, scratch.weights);

  detail::TypedLossScratch<T>& typed = scratch.of<T>();
  T* losses = detail::sized(typed.losses, rows);
  T* scales = nullptr;
  if (outputs.want_grad) {
    // d(reduced) / d(loss of row r) = weight_r * d(reduced) / d(weighted loss of row r).
    scales = detail::sized(typed.scales, rows);
    const double factor = detail::reduction_factor(reduction, weighting);
    for (std::size_t r = 0; r < rows; ++r) {
      scales[r] = static_cast<T>(weighting.weight(r) * factor);
    }
  }
  const LossRows<T> batch{sparse ? nullptr : input.y_true.data(),
                          labels,
                          input.y_pred.data(),
                          scales,
                          losses,
                          outputs.want_grad ? outputs.grad.data() : nullptr,
                          rows,
                          input.shape.cols,
                          input.shape.row_stride()};
  std::visit(
      [&](const auto& options) {
        // The categorical focal loss stays on the calling thread: its rows use a per-thread
        // scratch row (lib/losses/scratch.h) that a pool worker would have to allocate, and a
        // failed allocation there could not reach the caller.
        using Options = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<Options, CategoricalFocalCrossentropy>) {
          compute_rows(options, batch);
        } else {
          detail::parallel_rows(rows, batch.cols, detail::kRowwiseSplit,
                                [&](std::size_t begin, std::size_t end) {
                                  compute_rows(options, rows_of(batch, begin, end));
                                });
        }
      },
      config);

  if (outputs.want_per_sample) {
    for (std::size_t r = 0; r < rows; ++r) {
      outputs.per_sample[r] = static_cast<T>(static_cast<double>(losses[r]) * weighting.weight(r));
    }
  }
  return detail::reduce_losses(reduction, weighting, losses);
}

}  // namespace

Loss::Loss(Config config) : config_(std::move(config)) {
  detail::check_loss_options(name_of(config_), config_);
}

Loss Loss::from_name(std::string_view name) {
  for (std::size_t i = 0; i < kLossNames.size(); ++i) {
    if (name == kLossNames[i].function || name == kLossNames[i].class_name) {
      return Loss(default_config(i));
    }
  }
  for (const Alias& alias : kAliases) {
    if (name == alias.name) return Loss(default_config(alias.index));
  }
  std::string known;
  for (const LossNames& names : kLossNames)
    known += std::string(known.empty() ? "" : ", ") + names.function;
  for (const Alias& alias : kAliases) known += std::string(", ") + alias.name;
  throw std::invalid_argument("Loss::from_name: unknown loss \"" + std::string(name) +
                              "\"; expected one of " + known +
                              " or a Keras class name such as BinaryCrossentropy");
}

std::string_view Loss::name() const noexcept { return name_of(config_); }

Reduction Loss::reduction() const noexcept {
  return std::visit([](const auto& options) { return options.reduction; }, config_);
}

double Loss::operator()(const LossInput<float>& input) const {
  return evaluate<float>(config_, reduction(), input, {});
}
double Loss::operator()(const LossInput<double>& input) const {
  return evaluate<double>(config_, reduction(), input, {});
}

double Loss::value_and_grad(const LossInput<float>& input, std::span<float> grad) const {
  return evaluate<float>(config_, reduction(), input, {.grad = grad, .want_grad = true});
}
double Loss::value_and_grad(const LossInput<double>& input, std::span<double> grad) const {
  return evaluate<double>(config_, reduction(), input, {.grad = grad, .want_grad = true});
}

void Loss::per_sample(const LossInput<float>& input, std::span<float> out) const {
  static_cast<void>(
      evaluate<float>(config_, reduction(), input, {.per_sample = out, .want_per_sample = true}));
}
void Loss::per_sample(const LossInput<double>& input, std::span<double> out) const {
  static_cast<void>(
      evaluate<double>(config_, reduction(), input, {.per_sample = out, .want_per_sample = true}));
}

// The functional forms: unweighted per-sample values of a loss with these options.
#define SIMDIFF_FUNCTIONAL_LOSS(T, name, Options)                                        \
  void name(std::span<const T> y_true, std::span<const T> y_pred, MatrixShape shape,     \
            std::span<T> out, Options options) {                                         \
    Loss(options).per_sample({.y_true = y_true, .y_pred = y_pred, .shape = shape}, out); \
  }
#define SIMDIFF_FUNCTIONAL_REGRESSION_LOSS(T, name, Options)                               \
  void name(std::span<const T> y_true, std::span<const T> y_pred, MatrixShape shape,       \
            std::span<T> out) {                                                            \
    Loss(Options{}).per_sample({.y_true = y_true, .y_pred = y_pred, .shape = shape}, out); \
  }
#define SIMDIFF_FUNCTIONAL_LOSSES(T)                                                         \
  SIMDIFF_FUNCTIONAL_LOSS(T, binary_crossentropy, BinaryCrossentropy)                        \
  SIMDIFF_FUNCTIONAL_LOSS(T, categorical_crossentropy, CategoricalCrossentropy)              \
  SIMDIFF_FUNCTIONAL_LOSS(T, sparse_categorical_crossentropy, SparseCategoricalCrossentropy) \
  SIMDIFF_FUNCTIONAL_LOSS(T, binary_focal_crossentropy, BinaryFocalCrossentropy)             \
  SIMDIFF_FUNCTIONAL_LOSS(T, categorical_focal_crossentropy, CategoricalFocalCrossentropy)   \
  SIMDIFF_FUNCTIONAL_REGRESSION_LOSS(T, mean_squared_error, MeanSquaredError)                \
  SIMDIFF_FUNCTIONAL_REGRESSION_LOSS(T, mean_absolute_error, MeanAbsoluteError)
SIMDIFF_FUNCTIONAL_LOSSES(float)
SIMDIFF_FUNCTIONAL_LOSSES(double)
#undef SIMDIFF_FUNCTIONAL_LOSSES
#undef SIMDIFF_FUNCTIONAL_REGRESSION_LOSS
#undef SIMDIFF_FUNCTIONAL_LOSS

}  // namespace simdiff
