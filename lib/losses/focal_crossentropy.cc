// Binary and categorical focal cross-entropy (keras.losses.binary_focal_crossentropy,
// categorical_focal_crossentropy) as loops over the rows. From logits, Keras applies the sigmoid
// or softmax first and then the probability formula with its clip (on the numpy, JAX and torch
// backends), so the logits paths here do the same.
#include <cmath>
#include <limits>

#include "lib/losses/loss_rows.h"
#include "lib/losses/probability_steps.h"
#include "lib/losses/scratch.h"

namespace simdiff::detail {
namespace {

// The modulating factor m^gamma and its derivative, for one focusing exponent gamma >= 0. A small
// integer gamma (the default 2 among them) is applied by repeated multiplication, several times
// faster than std::pow and as accurate. The derivative is torch's for pow with a scalar exponent:
// 0 for gamma = 0 (m^0 is the constant 1), gamma m^(gamma - 1) otherwise.
class FocusingPower {
 public:
  explicit FocusingPower(double gamma)
      : gamma_(gamma),
        integer_(gamma <= kLargestInteger && gamma == std::floor(gamma) ? static_cast<int>(gamma)
                                                                        : -1) {}

  [[nodiscard]] double value(double m) const { return raise(m, gamma_, integer_); }
  [[nodiscard]] double derivative(double m) const {
    return gamma_ == 0 ? 0 : gamma_ * raise(m, gamma_ - 1, integer_ - 1);
  }

 private:
  static constexpr double kLargestInteger = 8;

  // m^exponent, by multiplication when `integer` (the exponent as an int, or negative) allows.
  static double raise(double m, double exponent, int integer) {
    if (integer < 0) return std::pow(m, exponent);
    double result = 1;
    for (int i = 0; i < integer; ++i) result *= m;
    return result;
  }

  double gamma_;
  int integer_;  // gamma when it is an integer up to kLargestInteger, else -1
};

// One element of the binary focal loss and its derivative with respect to p.
struct BinaryFocalElement {
  double value;
  double d_dp;
};

// (1 - p_t)^gamma bce(y, clip(p)) times the class balance, p_t = y p + (1 - y)(1 - p) with the
// unclipped p (element-wise steps in T, as Keras in the tensor dtype). With m = 1 - p_t,
// dm/dp = 1 - 2y and dbce/dp = (1 - y) / (1 - p) - y / p inside the clip interval, 0 outside.
template <class T>
BinaryFocalElement binary_focal_element(const BinaryFocalCrossentropy& options,
                                        const FocusingPower& power, T y, T p,
                                        bool want_derivative) {
  const T one_minus_y = T{1} - y;
  const double bce = binary_crossentropy_of_clipped(y, clip_probability(p));
  const T p_t = y * p + one_minus_y * (T{1} - p);
  const double m = static_cast<double>(T{1} - p_t);
  const double modulating = power.value(m);
  const double balance = options.apply_class_balancing
                             ? static_cast<double>(y) * options.alpha +
                                   static_cast<double>(one_minus_y) * (1 - options.alpha)
                             : 1.0;
  BinaryFocalElement element{balance * modulating * bce, 0};
  if (!want_derivative) return element;
  const double dbce_dp = clip_passes_gradient(p)
                             ? static_cast<double>(one_minus_y) / static_cast<double>(T{1} - p) -
                                   static_cast<double>(y) / static_cast<double>(p)
                             : 0;
  const double dm_dp = 1 - 2 * static_cast<double>(y);
  element.d_dp = balance * (power.derivative(m) * dm_dp * bce + modulating * dbce_dp);
  return element;
}

// Softmax of one row in double, rounded to T as ops.softmax in the tensor dtype (NaN anywhere,
// or a +inf logit, gives a NaN row).
template <class T>
void softmax_row(const T* x, std::size_t cols, double* probabilities) {
  double max = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < cols; ++k) {
    const auto v = static_cast<double>(x[k]);
    if (std::isnan(v) || v > max) max = v;
    if (std::isnan(max)) break;
  }
  double sum = 0;
  for (std::size_t k = 0; k < cols; ++k) {
    probabilities[k] = std::exp(static_cast<double>(x[k]) - max);
    sum += probabilities[k];
  }
  for (std::size_t k = 0; k < cols; ++k) {
    probabilities[k] = static_cast<double>(static_cast<T>(probabilities[k] / sum));
  }
}

}  // namespace

