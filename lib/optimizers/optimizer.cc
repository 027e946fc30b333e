// Optimizer: validation of the Keras arguments, the flat-buffer layout and one step (clip, weight
// decay, update) through the kernels of the selected backend, on contiguous ranges of elements
// split over threads above a size threshold (lib/threads/chunks.h).
#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

#include "lib/optimizers/optimizer_kernels.h"
#include "lib/threads/chunks.h"
#include "simdiff/optimizers.h"

namespace simdiff {
namespace {

// Runs f(begin, end) over element ranges of [0, n), split over threads above the threshold.
template <class F>
void for_ranges(std::size_t n, F&& f) {
  detail::parallel_elements(n, sizeof(float), detail::kOptimizerSplit, f);
}

// A pointer advanced by `offset` elements; nullptr (an absent slot) stays nullptr.
float* advanced(float* p, std::size_t offset) { return p == nullptr ? nullptr : p + offset; }

// Sum of g^2 over n elements: per-chunk partials, summed in chunk order. The chunks (at most
// kMaxPartials, whole 1024-element blocks of the kernel) depend on n only, so the sum is the
// same for every thread count.
double sum_squares(const detail::OptimizerKernels& kernels, const float* g, std::size_t n) {
  constexpr std::size_t kMaxPartials = 256;
  constexpr std::size_t kBlock = 1024;
  const std::size_t wanted = (n + kMaxPartials - 1) / kMaxPartials;
  const std::size_t size =
      std::max(detail::kChunkBytes / sizeof(float), (wanted + kBlock - 1) / kBlock * kBlock);
  const detail::Chunks split = detail::chunks_for(n, 1, size, detail::kOptimizerSplit);
  if (split.chunks <= 1) return kernels.sum_squares(g, n);
  std::array<double, kMaxPartials> partials{};
  auto task = [&](std::size_t begin, std::size_t end) {
    partials[begin / split.size] = kernels.sum_squares(g + begin, end - begin);
  };
  detail::run_chunks(n, split, task);
  double total = 0;
  for (std::size_t i = 0; i < split.chunks; ++i) total += partials[i];
  return total;
}

std::string number(double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.17g", value);
  return buffer;
}

[[noreturn]] void fail(const std::string& optimizer, const char* argument, double value,
                       const char* expected) {
  throw std::invalid_argument(optimizer + ": " + argument + " = " + number(value) + "; expected " +
                              expected);
}

void check_in(const std::string& optimizer, const char* argument, double value, double low,
              double high, bool high_included, const char* expected) {
  if (!(value >= low && (high_included ? value <= high : value < high))) {
    fail(optimizer, argument, value, expected);
  }
}

void check_optional_positive(const std::string& optimizer, const char* argument,
                             const std::optional<double>& value) {
  if (value && !(std::isfinite(*value) && *value > 0)) {
    fail(optimizer, argument, *value, "a finite value > 0");
  }
}

struct Common {
  std::optional<double> weight_decay, clipnorm, clipvalue, global_clipnorm;
};

template <class Options>
LearningRate resolve(const std::string& name, const Options& options, double fallback,
                     Common& common) {
  if (options.lr && options.learning_rate) {
    throw std::invalid_argument(name +
                                ": both lr and learning_rate were given; lr is an alias of "
                                "learning_rate, expected at most one of them");
  }
  LearningRate rate = options.lr ? *options.lr : options.learning_rate.value_or(fallback);
  rate.validate((name + (options.lr ? ": lr" : ": learning_rate")).c_str());
  common.clipnorm = options.clipnorm;
  common.clipvalue = options.clipvalue;
  common.global_clipnorm = options.global_clipnorm;
  check_optional_positive(name, "clipnorm", common.clipnorm);
  check_optional_positive(name, "clipvalue", common.clipvalue);
  check_optional_positive(name, "global_clipnorm", common.global_clipnorm);
  const int clips = int(common.clipnorm.has_value()) + int(common.clipvalue.has_value()) +
                    int(common.global_clipnorm.has_value());
  if (clips > 1) {
    throw std::invalid_argument(name +
                                ": more than one of clipnorm, clipvalue and global_clipnorm was "
                                "given; expected at most one (as Keras)");
  }
  return rate;
}

void check_weight_decay(const std::string& name, const std::optional<double>& weight_decay) {
  if (weight_decay && !(std::isfinite(*weight_decay) && *weight_decay >= 0)) {
    fail(name, "weight_decay", *weight_decay, "a finite value >= 0");
  }
}

template <class Adamish>
void check_adam(const std::string& name, const Adamish& options) {
  check_in(name, "beta_1", options.beta_1, 0, 1, false, "a value in [0, 1)");
  check_in(name, "beta_2", options.beta_2, 0, 1, false, "a value in [0, 1)");
  if (!(std::isfinite(options.epsilon) && options.epsilon > 0)) {
    fail(name, "epsilon", options.epsilon, "a finite value > 0");
  }
}

struct Resolved {
  LearningRate rate;
  Common common;
};

Resolved resolve_config(const Optimizer::Config& config) {
  Common common;
  return std::visit(
      [&](const auto& options) -> Resolved {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, SGD>) {
          const std::string name = "SGD";
          LearningRate rate = resolve(name, options, 0.01, common);
          check_in(name, "momentum", options.momentum, 0, 1, true, "a value in [0, 1]");
          check_weight_decay(name, options.weight_decay);
          common.weight_decay = options.weight_decay;
          return {rate, common};
        } else if constexpr (std::is_same_v<T, RMSprop>) {
          const std::string name = "RMSprop";
          LearningRate rate = resolve(name, options, 0.001, common);
          check_in(name, "rho", options.rho, 0, 1, false, "a value in [0, 1)");
          check_in(name, "momentum", options.momentum, 0, 1, true, "a value in [0, 1]");
          if (!(std::isfinite(options.epsilon) && options.epsilon > 0)) {
            fail(name, "epsilon", options.epsilon, "a finite value > 0");
          }
          check_weight_decay(name, options.weight_decay);
          common.weight_decay = options.weight_decay;
          return {rate, common};
        } else if constexpr (std::is_same_v<T, Adam>) {
          const std::string name = "Adam";
          LearningRate rate = resolve(name, options, 0.001, common);
          check_adam(name, options);
          check_weight_decay(name, options.weight_decay);
          common.weight_decay = options.weight_decay;
          return {rate, common};
        } else {
          const std::string name = "AdamW";
          LearningRate rate = resolve(name, options, 0.001, common);
          check_adam(name, options);
          check_weight_decay(name, options.weight_decay);
          common.weight_decay = options.weight_decay;
          return {rate, common};
        }
      },
      config);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Learning rates

double LearningRate::at(std::int64_t step) const {
  const double s = static_cast<double>(std::max<std::int64_t>(step, 0));
  return std::visit(
      [&](const auto& value) -> double {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, double>) {
          return value;
        } else if constexpr (std::is_same_v<T, ExponentialDecay>) {
          double p = s / static_cast<double>(value.decay_steps);
          if (value.staircase) p = std::floor(p);
          return value.initial_learning_rate * std::pow(value.decay_rate, p);
        } else {
          const double decay_steps = static_cast<double>(value.decay_steps);
          const auto cosine = [&](double t, double from) {
            const double fraction = std::min(t, decay_steps) / decay_steps;
            const double decayed = 0.5 * (1.0 + std::cos(std::numbers::pi * fraction));
            return from * ((1 - value.alpha) * decayed + value.alpha);
          };
          if (!value.warmup_target) return cosine(s, value.initial_learning_rate);
          const double warmup_steps = static_cast<double>(value.warmup_steps);
          if (s < warmup_steps) {
            const double fraction = s / warmup_steps;
            return (*value.warmup_target - value.initial_learning_rate) * fraction +
                   value.initial_learning_rate;
          }
          return cosine(s - warmup_steps, *value.warmup_target);
        }
      },
      value_);
}

void LearningRate::validate(const char* argument) const {
  const auto rate = [&](const char* what, double v) {
    if (!(std::isfinite(v) && v >= 0)) {
      throw std::invalid_argument(std::string(argument) + what + " = " + number(v) +
                                  "; expected a finite learning rate >= 0");
    }
  };
  std::visit(
      [&](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, double>) {
          rate("", value);
        } else {
          rate(".initial_learning_rate", value.initial_learning_rate);
          if (value.decay_steps <= 0) {
            throw std::invalid_argument(std::string(argument) + ".decay_steps = " +
                                        std::to_string(value.decay_steps) + "; expected > 0");
          }
          if constexpr (std::is_same_v<T, ExponentialDecay>) {
            if (!(std::isfinite(value.decay_rate) && value.decay_rate > 0)) {
              throw std::invalid_argument(std::string(argument) +
                                          ".decay_rate = " + number(value.decay_rate) +
                                          "; expected a finite value > 0");
            }
          } else {
            if (!(value.alpha >= 0 && value.alpha <= 1)) {
              throw std::invalid_argument(std::string(argument) + ".alpha = " +
                                          number(value.alpha) + "; expected a value in [0, 1]");
            }
            if (value.warmup_target) rate(".warmup_target", *value.warmup_target);
            if (value.warmup_steps < 0 || (value.warmup_target && value.warmup_steps == 0)) {
              throw std::invalid_argument(std::string(argument) +
                                          ".warmup_steps = " + std::to_string(value.warmup_steps) +
                                          "; expected >= 0, and > 0 with a warmup_target");
            }
          }
        }
      },
      value_);
}

