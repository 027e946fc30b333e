// Mean squared and mean absolute error (keras.losses.mean_squared_error, mean_absolute_error).
// The difference y - p is formed in T as in Keras, so a float square beyond the float range gives
// an infinite float loss, as it does in Keras' float32.
#include <cmath>

#include "lib/losses/loss_rows.h"

namespace simdiff::detail {
namespace {

// mean_c penalty(y - p) over each row; the gradient element is scale / cols * dpenalty/dp.
template <class T, class Penalty, class PenaltyGradient>
void mean_over_classes(const LossRows<T>& batch, const Penalty& penalty,
                       const PenaltyGradient& gradient) {
  const double inverse_cols = 1.0 / static_cast<double>(batch.cols);
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* y_true = batch.y_true + r * batch.stride;
    const T* p = batch.y_pred + r * batch.stride;
    double sum = 0;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      sum += penalty(static_cast<double>(y_true[c] - p[c]));
    }
    batch.loss[r] = static_cast<T>(sum * inverse_cols);
    if (batch.grad == nullptr) continue;
    T* grad = batch.grad + r * batch.stride;
    const double scale = static_cast<double>(batch.scale[r]) * inverse_cols;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      grad[c] = static_cast<T>(scale * gradient(static_cast<double>(y_true[c] - p[c])));
    }
  }
}

// sign(v), 0 at 0 (the derivative torch and TensorFlow give |v| there), NaN at NaN.
double sign(double v) { return v > 0 ? 1.0 : v < 0 ? -1.0 : v * 0; }

}  // namespace

template <class T>
void mean_squared_error_rows(const LossRows<T>& batch) {
  // d (y - p)^2 / dp = -2 (y - p).
  mean_over_classes(
      batch, [](double difference) { return difference * difference; },
      [](double difference) { return -2 * difference; });
}

template <class T>
void mean_absolute_error_rows(const LossRows<T>& batch) {
  // d |y - p| / dp = -sign(y - p).
  mean_over_classes(
      batch, [](double difference) { return std::fabs(difference); },
      [](double difference) { return -sign(difference); });
}

template void mean_squared_error_rows<float>(const LossRows<float>&);
template void mean_squared_error_rows<double>(const LossRows<double>&);
template void mean_absolute_error_rows<float>(const LossRows<float>&);
template void mean_absolute_error_rows<double>(const LossRows<double>&);

}  // namespace simdiff::detail