template <class T>
void binary_focal_crossentropy_rows(const BinaryFocalCrossentropy& options,
                                    const LossRows<T>& batch) {
  const double inverse_cols = 1.0 / static_cast<double>(batch.cols);
  const bool want_grad = batch.grad != nullptr;
  const FocusingPower power(options.gamma);
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* y_true = batch.y_true + r * batch.stride;
    const T* x = batch.y_pred + r * batch.stride;
    T* grad = want_grad ? batch.grad + r * batch.stride : nullptr;
    const double scale = want_grad ? static_cast<double>(batch.scale[r]) * inverse_cols : 0;
    double sum = 0;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      const T y = smooth_binary_target(y_true[c], options.label_smoothing);
      const T p = options.from_logits ? sigmoid(x[c]) : x[c];
      const BinaryFocalElement element = binary_focal_element(options, power, y, p, want_grad);
      sum += element.value;
      if (!want_grad) continue;
      // d sigmoid / dx = p (1 - p), from the rounded p as torch's sigmoid backward.
      const double dp_dx =
          options.from_logits ? static_cast<double>(p) * static_cast<double>(T{1} - p) : 1.0;
      grad[c] = static_cast<T>(scale * element.d_dp * dp_dx);
    }
    batch.loss[r] = static_cast<T>(sum * inverse_cols);
  }
}

// sum_k alpha (1 - o_k)^gamma (-y_k ln o_k), o = clip(q), q = p / sum(p), p = softmax(x) from
// logits. Backward, from the loss to x:
//   d_k = dL/dq_k = alpha (-(d(1 - o_k)^gamma) (-y_k ln o_k) + (1 - o_k)^gamma (-y_k / o_k))
//                   where the clip passes it, 0 elsewhere;
//   g_j = dL/dp_j = (d_j - sum_k d_k q_k) / sum(p)   (the normalization);
//   dL/dx_j = p_j (g_j - sum_k g_k p_k)              (the softmax).
template <class T>
void categorical_focal_crossentropy_rows(const CategoricalFocalCrossentropy& options,
                                         const LossRows<T>& batch) {
  const std::size_t cols = batch.cols;
  const bool want_grad = batch.grad != nullptr;
  const FocusingPower power(options.gamma);
  // Per class: the probabilities p (softmax of the logits, or y_pred), and d, then g in place.
  double* row = sized(loss_scratch().row, 2 * cols);
  double* probabilities = row;
  double* d = row + cols;
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* y_true = batch.y_true + r * batch.stride;
    const T* x = batch.y_pred + r * batch.stride;
    if (options.from_logits) {
      softmax_row(x, cols, probabilities);
    } else {
      for (std::size_t k = 0; k < cols; ++k) probabilities[k] = static_cast<double>(x[k]);
    }
    double sum = 0;
    for (std::size_t k = 0; k < cols; ++k) sum += probabilities[k];
    const T total = static_cast<T>(sum);
    double value = 0;
    double d_dot_q = 0;
    for (std::size_t k = 0; k < cols; ++k) {
      const T y = smooth_categorical_target(y_true[k], options.label_smoothing, cols);
      const T q = static_cast<T>(probabilities[k]) / total;
      const T o = clip_probability(q);
      const double cross_entropy = -static_cast<double>(y) * std::log(static_cast<double>(o));
      const double m = static_cast<double>(T{1} - o);
      const double modulating = power.value(m);
      value += options.alpha * modulating * cross_entropy;
      if (!want_grad) continue;
      d[k] = clip_passes_gradient(q)
                 ? options.alpha * (-power.derivative(m) * cross_entropy -
                                    modulating * static_cast<double>(y) / static_cast<double>(o))
                 : 0;
      d_dot_q += d[k] * static_cast<double>(q);
    }
    batch.loss[r] = static_cast<T>(value);
    if (!want_grad) continue;
    T* grad = batch.grad + r * batch.stride;
    const double scale = static_cast<double>(batch.scale[r]);
    double* g = d;
    double g_dot_p = 0;
    for (std::size_t j = 0; j < cols; ++j) {
      g[j] = (d[j] - d_dot_q) / static_cast<double>(total);
      g_dot_p += g[j] * probabilities[j];
    }
    for (std::size_t j = 0; j < cols; ++j) {
      const double dl_dx = options.from_logits ? probabilities[j] * (g[j] - g_dot_p) : g[j];
      grad[j] = static_cast<T>(scale * dl_dx);
    }
  }
}

#define SIMDIFF_INSTANTIATE(T)                                                              \
  template void binary_focal_crossentropy_rows<T>(const BinaryFocalCrossentropy&,           \
                                                  const LossRows<T>&);                      \
  template void categorical_focal_crossentropy_rows<T>(const CategoricalFocalCrossentropy&, \
                                                       const LossRows<T>&);
SIMDIFF_INSTANTIATE(float)
SIMDIFF_INSTANTIATE(double)
#undef SIMDIFF_INSTANTIATE

}  // namespace simdiff::detail