// ---------------------------------------------------------------------------------------------
// Optimizer

Optimizer::Optimizer(Config config) : config_(std::move(config)), learning_rate_(0.0) {
  const Resolved resolved = resolve_config(config_);
  learning_rate_ = resolved.rate;
  weight_decay_ = resolved.common.weight_decay;
  clipnorm_ = resolved.common.clipnorm;
  clipvalue_ = resolved.common.clipvalue;
  global_clipnorm_ = resolved.common.global_clipnorm;
}

Optimizer Optimizer::from_name(std::string_view name, std::optional<LearningRate> learning_rate) {
  std::string lower(name);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (lower == "sgd") return SGD{.learning_rate = learning_rate};
  if (lower == "rmsprop") return RMSprop{.learning_rate = learning_rate};
  if (lower == "adam") return Adam{.learning_rate = learning_rate};
  if (lower == "adamw") return AdamW{.learning_rate = learning_rate};
  throw std::invalid_argument("optimizer: '" + std::string(name) +
                              "' is not an optimizer; expected sgd, rmsprop, adam or adamw");
}

std::string_view Optimizer::name() const noexcept {
  static constexpr std::string_view kNames[] = {"sgd", "rmsprop", "adam", "adamw"};
  return kNames[config_.index()];
}

void Optimizer::build(std::span<const std::size_t> variable_sizes) {
  sizes_.assign(variable_sizes.begin(), variable_sizes.end());
  total_ = 0;
  for (const std::size_t size : sizes_) total_ += size;
  std::size_t slots = 0;
  std::visit(
      [&](const auto& options) {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, SGD>) {
          slots = options.momentum != 0 ? 1 : 0;
        } else if constexpr (std::is_same_v<T, RMSprop>) {
          slots = options.centered ? 3 : (options.momentum > 0 ? 2 : 1);
        } else {
          slots = options.amsgrad ? 3 : 2;
        }
      },
      config_);
  slot0_.assign(slots >= 1 ? total_ : 0, 0.0f);
  slot1_.assign(slots >= 2 ? total_ : 0, 0.0f);
  slot2_.assign(slots >= 3 ? total_ : 0, 0.0f);
  iterations_ = 0;
  built_ = true;
}

