// The per-batch sums of the accuracy metrics (<simdiff/metrics.h>): each function returns
// sum_r value[r] * weight[r] over one batch whose shapes and weights Metric::update has already
// validated. They check the labels themselves, since they read them anyway.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace simdiff::detail {

/// One validated batch. y_pred is [rows x cols] with row stride `stride`; y_true has that layout
/// too, or holds `rows` labels for the sparse metrics. `weight` is nullptr (every weight 1) or
/// has `rows` entries. `metric` names the metric in error messages.
template <class T>
struct AccuracyBatch {
  const T* y_true;
  const T* y_pred;
  const T* weight;
  std::size_t rows;
  std::size_t cols;
  std::size_t stride;
  std::string_view metric;
};

/// The shortest text that reads back as `value` ("0.1" for 0.1f), for error messages.
template <class T>
std::string number_text(T value);

/// Per sample: mean over its columns of (y_pred > threshold) == y_true.
template <class T>
double binary_accuracy_total(const AccuracyBatch<T>& batch, T threshold);

/// Per sample: argmax(y_pred) == argmax(y_true).
template <class T>
double categorical_accuracy_total(const AccuracyBatch<T>& batch);

/// Per sample: argmax(y_pred) == label. Throws for a bad label.
template <class T>
double sparse_categorical_accuracy_total(const AccuracyBatch<T>& batch);

/// Per sample: fewer than k scores exceed the score of class argmax(y_true). Needs k <= cols.
template <class T>
double top_k_categorical_accuracy_total(const AccuracyBatch<T>& batch, std::size_t k);

/// Per sample: fewer than k scores exceed the score of its label. Needs k <= cols; throws for a
/// bad label.
template <class T>
double sparse_top_k_categorical_accuracy_total(const AccuracyBatch<T>& batch, std::size_t k);

}  // namespace simdiff::detail
