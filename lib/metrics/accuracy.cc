// The per-batch sums of the accuracy metrics. Argmax runs as simdiff::row_argmax and the top-k
// test as the `count_greater` kernel of the selected target: both are SIMD scans of each row.
// Rows go through in blocks whose per-row scratch (indices, target scores, counts) lives on the
// stack, so an update never allocates, however large the batch.
#include "lib/metrics/accuracy.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <span>
#include <stdexcept>
#include <string>

#include "lib/kernel_table.h"
#include "simdiff/rowwise.h"

namespace simdiff::detail {
namespace {

// Rows per block: 256 keeps the scratch at 6 KiB of stack and amortises the per-call cost of the
// kernels (argument checks, one indirect call) over many rows.
constexpr std::size_t kBlockRows = 256;

/// The elements of rows [first, first + count) of a matrix with row stride `stride`.
template <class T>
std::span<const T> rows_of(const T* matrix, std::size_t first, std::size_t count, std::size_t cols,
                           std::size_t stride) {
  return {matrix + first * stride, (count - 1) * stride + cols};
}

/// Calls `block(first, count)` for consecutive row blocks of at most kBlockRows rows.
template <class Block>
void for_each_block(std::size_t rows, Block&& block) {
  for (std::size_t first = 0; first < rows; first += kBlockRows) {
    block(first, std::min(kBlockRows, rows - first));
  }
}

template <class T>
double weight_of(const AccuracyBatch<T>& batch, std::size_t row) {
  return batch.weight == nullptr ? 1.0 : static_cast<double>(batch.weight[row]);
}

[[noreturn]] void throw_bad_label(std::string_view metric, std::size_t sample,
                                  const std::string& label, std::size_t classes) {
  throw std::invalid_argument(std::string(metric) + ": y_true[" + std::to_string(sample) +
                              "] (the label of sample " + std::to_string(sample) + ") is " + label +
                              "; expected an integer class label in [0, " +
                              std::to_string(classes) + ")");
}

/// The class index y_true[sample] holds; throws unless it is an integer in [0, cols).
template <class T>
std::size_t checked_label(const AccuracyBatch<T>& batch, std::size_t sample) {
  // In double, cols is exact and every label of T compares exactly; NaN fails the range test.
  const double label = batch.y_true[sample];
  if (label >= 0 && label < static_cast<double>(batch.cols) && label == std::floor(label)) {
    return static_cast<std::size_t>(label);
  }
  throw_bad_label(batch.metric, sample, number_text(batch.y_true[sample]), batch.cols);
}

/// The sum of weight[r] over the samples of the batch for which `target[r] == argmax(y_pred_r)`,
/// with `targets_of(first, count, target)` writing the target classes of a block.
template <class T, class TargetsOf>
double argmax_hits(const AccuracyBatch<T>& batch, TargetsOf&& targets_of) {
  std::array<std::size_t, kBlockRows> target;
  std::array<std::size_t, kBlockRows> predicted;
  double total = 0;
  for_each_block(batch.rows, [&](std::size_t first, std::size_t count) {
    targets_of(first, count, target.data());
    row_argmax(rows_of(batch.y_pred, first, count, batch.cols, batch.stride),
               {count, batch.cols, batch.stride}, std::span(predicted.data(), count));
    for (std::size_t i = 0; i < count; ++i) {
      if (predicted[i] == target[i]) total += weight_of(batch, first + i);
    }
  });
  return total;
}

/// The sum of weight[r] over the samples whose target score is exceeded by fewer than k scores
/// of its row (in_top_k), with `targets_of` as for argmax_hits.
template <class T, class TargetsOf>
double top_k_hits(const AccuracyBatch<T>& batch, std::size_t k, TargetsOf&& targets_of) {
  const auto count_greater = active_kernels().of<T>().count_greater;
  std::array<std::size_t, kBlockRows> target;
  std::array<T, kBlockRows> target_score;
  std::array<std::size_t, kBlockRows> greater;
  double total = 0;
  for_each_block(batch.rows, [&](std::size_t first, std::size_t count) {
    targets_of(first, count, target.data());
    const T* block = batch.y_pred + first * batch.stride;
    for (std::size_t i = 0; i < count; ++i) target_score[i] = block[i * batch.stride + target[i]];
    // A NaN target score counts every column as greater: never a hit, even for k == cols.
    count_greater(block, target_score.data(), greater.data(), count, batch.cols, batch.stride);
    for (std::size_t i = 0; i < count; ++i) {
      if (greater[i] < k) total += weight_of(batch, first + i);
    }
  });
  return total;
}

/// Target classes from the argmax of the one-hot (or soft) y_true rows.
template <class T>
auto argmax_of_y_true(const AccuracyBatch<T>& batch) {
  return [&batch](std::size_t first, std::size_t count, std::size_t* target) {
    row_argmax(rows_of(batch.y_true, first, count, batch.cols, batch.stride),
               {count, batch.cols, batch.stride}, std::span(target, count));
  };
}

/// Target classes from the labels, checked.
template <class T>
auto labels_of_y_true(const AccuracyBatch<T>& batch) {
  return [&batch](std::size_t first, std::size_t count, std::size_t* target) {
    for (std::size_t i = 0; i < count; ++i) target[i] = checked_label(batch, first + i);
  };
}

}  // namespace

template <class T>
std::string number_text(T value) {
  std::array<char, 64> text;
  const auto result = std::to_chars(text.data(), text.data() + text.size(), value);
  return {text.data(), result.ptr};
}

template <class T>
double binary_accuracy_total(const AccuracyBatch<T>& batch, T threshold) {
  double total = 0;
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* target = batch.y_true + r * batch.stride;
    const T* score = batch.y_pred + r * batch.stride;
    std::size_t matches = 0;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      const T predicted = score[c] > threshold ? T{1} : T{0};
      matches += target[c] == predicted ? 1 : 0;
    }
    total += weight_of(batch, r) * (static_cast<double>(matches) / static_cast<double>(batch.cols));
  }
  return total;
}

template <class T>
double categorical_accuracy_total(const AccuracyBatch<T>& batch) {
  return argmax_hits(batch, argmax_of_y_true(batch));
}

template <class T>
double sparse_categorical_accuracy_total(const AccuracyBatch<T>& batch) {
  return argmax_hits(batch, labels_of_y_true(batch));
}

template <class T>
double top_k_categorical_accuracy_total(const AccuracyBatch<T>& batch, std::size_t k) {
  return top_k_hits(batch, k, argmax_of_y_true(batch));
}

template <class T>
double sparse_top_k_categorical_accuracy_total(const AccuracyBatch<T>& batch, std::size_t k) {
  return top_k_hits(batch, k, labels_of_y_true(batch));
}

#define SIMDIFF_INSTANTIATE(T)                                                               \
  template std::string number_text<T>(T);                                                    \
  template double binary_accuracy_total<T>(const AccuracyBatch<T>&, T);                      \
  template double categorical_accuracy_total<T>(const AccuracyBatch<T>&);                    \
  template double sparse_categorical_accuracy_total<T>(const AccuracyBatch<T>&);             \
  template double top_k_categorical_accuracy_total<T>(const AccuracyBatch<T>&, std::size_t); \
  template double sparse_top_k_categorical_accuracy_total<T>(const AccuracyBatch<T>&, std::size_t);
SIMDIFF_INSTANTIATE(float)
SIMDIFF_INSTANTIATE(double)
#undef SIMDIFF_INSTANTIATE

}  // namespace simdiff::detail