void Optimizer::apply(std::span<float> variables, std::span<float> gradients) {
  if (!built_) {
    const std::size_t size = variables.size();
    build(std::span<const std::size_t>(&size, 1));
  }
  if (variables.size() != total_ || gradients.size() != total_) {
    throw std::invalid_argument("optimizer.apply: variables has " +
                                std::to_string(variables.size()) + " elements and gradients " +
                                std::to_string(gradients.size()) + "; expected the " +
                                std::to_string(total_) + " elements given to build");
  }
  const float* v_end = variables.data() + variables.size();
  const float* g_end = gradients.data() + gradients.size();
  if (total_ != 0 && variables.data() < g_end && gradients.data() < v_end) {
    throw std::invalid_argument("optimizer.apply: variables and gradients overlap");
  }
  const detail::OptimizerKernels& kernels = detail::active_optimizer_kernels();
  target_ = kernels.target;
  if (total_ == 0) {
    ++iterations_;
    return;
  }
  float* g = gradients.data();
  float* v = variables.data();

  // Clipping (Keras' _clip_gradients). Below the threshold the gradient is left exactly as it
  // is; Keras multiplies by clipnorm / clipnorm, which rounds to the same value or within 1 ulp.
  if (clipnorm_) {
    std::size_t offset = 0;
    for (const std::size_t size : sizes_) {
      if (size != 0) {
        float* gv = g + offset;
        const double norm = std::sqrt(sum_squares(kernels, gv, size));
        if (norm > *clipnorm_) {
          const auto factor = static_cast<float>(*clipnorm_ / norm);
          for_ranges(size,
                     [&](std::size_t b, std::size_t e) { kernels.scale(gv + b, e - b, factor); });
        }
      }
      offset += size;
    }
  } else if (global_clipnorm_) {
    const double norm = std::sqrt(sum_squares(kernels, g, total_));
    // A NaN or infinite norm makes every gradient NaN, as Keras' clip_by_global_norm does.
    const float factor = !std::isfinite(norm) ? std::numeric_limits<float>::quiet_NaN()
                                              : static_cast<float>(*global_clipnorm_ / norm);
    if (!std::isfinite(norm) || norm > *global_clipnorm_) {
      for_ranges(total_,
                 [&](std::size_t b, std::size_t e) { kernels.scale(g + b, e - b, factor); });
    }
  } else if (clipvalue_) {
    const auto limit = static_cast<float>(*clipvalue_);
    for_ranges(total_, [&](std::size_t b, std::size_t e) { kernels.clip(g + b, e - b, limit); });
  }

  const double lr = learning_rate_.at(iterations_);
  if (weight_decay_ && *weight_decay_ > 0) {
    const auto factor = static_cast<float>(lr * *weight_decay_);
    for_ranges(total_, [&](std::size_t b, std::size_t e) { kernels.decay(v + b, e - b, factor); });
  }

  const auto slot = [&](std::vector<float>& s) { return s.empty() ? nullptr : s.data(); };
  std::visit(
      [&](const auto& options) {
        using T = std::decay_t<decltype(options)>;
        if constexpr (std::is_same_v<T, SGD>) {
          const auto momentum = static_cast<float>(options.momentum);
          float* m = slot(slot0_);
          for_ranges(total_, [&](std::size_t b, std::size_t e) {
            kernels.sgd(v + b, g + b, advanced(m, b), e - b, static_cast<float>(lr), momentum,
                        options.nesterov);
          });
        } else if constexpr (std::is_same_v<T, RMSprop>) {
          float* a = slot0_.data();
          float* m = slot(slot1_);
          float* mg = slot(slot2_);
          for_ranges(total_, [&](std::size_t b, std::size_t e) {
            kernels.rmsprop(v + b, g + b, a + b, advanced(m, b), advanced(mg, b), e - b,
                            static_cast<float>(lr), static_cast<float>(options.rho),
                            static_cast<float>(options.momentum),
                            static_cast<float>(options.epsilon));
          });
        } else {
          const double t = static_cast<double>(iterations_ + 1);
          const double alpha =
              lr * std::sqrt(1 - std::pow(options.beta_2, t)) / (1 - std::pow(options.beta_1, t));
          float* m = slot0_.data();
          float* s = slot1_.data();
          float* s_max = slot(slot2_);
          for_ranges(total_, [&](std::size_t b, std::size_t e) {
            kernels.adam(v + b, g + b, m + b, s + b, advanced(s_max, b), e - b,
                         static_cast<float>(alpha), static_cast<float>(options.beta_1),
                         static_cast<float>(options.beta_2), static_cast<float>(options.epsilon));
          });
        }
      },
      config_);
  ++iterations_;
}

}  // namespace simdiff
