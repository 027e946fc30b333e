// The type-erased Metric: names, configuration checks, the resolution of "accuracy", and the
// update that validates a batch, computes its sums (lib/metrics/accuracy.cc) and only then
// changes the state, so that a throwing update leaves the metric as it was.
#include <array>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "lib/argument_checks.h"  // checked_extent
#include "lib/metrics/accuracy.h"
#include "simdiff/metrics.h"

namespace simdiff {
namespace {

using Config = Metric::Config;

// The Keras name of each alternative of Config, in the order of the variant.
constexpr std::array<const char*, 5> kKindNames = {
    "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
    "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"};
static_assert(kKindNames.size() == std::variant_size_v<Config>,
              "every metric kind needs its name in kKindNames");

const char* kind_name(const Config& config) noexcept { return kKindNames[config.index()]; }

bool is_sparse(const Config& config) noexcept {
  return std::holds_alternative<SparseCategoricalAccuracy>(config) ||
         std::holds_alternative<SparseTopKCategoricalAccuracy>(config);
}

/// k of a top-k metric, 0 for the others.
std::size_t k_of(const Config& config) noexcept {
  if (const auto* top_k = std::get_if<TopKCategoricalAccuracy>(&config)) return top_k->k;
  if (const auto* top_k = std::get_if<SparseTopKCategoricalAccuracy>(&config)) return top_k->k;
  return 0;
}

void check_config(const Config& config) {
  if (const auto* binary = std::get_if<BinaryAccuracy>(&config)) {
    // Negated so that NaN fails too.
    if (!(binary->threshold > 0 && binary->threshold < 1)) {
      throw std::invalid_argument("binary_accuracy: threshold " +
                                  detail::number_text(binary->threshold) +
                                  " is outside (0, 1); expected 0 < threshold < 1");
    }
  }
  const bool top_k = std::holds_alternative<TopKCategoricalAccuracy>(config) ||
                     std::holds_alternative<SparseTopKCategoricalAccuracy>(config);
  if (top_k && k_of(config) == 0) {
    throw std::invalid_argument(std::string(kind_name(config)) + ": k is 0; expected k >= 1");
  }
}

/// Checks that a matrix argument of `size` elements has the shape: at least its extent, at most
/// rows * stride (a padded last row is fine, anything beyond is a different shape). `hint` ends
/// the message.
void check_matrix_size(const char* metric, const char* argument, std::size_t size,
                       MatrixShape shape, std::size_t extent, const char* hint) {
  // rows * stride cannot overflow: checked_extent bounds (rows - 1) * stride + cols.
  const std::size_t whole_rows = shape.rows * shape.row_stride();
  if (size >= extent && size <= whole_rows) return;
  const std::string expected = extent == whole_rows ? std::to_string(extent)
                                                    : "between " + std::to_string(extent) +
                                                          " and " + std::to_string(whole_rows);
  throw std::invalid_argument(
      std::string(metric) + ": " + argument + " has " + std::to_string(size) +
      " elements; the shape " + std::to_string(shape.rows) + " x " + std::to_string(shape.cols) +
      " (stride " + std::to_string(shape.row_stride()) + ") needs " + expected + hint);
}

/// Checks the sizes of a batch and its weights against the metric; returns the batch's count
/// (the sum of the weights, or the batch size).
template <class T>
double checked_count(const Config& config, const MetricInput<T>& input) {
  const char* metric = kind_name(config);
  const MatrixShape shape = input.shape;
  const std::size_t extent = detail::checked_extent(metric, shape);
  check_matrix_size(metric, "y_pred", input.y_pred.size(), shape, extent, "");
  if (is_sparse(config)) {
    if (input.y_true.size() != shape.rows) {
      throw std::invalid_argument(std::string(metric) + ": y_true has " +
                                  std::to_string(input.y_true.size()) + " elements; expected " +
                                  std::to_string(shape.rows) +
                                  " class labels, one per row of y_pred");
    }
  } else {
    check_matrix_size(metric, "y_true", input.y_true.size(), shape, extent,
                      " (the shape of y_pred; class labels need a sparse metric)");
  }
  const std::size_t k = k_of(config);
  if (k > shape.cols) {
    throw std::invalid_argument(std::string(metric) + ": k " + std::to_string(k) +
                                " is larger than the " + std::to_string(shape.cols) +
                                " classes of y_pred; expected k <= classes");
  }
  if (input.sample_weight.empty()) return static_cast<double>(shape.rows);
  if (input.sample_weight.size() != shape.rows) {
    throw std::invalid_argument(
        std::string(metric) + ": sample_weight has " + std::to_string(input.sample_weight.size()) +
        " elements; expected " + std::to_string(shape.rows) + " (one per row of y_pred) or none");
  }
  double count = 0;
  for (std::size_t r = 0; r < shape.rows; ++r) {
    const T weight = input.sample_weight[r];
    if (!(weight >= 0 && std::isfinite(weight))) {
      throw std::invalid_argument(std::string(metric) + ": sample_weight[" + std::to_string(r) +
                                  "] (the weight of sample " + std::to_string(r) + ") is " +
                                  detail::number_text(weight) + "; expected a finite weight >= 0");
    }
    count += static_cast<double>(weight);
  }
  return count;
}

/// The weighted-mean sums of one batch under `config`; throws for any bad input.
template <class T>
WeightedMean batch_state(const Config& config, const MetricInput<T>& input) {
  const double count = checked_count(config, input);
  if (input.shape.rows == 0) return {};
  const detail::AccuracyBatch<T> batch{
      .y_true = input.y_true.data(),
      .y_pred = input.y_pred.data(),
      .weight = input.sample_weight.empty() ? nullptr : input.sample_weight.data(),
      .rows = input.shape.rows,
      .cols = input.shape.cols,
      .stride = input.shape.row_stride(),
      .metric = kind_name(config)};
  const double total = std::visit(
      [&](const auto& metric) -> double {
        using Kind = std::decay_t<decltype(metric)>;
        if constexpr (std::is_same_v<Kind, BinaryAccuracy>) {
          // Keras casts the threshold to y_pred's dtype before comparing.
          return detail::binary_accuracy_total(batch, static_cast<T>(metric.threshold));
        } else if constexpr (std::is_same_v<Kind, CategoricalAccuracy>) {
          return detail::categorical_accuracy_total(batch);
        } else if constexpr (std::is_same_v<Kind, SparseCategoricalAccuracy>) {
          return detail::sparse_categorical_accuracy_total(batch);
        } else if constexpr (std::is_same_v<Kind, TopKCategoricalAccuracy>) {
          return detail::top_k_categorical_accuracy_total(batch, metric.k);
        } else {
          static_assert(std::is_same_v<Kind, SparseTopKCategoricalAccuracy>);
          return detail::sparse_top_k_categorical_accuracy_total(batch, metric.k);
        }
      },
      config);
  return {total, count};
}

/// Metric::update for either element type: the kind (resolved for "accuracy"), the batch's sums,
/// then the commit.
template <class T>
void update_metric(Config& config, bool& resolved, std::string_view name, WeightedMean& state,
                   const MetricInput<T>& input) {
  const Config chosen =
      resolved ? config : Metric::resolve_accuracy(input.y_true.size(), input.shape);
  WeightedMean batch;
  try {
    batch = batch_state(chosen, input);
  } catch (const std::invalid_argument& error) {
    if (name == kind_name(chosen)) throw;
    // Say which metric "accuracy" stands for: the shapes that picked it may be the mistake.
    throw std::invalid_argument(std::string(name) + " (resolved from the shapes to " +
                                kind_name(chosen) + "): " + error.what());
  }
  if (input.shape.rows == 0) return;  // an empty batch says nothing about the kind
  config = chosen;
  resolved = true;
  state.total += batch.total;
  state.count += batch.count;
}

}  // namespace

Metric::Metric(Config config) : Metric(config, kind_name(config), true) {}

Metric::Metric(Config config, std::string_view name, bool resolved)
    : config_(config), name_(name), resolved_(resolved) {
  check_config(config_);
}

Metric Metric::from_name(std::string_view name) {
  for (const char* accuracy : {"accuracy", "acc"}) {
    if (name == accuracy) return Metric(CategoricalAccuracy{}, accuracy, false);
  }
  constexpr std::array<Config, std::variant_size_v<Config>> kDefaults = {
      BinaryAccuracy{}, CategoricalAccuracy{}, SparseCategoricalAccuracy{},
      TopKCategoricalAccuracy{}, SparseTopKCategoricalAccuracy{}};
  for (const Config& config : kDefaults) {
    if (name == kind_name(config)) return Metric(config);
  }
  std::string known = "accuracy, acc";
  for (const char* kind : kKindNames) known += std::string(", ") + kind;
  throw std::invalid_argument("metric name: '" + std::string(name) +
                              "' is not an accuracy metric; expected one of: " + known);
}

Metric::Config Metric::resolve_accuracy(std::size_t y_true_size,
                                        MatrixShape y_pred_shape) noexcept {
  if (y_pred_shape.cols == 1) return BinaryAccuracy{};
  if (y_true_size == y_pred_shape.rows) return SparseCategoricalAccuracy{};
  return CategoricalAccuracy{};
}

std::string_view Metric::name() const noexcept { return name_; }

void Metric::update(const MetricInput<float>& input) {
  update_metric(config_, resolved_, name_, state_, input);
}

void Metric::update(const MetricInput<double>& input) {
  update_metric(config_, resolved_, name_, state_, input);
}

}  // namespace simdiff
