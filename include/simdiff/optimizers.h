// Optimizers with Keras 3 semantics: the same constructor arguments, defaults and update formulas
// (keras/src/optimizers/{sgd,rmsprop,adam,adamw,base_optimizer}.py), applied by SIMD kernels to
// one flat buffer that holds every trainable variable back to back.
//
//   simdiff::Optimizer optimizer = simdiff::RMSprop{.lr = 0.01};   // the article's spelling
//   optimizer.build({kernel_size, bias_size});                     // the variables' sizes
//   optimizer.apply(parameters, gradients);                        // one training step
//
// One step, in Keras' order: the gradients are clipped (clipnorm per variable, or global_clipnorm
// over all of them, or clipvalue element-wise; at most one of the three may be set), weight decay
// multiplies each variable by (1 - learning_rate * weight_decay) (computed as Keras does:
// v - v * wd * lr), then the optimizer's update runs, then `iterations` grows by one. The learning
// rate of a step is the schedule's value at `iterations` before the increment (0 for the first
// step), as in Keras.
//
// Update formulas (g the gradient, t = iterations + 1, slots start at 0):
//   SGD:      momentum == 0: v -= lr g
//             else m = momentum m - lr g; v += m, or with nesterov v += momentum m - lr g
//   RMSprop:  a = rho a + (1 - rho) g^2; centered: mg = rho mg + (1 - rho) g, d = a - mg^2 + eps,
//             else d = a + eps (epsilon inside the square root, as Keras 3);
//             inc = lr g / sqrt(d); momentum > 0: m = momentum m + inc, v -= m; else v -= inc
//   Adam:     m += (g - m)(1 - beta_1); s += (g^2 - s)(1 - beta_2); amsgrad: s_max = max(s_max, s)
//             v -= m alpha / (sqrt(s or s_max) + eps), alpha = lr sqrt(1 - beta_2^t) / (1 -
//             beta_1^t)
//   AdamW:    Adam with weight_decay (default 0.004).
// The element-wise work runs in float on the backend selected in <simdiff/backend.h>; the scalar
// factors (alpha, the clip scale, the decay factor) are computed in double and rounded once. The
// xsimd backend has no optimizer kernels of its own: with it selected, the optimizer runs the
// Highway kernels of the best target this CPU has (optimizer_target() says which ran).
//
// Errors: std::invalid_argument naming the argument and its value: a learning rate that is negative
// or not finite (0 is allowed: a frozen step), both `lr` and `learning_rate` given, momentum
// outside [0, 1], rho, beta_1 or beta_2 outside [0, 1), epsilon <= 0, clip thresholds <= 0 or
// more than one of them, weight_decay < 0, schedules with decay_steps <= 0; at `apply`, buffers
// whose sizes differ from what `build` was given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace simdiff {

/// Keras' ExponentialDecay: initial_learning_rate * decay_rate^(step / decay_steps), the exponent
/// floored when staircase.
struct ExponentialDecay {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  double decay_rate = 0.96;
  bool staircase = false;
};

/// Keras 3's CosineDecay. Without warmup: initial * ((1 - alpha) c + alpha),
/// c = (1 + cos(pi min(step, decay_steps) / decay_steps)) / 2. With warmup_target: a linear ramp
/// from initial_learning_rate to warmup_target over warmup_steps, then the cosine decay from
/// warmup_target over the next decay_steps steps.
struct CosineDecay {
  double initial_learning_rate = 0.01;
  std::int64_t decay_steps = 1000;
  double alpha = 0;
  std::optional<double> warmup_target = std::nullopt;
  std::int64_t warmup_steps = 0;
};

/// A learning rate: a constant or a schedule of the step (the optimizer's iterations).
class LearningRate {
 public:
  LearningRate(double value) : value_(value) {}  // NOLINT(google-explicit-constructor)
  LearningRate(ExponentialDecay schedule) : value_(schedule) {}  // NOLINT
  LearningRate(CosineDecay schedule) : value_(schedule) {}       // NOLINT

  /// The learning rate at `step` (>= 0).
  [[nodiscard]] double at(std::int64_t step) const;
  /// Whether this is a constant (not a schedule).
  [[nodiscard]] bool is_constant() const noexcept { return value_.index() == 0; }
  [[nodiscard]] const std::variant<double, ExponentialDecay, CosineDecay>& value() const noexcept {
    return value_;
  }
  /// Throws std::invalid_argument naming `argument` unless the value (or the schedule's
  /// parameters) is valid: finite learning rates >= 0, decay_steps > 0, warmup_steps >= 0,
  /// decay_rate > 0, alpha in [0, 1].
  void validate(const char* argument) const;

 private:
  std::variant<double, ExponentialDecay, CosineDecay> value_;
};

/// Keras' SGD. `lr` is a true alias of `learning_rate` (giving both throws).
struct SGD {
  std::optional<LearningRate> learning_rate = std::nullopt;  ///< default 0.01
  std::optional<LearningRate> lr = std::nullopt;
  double momentum = 0;
  bool nesterov = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};

