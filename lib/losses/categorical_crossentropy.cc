// Categorical and sparse categorical cross-entropy (keras.losses.categorical_crossentropy,
// sparse_categorical_crossentropy): from logits through the fused softmax kernels, from
// probabilities as one loop over the rows that both share.
#include <cmath>

#include "lib/kernel_table.h"
#include "lib/losses/loss_rows.h"
#include "lib/losses/probability_steps.h"

namespace simdiff::detail {
namespace {

// One row of -sum_k t_k ln o_k, o = clip(q), q = p / sum(p). A zero target drops its term (and
// its gradient). `target(k)` gives t_k.
//
// Gradient: with d_k = dL/dq_k = -t_k / o_k where the clip passes it (0 elsewhere) and
// dq_k/dp_j = (delta_kj - q_k) / sum(p):  dL/dp_j = (d_j - sum_k d_k q_k) / sum(p).
template <class T, class Target>
void normalized_crossentropy_row(const T* p, std::size_t cols, const Target& target, T* loss,
                                 T* grad, double scale) {
  double sum = 0;
  for (std::size_t k = 0; k < cols; ++k) sum += static_cast<double>(p[k]);
  // Keras divides by the row sum in the tensor dtype: the quotient is rounded to T before the
  // clip sees it.
  const T total = static_cast<T>(sum);
  double value = 0;
  double d_dot_q = 0;
  for (std::size_t k = 0; k < cols; ++k) {
    const double t = target(k);
    if (t == 0) continue;
    const T q = p[k] / total;
    const T o = clip_probability(q);
    value -= t * std::log(static_cast<double>(o));
    if (clip_passes_gradient(q)) d_dot_q -= t / static_cast<double>(o) * static_cast<double>(q);
  }
  *loss = static_cast<T>(value);
  if (grad == nullptr) return;
  const double factor = scale / static_cast<double>(total);
  for (std::size_t j = 0; j < cols; ++j) {
    const double t = target(j);
    const T q = p[j] / total;
    const double d =
        t != 0 && clip_passes_gradient(q) ? -t / static_cast<double>(clip_probability(q)) : 0;
    grad[j] = static_cast<T>(factor * (d - d_dot_q));
  }
}

}  // namespace

template <class T>
void categorical_crossentropy_rows(const CategoricalCrossentropy& options,
                                   const LossRows<T>& batch) {
  if (options.from_logits) {
    // logsumexp(x) sum_c y_c - sum_c y_c x_c: a zero target drops its term even at x = -inf.
    active_kernels().of<T>().softmax_cross_entropy(
        batch.y_pred, batch.y_true, batch.scale, static_cast<T>(options.label_smoothing),
        batch.loss, batch.grad, batch.rows, batch.cols, batch.stride);
    return;
  }
  for (std::size_t r = 0; r < batch.rows; ++r) {
    const T* y_true = batch.y_true + r * batch.stride;
    const auto target = [&](std::size_t k) {
      return static_cast<double>(
          smooth_categorical_target(y_true[k], options.label_smoothing, batch.cols));
    };
    normalized_crossentropy_row(batch.y_pred + r * batch.stride, batch.cols, target, batch.loss + r,
                                batch.grad == nullptr ? nullptr : batch.grad + r * batch.stride,
                                batch.grad == nullptr ? 0 : static_cast<double>(batch.scale[r]));
  }
}

template <class T>
void sparse_categorical_crossentropy_rows(const SparseCategoricalCrossentropy& options,
                                          const LossRows<T>& batch) {
  if (options.from_logits) {
    // lse(x) - (1 - ls) x[label] - ls mean(x); rows labelled -1 get loss 0 and gradient 0.
    active_kernels().of<T>().sparse_softmax_cross_entropy(
        batch.y_pred, batch.labels, batch.scale, static_cast<T>(options.label_smoothing),
        batch.loss, batch.grad, batch.rows, batch.cols, batch.stride);
    return;
  }
  // (1 - ls) CE(label) + ls CE(uniform) is the cross-entropy of the smoothed one-hot target.
  const double uniform = options.label_smoothing / static_cast<double>(batch.cols);
  const double target_weight = 1 - options.label_smoothing;
  for (std::size_t r = 0; r < batch.rows; ++r) {
    T* grad = batch.grad == nullptr ? nullptr : batch.grad + r * batch.stride;
    const std::int64_t label = batch.labels[r];
    if (label < 0) {
      // Ignored: the loss does not depend on this row (Keras' expression would give NaN
      // gradients here through 0 / 0; their limit, and the derivative of the loss, is 0).
      batch.loss[r] = 0;
      if (grad != nullptr) {
        for (std::size_t c = 0; c < batch.cols; ++c) grad[c] = 0;
      }
      continue;
    }
    const auto target_class = static_cast<std::size_t>(label);
    const auto target = [&](std::size_t k) {
      return (k == target_class ? target_weight : 0.0) + uniform;
    };
    normalized_crossentropy_row(batch.y_pred + r * batch.stride, batch.cols, target, batch.loss + r,
                                grad, grad == nullptr ? 0 : static_cast<double>(batch.scale[r]));
  }
}

#define SIMDIFF_INSTANTIATE(T)                                                                \
  template void categorical_crossentropy_rows<T>(const CategoricalCrossentropy&,              \
                                                 const LossRows<T>&);                         \
  template void sparse_categorical_crossentropy_rows<T>(const SparseCategoricalCrossentropy&, \
                                                        const LossRows<T>&);
SIMDIFF_INSTANTIATE(float)
SIMDIFF_INSTANTIATE(double)
#undef SIMDIFF_INSTANTIATE

}  // namespace simdiff::detail
