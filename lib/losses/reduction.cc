#include "lib/losses/reduction.h"

#include <cmath>
#include <string>

#include "lib/losses/loss_arguments.h"
#include "lib/losses/scratch.h"

namespace simdiff::detail {
namespace {

// numpy's round: to the nearest integer, halves to the even one (0.5 -> 0, 1.5 -> 2, 2.5 -> 2),
// independent of the floating-point environment's rounding mode.
double round_half_to_even(double value) {
  const double nearest = std::round(value);  // halves away from zero
  if (std::fabs(value - std::trunc(value)) == 0.5) return 2 * std::round(value / 2);
  return nearest;
}

void check_class_weight_map(const char* function, const ClassWeight& class_weight) {
  for (const auto& [label, weight] : class_weight) {
    if (!(std::isfinite(weight) && weight >= 0)) {
      throw_loss_error(function, "class_weight[" + std::to_string(label) +
                                     "] = " + format_value(weight) + " is " +
                                     (std::isfinite(weight) ? "negative" : "not finite") +
                                     "; expected finite weights >= 0");
    }
  }
}

double weight_of_class(const ClassWeight& class_weight, double rounded_class) {
  // 2^63: larger classes cannot be keys of the map, so they weigh 1 like every absent class.
  constexpr double kInt64Limit = 9223372036854775808.0;
  if (!(std::fabs(rounded_class) < kInt64Limit)) return 1;
  const auto found = class_weight.find(static_cast<std::int64_t>(rounded_class));
  return found == class_weight.end() ? 1 : found->second;
}

// The first maximum of a row; the first NaN if there is one (numpy's argmax).
template <class T>
std::size_t first_argmax(const T* row, std::size_t cols) {
  std::size_t best = 0;
  for (std::size_t c = 0; c < cols; ++c) {
    if (std::isnan(row[c])) return c;
    if (row[c] > row[best]) best = c;
  }
  return best;
}

}  // namespace

template <class T>
void class_weights_of_samples(const char* function, std::span<const T> y_true, MatrixShape shape,
                              bool sparse, const ClassWeight& class_weight, double* out) {
  check_class_weight_map(function, class_weight);
  const std::size_t stride = shape.row_stride();
  for (std::size_t r = 0; r < shape.rows; ++r) {
    if (!sparse && shape.cols > 1) {
      const std::size_t best = first_argmax(y_true.data() + r * stride, shape.cols);
      out[r] = weight_of_class(class_weight, static_cast<double>(best));
      continue;
    }
    const T target = sparse ? y_true[r] : y_true[r * stride];
    if (std::isnan(target)) {
      throw_loss_error(function, "y_true[" + std::to_string(sparse ? r : r * stride) +
                                     "] = nan has no class; expected a number for class_weight");
    }
    out[r] = weight_of_class(class_weight, round_half_to_even(static_cast<double>(target)));
  }
}

template <class T>
SampleWeighting weigh_samples(const char* loss, const LossInput<T>& input, std::size_t rows,
                              bool sparse, const std::int64_t* labels,
                              std::vector<double>& storage) {
  SampleWeighting weighting;
  weighting.rows = rows;
  weighting.weighted = !input.sample_weight.empty() || input.class_weight != nullptr;
  weighting.masked = labels != nullptr;
  if (!weighting.weighted && !weighting.masked) {
    weighting.valid = rows;
    weighting.weight_sum = static_cast<double>(rows);
    return weighting;
  }
  double* weights = sized(storage, rows);
  if (input.class_weight != nullptr) {
    class_weights_of_samples(loss, input.y_true, input.shape, sparse, *input.class_weight, weights);
  } else if (!input.sample_weight.empty()) {
    for (std::size_t r = 0; r < rows; ++r) {
      weights[r] = static_cast<double>(input.sample_weight[r]);
    }
  } else {
    for (std::size_t r = 0; r < rows; ++r) weights[r] = 1;
  }
  weighting.valid = rows;
  if (weighting.masked) {
    for (std::size_t r = 0; r < rows; ++r) {
      if (labels[r] < 0) {
        weights[r] = 0;
        --weighting.valid;
      }
    }
  }
  for (std::size_t r = 0; r < rows; ++r) weighting.weight_sum += weights[r];
  weighting.weights = weights;
  return weighting;
}

double reduction_divisor(Reduction reduction, const SampleWeighting& weighting) {
  switch (reduction) {
    case Reduction::sum:
    case Reduction::none:
      return 1;
    case Reduction::sum_over_batch_size:
      // apply_mask scales the mask by B / valid, so the mean over B is a mean over the valid.
      return static_cast<double>(weighting.masked ? weighting.valid : weighting.rows);
    case Reduction::mean_with_sample_weight:
      return weighting.weighted || weighting.masked ? weighting.weight_sum
                                                    : static_cast<double>(weighting.rows);
  }
  return 1;
}

double reduction_factor(Reduction reduction, const SampleWeighting& weighting) {
  const double divisor = reduction_divisor(reduction, weighting);
  return divisor == 0 ? 0 : 1 / divisor;
}

template <class T>
double reduce_losses(Reduction reduction, const SampleWeighting& weighting, const T* losses) {
  double total = 0;
  for (std::size_t r = 0; r < weighting.rows; ++r) {
    total += static_cast<double>(losses[r]) * weighting.weight(r);
  }
  const double divisor = reduction_divisor(reduction, weighting);
  return divisor == 0 ? 0 : total / divisor;
}

#define SIMDIFF_INSTANTIATE(T)                                                                   \
  template void class_weights_of_samples<T>(const char*, std::span<const T>, MatrixShape, bool,  \
                                            const ClassWeight&, double*);                        \
  template SampleWeighting weigh_samples<T>(const char*, const LossInput<T>&, std::size_t, bool, \
                                            const std::int64_t*, std::vector<double>&);          \
  template double reduce_losses<T>(Reduction, const SampleWeighting&, const T*);
SIMDIFF_INSTANTIATE(float)
SIMDIFF_INSTANTIATE(double)
#undef SIMDIFF_INSTANTIATE

}  // namespace simdiff::detail

namespace simdiff {
namespace {

template <class T>
std::vector<double> class_weight_to_sample_weight_impl(std::span<const T> y_true, MatrixShape shape,
                                                       bool sparse,
                                                       const ClassWeight& class_weight) {
  constexpr const char* kFunction = "class_weight_to_sample_weight";
  if (sparse) {
    detail::check_per_sample_size(kFunction, "y_true", y_true.size(), shape.rows);
  } else {
    detail::check_loss_matrix(kFunction, "y_true", y_true.size(), shape);
  }
  std::vector<double> weights(shape.rows);
  detail::class_weights_of_samples(kFunction, y_true, shape, sparse, class_weight, weights.data());
  return weights;
}

}  // namespace

std::vector<double> class_weight_to_sample_weight(std::span<const double> y_true, MatrixShape shape,
                                                  bool sparse, const ClassWeight& class_weight) {
  return class_weight_to_sample_weight_impl(y_true, shape, sparse, class_weight);
}

std::vector<double> class_weight_to_sample_weight(std::span<const float> y_true, MatrixShape shape,
                                                  bool sparse, const ClassWeight& class_weight) {
  return class_weight_to_sample_weight_impl(y_true, shape, sparse, class_weight);
}

}  // namespace simdiff
