#include "lib/losses/loss_arguments.h"

#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>
#include <variant>

#include "lib/argument_checks.h"

namespace simdiff::detail {
namespace {

template <class T>
std::string shortest_text(T value) {
  char text[64];
  const std::to_chars_result result = std::to_chars(text, text + sizeof text, value);
  return result.ec == std::errc() ? std::string(text, result.ptr) : std::string("?");
}

// "label_smoothing = 1.5 is outside [0, 1]; expected ...".
void check_unit_interval(const char* loss, const char* argument, double value,
                         const char* meaning) {
  if (!(value >= 0 && value <= 1)) {
    throw_loss_error(loss, std::string(argument) + " = " + format_value(value) +
                               " is outside [0, 1]; expected " + meaning + " in [0, 1]");
  }
}

void check_reduction(const char* loss, Reduction reduction) {
  switch (reduction) {
    case Reduction::sum_over_batch_size:
    case Reduction::sum:
    case Reduction::none:
    case Reduction::mean_with_sample_weight:
      return;
  }
  throw_loss_error(loss, "reduction = " + std::to_string(static_cast<int>(reduction)) +
                             " is not a Reduction; expected sum_over_batch_size, sum, none or "
                             "mean_with_sample_weight");
}

void check_gamma(const char* loss, double gamma) {
  if (!(std::isfinite(gamma) && gamma >= 0)) {
    throw_loss_error(loss, "gamma = " + format_value(gamma) +
                               " is not a focusing exponent; expected a finite number >= 0");
  }
}

std::string describe_shape(MatrixShape shape) {
  std::string text = std::to_string(shape.rows) + " x " + std::to_string(shape.cols);
  if (shape.stride != 0) text += " (stride " + std::to_string(shape.stride) + ")";
  return text;
}

}  // namespace

std::string format_value(float value) { return shortest_text(value); }
std::string format_value(double value) { return shortest_text(value); }

void throw_loss_error(const char* loss, const std::string& message) {
  throw std::invalid_argument(std::string(loss) + ": " + message);
}

void check_loss_options(const char* loss, const Loss::Config& config) {
  std::visit(
      [&](const auto& options) {
        check_reduction(loss, options.reduction);
        if constexpr (requires { options.label_smoothing; }) {
          check_unit_interval(loss, "label_smoothing", options.label_smoothing,
                              "a smoothing factor");
        }
        if constexpr (requires { options.alpha; }) {
          check_unit_interval(loss, "alpha", options.alpha, "a class-balancing weight");
        }
        if constexpr (requires { options.gamma; }) check_gamma(loss, options.gamma);
      },
      config);
}

std::size_t check_loss_matrix(const char* loss, const char* argument, std::size_t size,
                              MatrixShape shape) {
  const std::size_t extent = checked_extent(loss, shape);
  // rows * stride cannot overflow: checked_extent bounds (rows - 1) * stride + cols.
  const std::size_t whole_rows = shape.rows * shape.row_stride();
  if (size < extent || size > whole_rows) {
    std::string expected = extent == whole_rows ? std::to_string(extent)
                                                : "between " + std::to_string(extent) + " and " +
                                                      std::to_string(whole_rows);
    throw_loss_error(loss, std::string(argument) + " has " + std::to_string(size) +
                               " elements; the shape " + describe_shape(shape) + " needs " +
                               expected);
  }
  return extent;
}

void check_per_sample_size(const char* loss, const char* argument, std::size_t size,
                           std::size_t rows) {
  if (size != rows) {
    throw_loss_error(loss, std::string(argument) + " has " + std::to_string(size) +
                               " elements; expected " + std::to_string(rows) +
                               ", one per sample (shape.rows)");
  }
}

template <class T>
void check_sample_weight(const char* loss, std::span<const T> sample_weight, std::size_t rows) {
  if (sample_weight.empty()) return;
  if (sample_weight.size() != rows) {
    throw_loss_error(loss, "sample_weight has " + std::to_string(sample_weight.size()) +
                               " elements; expected " + std::to_string(rows) +
                               ", one per sample (shape.rows), or none");
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const T w = sample_weight[r];
    if (!(std::isfinite(w) && w >= 0)) {
      throw_loss_error(loss, "sample_weight[" + std::to_string(r) + "] = " + format_value(w) +
                                 " is " + (std::isfinite(w) ? "negative" : "not finite") +
                                 "; expected finite weights >= 0");
    }
  }
}

template <class T>
void convert_labels(const char* loss, std::span<const T> y_true, std::size_t classes,
                    std::optional<std::int64_t> ignore_class, std::int64_t* labels) {
  // 2^63 as a double: integers of smaller magnitude convert to int64 exactly.
  constexpr double kInt64Limit = 9223372036854775808.0;
  for (std::size_t r = 0; r < y_true.size(); ++r) {
    const double value = static_cast<double>(y_true[r]);
    const bool integer = std::isfinite(value) && value == std::trunc(value);
    if (integer && ignore_class.has_value() && std::fabs(value) < kInt64Limit &&
        static_cast<std::int64_t>(value) == *ignore_class) {
      labels[r] = -1;
      continue;
    }
    if (integer && value >= 0 && value < static_cast<double>(classes)) {
      labels[r] = static_cast<std::int64_t>(value);
      continue;
    }
    const std::string allowed =
        "an integer in [0, " + std::to_string(classes) + ")" +
        (ignore_class.has_value() ? " or ignore_class = " + std::to_string(*ignore_class) : "");
    throw_loss_error(loss, "y_true[" + std::to_string(r) + "] = " + format_value(y_true[r]) +
                               (integer ? " is not a class of the " + std::to_string(classes) +
                                              " columns of y_pred"
                                        : " is not an integer class label") +
                               "; expected " + allowed);
  }
}

template void check_sample_weight<float>(const char*, std::span<const float>, std::size_t);
template void check_sample_weight<double>(const char*, std::span<const double>, std::size_t);
template void convert_labels<float>(const char*, std::span<const float>, std::size_t,
                                    std::optional<std::int64_t>, std::int64_t*);
template void convert_labels<double>(const char*, std::span<const double>, std::size_t,
                                     std::optional<std::int64_t>, std::int64_t*);

}  // namespace simdiff::detail