/// Keras 3's RMSprop. `lr` is a true alias of `learning_rate` (giving both throws).
struct RMSprop {
  std::optional<LearningRate> learning_rate = std::nullopt;  ///< default 0.001
  std::optional<LearningRate> lr = std::nullopt;
  double rho = 0.9;
  double momentum = 0;
  double epsilon = 1e-7;
  bool centered = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};

/// Keras 3's Adam. `lr` is a true alias of `learning_rate` (giving both throws).
struct Adam {
  std::optional<LearningRate> learning_rate = std::nullopt;  ///< default 0.001
  std::optional<LearningRate> lr = std::nullopt;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> weight_decay = std::nullopt;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};

/// Keras 3's AdamW: Adam with decoupled weight decay (applied to every variable, biases included,
/// as Keras does without exclude_from_weight_decay).
struct AdamW {
  std::optional<LearningRate> learning_rate = std::nullopt;  ///< default 0.001
  std::optional<LearningRate> lr = std::nullopt;
  double weight_decay = 0.004;
  double beta_1 = 0.9;
  double beta_2 = 0.999;
  double epsilon = 1e-7;
  bool amsgrad = false;
  std::optional<double> clipnorm = std::nullopt;
  std::optional<double> clipvalue = std::nullopt;
  std::optional<double> global_clipnorm = std::nullopt;
};

namespace detail {
template <class T, class V>
inline constexpr bool is_optimizer_alternative_v = false;
template <class T, class... Alternatives>
inline constexpr bool is_optimizer_alternative_v<T, std::variant<Alternatives...>> =
    (std::is_same_v<T, Alternatives> || ...);
}  // namespace detail

/// An optimizer of any kind with its state (slots and iterations) for one set of variables.
/// A value type: copies carry their state.
class Optimizer {
 public:
  using Config = std::variant<SGD, RMSprop, Adam, AdamW>;

  /// Validates the configuration (see the errors above).
  Optimizer(Config config);  // NOLINT(google-explicit-constructor): Optimizer o = Adam{};

  template <class Options>
  requires detail::is_optimizer_alternative_v<std::remove_cvref_t<Options>, Config> Optimizer(
      Options&& options)  // NOLINT(google-explicit-constructor)
      : Optimizer(Config(std::forward<Options>(options))) {}

  /// By Keras name with default arguments ("sgd", "rmsprop", "adam", "adamw", case-insensitive,
  /// as Keras' optimizers.get), optionally with a learning rate. Throws std::invalid_argument
  /// listing the names otherwise.
  static Optimizer from_name(std::string_view name,
                             std::optional<LearningRate> learning_rate = std::nullopt);

  /// The Keras name: "sgd", "rmsprop", "adam" or "adamw".
  [[nodiscard]] std::string_view name() const noexcept;
  [[nodiscard]] const Config& config() const noexcept { return config_; }
  /// The learning rate (or schedule) in use, `lr` or `learning_rate` or the default.
  [[nodiscard]] const LearningRate& learning_rate() const noexcept { return learning_rate_; }

  /// Sets the layout of the flat buffer: variable i has `variable_sizes[i]` elements (clipnorm is
  /// per variable). Resets the slots to 0 and iterations to 0.
  void build(std::span<const std::size_t> variable_sizes);
  [[nodiscard]] bool built() const noexcept { return built_; }
  /// Total elements of the flat buffer given to build.
  [[nodiscard]] std::size_t size() const noexcept { return total_; }

  /// One step: updates `variables` in place from `gradients` (both of size(); they must not
  /// overlap). `gradients` is clipped in place when clipping is configured. Builds a single
  /// variable of variables.size() elements if build was not called. Throws std::invalid_argument
  /// for other sizes.
  void apply(std::span<float> variables, std::span<float> gradients);

  /// Steps taken since build.
  [[nodiscard]] std::int64_t iterations() const noexcept { return iterations_; }
  /// The learning rate the next step uses.
  [[nodiscard]] double current_learning_rate() const { return learning_rate_.at(iterations_); }

  /// The kernel target of the last apply ("AVX2", "scalar", ...), empty before it.
  [[nodiscard]] const std::string& optimizer_target() const noexcept { return target_; }

 private:
  Config config_;
  LearningRate learning_rate_;
  std::optional<double> weight_decay_, clipnorm_, clipvalue_, global_clipnorm_;
  bool built_ = false;
  std::vector<std::size_t> sizes_;
  std::size_t total_ = 0;
  // Slots over the flat buffer: SGD momentum; RMSprop velocity, momentum, average gradient;
  // Adam first and second moments, max second moment (amsgrad).
  std::vector<float> slot0_, slot1_, slot2_;
  std::int64_t iterations_ = 0;
  std::string target_;
};

}  // namespace simdiff
