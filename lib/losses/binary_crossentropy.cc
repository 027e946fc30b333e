// Binary cross-entropy (keras.losses.binary_crossentropy): from logits through the fused
// sigmoid_cross_entropy kernel, from probabilities as a loop over the rows.
#include <cmath>

#include "lib/kernel_table.h"
#include "lib/losses/loss_rows.h"
#include "lib/losses/probability_steps.h"

namespace simdiff::detail {
namespace {

// e = -(y ln p + (1 - y) ln(1 - p)) with p clipped, per element; the loss of a row is the mean.
// d e / d p = (1 - y) / (1 - p) - y / p inside the clip interval and 0 outside it.
template <class T>
void binary_crossentropy_of_probabilities(double label_smoothing, const LossRows<T>& batch) {
  const double inverse_cols = 1.0 / static_cast<double>(batch.cols);
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* y_true = batch.y_true + r * batch.stride;
    const T* p = batch.y_pred + r * batch.stride;
    double sum = 0;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      const T y = smooth_binary_target(y_true[c], label_smoothing);
      sum += binary_crossentropy_of_clipped(y, clip_probability(p[c]));
    }
    batch.loss[r] = static_cast<T>(sum * inverse_cols);
    if (batch.grad == nullptr) continue;
    T* grad = batch.grad + r * batch.stride;
    const double scale = static_cast<double>(batch.scale[r]) * inverse_cols;
    for (std::size_t c = 0; c < batch.cols; ++c) {
      if (!clip_passes_gradient(p[c])) {
        grad[c] = 0;
        continue;
      }
      const T y = smooth_binary_target(y_true[c], label_smoothing);
      const double d = static_cast<double>(T{1} - y) / static_cast<double>(T{1} - p[c]) -
                       static_cast<double>(y) / static_cast<double>(p[c]);
      grad[c] = static_cast<T>(scale * d);
    }
  }
}

}  // namespace

template <class T>
void binary_crossentropy_rows(const BinaryCrossentropy& options, const LossRows<T>& batch) {
  if (!options.from_logits) {
    binary_crossentropy_of_probabilities(options.label_smoothing, batch);
    return;
  }
  // max(x, 0) - x y + log1p(exp(-|x|)), unclipped, as the TensorFlow, JAX and torch backends.
  active_kernels().of<T>().sigmoid_cross_entropy(
      batch.y_pred, batch.y_true, batch.scale, static_cast<T>(options.label_smoothing), batch.loss,
      batch.grad, batch.rows, batch.cols, batch.stride);
}

template void binary_crossentropy_rows<float>(const BinaryCrossentropy&, const LossRows<float>&);
template void binary_crossentropy_rows<double>(const BinaryCrossentropy&, const LossRows<double>&);

}  // namespace simdiff::detail
