// Checks of the losses' arguments at the public boundary. Every failure throws
// std::invalid_argument("<loss name>: <argument>[<sample>] = <value> ...; expected ...").
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "simdiff/losses.h"
#include "simdiff/matrix_shape.h"

namespace simdiff::detail {

/// The shortest decimal text that reads back as `value`: "0.1", "5", "nan", "-inf".
std::string format_value(float value);
std::string format_value(double value);

/// Throws std::invalid_argument("<loss>: <message>").
[[noreturn]] void throw_loss_error(const char* loss, const std::string& message);

/// label_smoothing in [0, 1]; alpha in [0, 1]; gamma finite and >= 0; a known reduction.
void check_loss_options(const char* loss, const Loss::Config& config);

/// Validates `shape` and the size of the matrix `argument`: at least the elements the shape spans
/// and at most rows * stride. Returns the span's extent.
std::size_t check_loss_matrix(const char* loss, const char* argument, std::size_t size,
                              MatrixShape shape);

/// Exactly `rows` elements of `argument` (sparse labels, per-sample outputs).
void check_per_sample_size(const char* loss, const char* argument, std::size_t size,
                           std::size_t rows);

/// Empty or `rows` weights, each finite and >= 0.
template <class T>
void check_sample_weight(const char* loss, std::span<const T> sample_weight, std::size_t rows);

/// Converts the sparse labels to class indices: an integer in [0, classes) stays, the value of
/// `ignore_class` becomes -1, anything else (NaN, fractions, out of range) throws.
template <class T>
void convert_labels(const char* loss, std::span<const T> y_true, std::size_t classes,
                    std::optional<std::int64_t> ignore_class, std::int64_t* labels);

}  // namespace simdiff::detail
