// Sequential and Dense: explicit forward/backward passes over simdiff::gemm (llm.c's layout:
// parameters, gradients and activations each in one allocation), the training loop, evaluate,
// predict, summary and the weight files.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "lib/model/progress.h"
#include "lib/random.h"
#include "simdiff/elementwise.h"
#include "simdiff/gemm.h"
#include "simdiff/model.h"
#include "simdiff/rowwise.h"
#include "simdiff/safetensors.h"

namespace simdiff {
namespace {

enum class Act { linear, relu, sigmoid, tanh, softmax, elu, selu, softplus, leaky_relu };

// Keras' constants: selu's (Klambauer et al. 2017) and leaky_relu's default negative_slope.
constexpr float kSeluAlpha = 1.6732632423543772f;
constexpr float kSeluScale = 1.0507009873554805f;
constexpr float kLeakySlope = 0.2f;

Act parse_activation(const std::string& name) {
  if (name.empty() || name == "linear") return Act::linear;
  if (name == "relu") return Act::relu;
  if (name == "sigmoid") return Act::sigmoid;
  if (name == "tanh") return Act::tanh;
  if (name == "softmax") return Act::softmax;
  if (name == "elu") return Act::elu;
  if (name == "selu") return Act::selu;
  if (name == "softplus") return Act::softplus;
  if (name == "leaky_relu") return Act::leaky_relu;
  throw std::invalid_argument("Dense: activation = '" + name +
                              "'; expected linear, relu, sigmoid, tanh, softmax, elu, selu, "
                              "softplus or leaky_relu");
}

// The activation the fused gemm epilogue applies (softmax is a row operation applied after).
Activation epilogue_of(Act act) {
  switch (act) {
    case Act::relu:
      return Activation::relu;
    case Act::sigmoid:
      return Activation::sigmoid;
    case Act::tanh:
      return Activation::tanh;
    default:
      return Activation::none;
  }
}

struct Layer {
  Dense spec;
  std::string name;
  Act act = Act::linear;
  std::size_t in = 0;
  std::size_t units = 0;
  std::size_t kernel = 0;  // offset of the kernel [in x units] in the parameter buffer
  std::size_t bias = 0;    // offset of the bias [units]; meaningless without use_bias
  std::size_t params() const { return in * units + (spec.use_bias ? units : 0); }
};

std::string count_with_commas(std::size_t n) {
  // Built back to front: inserting into the middle of a string trips a false g++ 12 -Wrestrict.
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// Keras' readable_memory_size: powers of 1024, two decimals.
std::string memory_size(std::size_t bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f %s", value, units[unit]);
  return buffer;
}

bool is_sparse(const Loss& loss) {
  return std::holds_alternative<SparseCategoricalCrossentropy>(loss.config());
}

}  // namespace

struct Sequential::Impl {
  std::uint64_t seed = 0;
  std::vector<Layer> layers;
  std::vector<Dense> specs;
  bool built = false;
  std::size_t input_dim = 0;
  std::vector<float> params;
  std::vector<float> grads;

  std::optional<Optimizer> optimizer;
  std::optional<Loss> loss;        // as compiled
  std::optional<Loss> train_loss;  // the loss on what the last layer computes (logits or outputs)
  bool from_logits = false;        // whether train_loss reads the last layer's logits
  std::vector<Metric> metrics;

  // Workspace for one batch of `capacity` rows: every layer's outputs back to back, the last
  // layer's logits, and two gradient buffers of the widest layer.
  std::size_t capacity = 0;
  std::vector<float> activations;
  std::vector<std::size_t> activation_offset;
  std::vector<float> logits;
  std::vector<float> delta, delta_prev;

  std::size_t output_dim() const { return layers.empty() ? 0 : layers.back().units; }

  void build(std::size_t features) {
    if (specs.empty()) {
      throw std::invalid_argument("Sequential.build: the model has no layers; add a Dense first");
    }
    if (features == 0) {
      throw std::invalid_argument("Sequential.build: input_dim = 0; expected at least 1 feature");
    }
    if (specs.front().input_dim != 0 && specs.front().input_dim != features) {
      throw std::invalid_argument("Sequential.build: the data has " + std::to_string(features) +
                                  " features; expected the first layer's input_dim " +
                                  std::to_string(specs.front().input_dim));
    }
    layers.clear();
    std::size_t in = features;
    std::size_t offset = 0;
    std::map<std::string, int> used;
    for (std::size_t l = 0; l < specs.size(); ++l) {
      const Dense& spec = specs[l];
      if (l > 0 && spec.input_dim != 0 && spec.input_dim != in) {
        throw std::invalid_argument(
            "Dense " + std::to_string(l) + ": input_dim = " + std::to_string(spec.input_dim) +
            "; expected the previous layer's " + std::to_string(in) + " units");
      }
      Layer layer;
      layer.spec = spec;
      layer.act = parse_activation(spec.activation);
      layer.in = in;
      layer.units = spec.units;
      // Keras' auto names: dense, dense_1, dense_2, ...
      if (spec.name.empty()) {
        const int n = used["dense"]++;
        layer.name = n == 0 ? "dense" : "dense_" + std::to_string(n);
      } else {
        if (used[spec.name]++ != 0) {
          throw std::invalid_argument("Dense: name = '" + spec.name +
                                      "' is used twice; expected unique layer names");
        }
        layer.name = spec.name;
      }
      layer.kernel = offset;
      offset += in * spec.units;
      layer.bias = offset;
      if (spec.use_bias) offset += spec.units;
      layers.push_back(layer);
      in = spec.units;
    }
    params.assign(offset, 0.0f);
    grads.assign(offset, 0.0f);
    // Glorot uniform: U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)). Each layer draws
    // from its own stream, so adding a layer at the end leaves the others' weights unchanged.
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const Layer& layer = layers[l];
      detail::Random random(seed * 0x100000001b3ULL + l + 1);
      const double limit = std::sqrt(6.0 / static_cast<double>(layer.in + layer.units));
      for (std::size_t i = 0; i < layer.in * layer.units; ++i) {
        params[layer.kernel + i] = static_cast<float>((2 * random.uniform() - 1) * limit);
      }
    }
    input_dim = features;
    built = true;
    capacity = 0;
    if (optimizer) build_optimizer();
  }

  void build_optimizer() {
    std::vector<std::size_t> sizes;
    for (const Layer& layer : layers) {
      sizes.push_back(layer.in * layer.units);
      if (layer.spec.use_bias) sizes.push_back(layer.units);
    }
    optimizer->build(sizes);
  }

  void reserve(std::size_t rows) {
    if (rows <= capacity) return;
    capacity = rows;
    activation_offset.clear();
    std::size_t total = 0;
    std::size_t widest = input_dim;
    for (const Layer& layer : layers) {
      activation_offset.push_back(total);
      total += rows * layer.units;
      widest = std::max(widest, layer.units);
    }
    activations.assign(total, 0.0f);
    logits.assign(rows * output_dim(), 0.0f);
    delta.assign(rows * widest, 0.0f);
    delta_prev.assign(rows * widest, 0.0f);
  }

  float* output(std::size_t l) { return activations.data() + activation_offset[l]; }

  // Forward pass of `rows` rows of x ([rows x input_dim]). Afterwards output(l) holds layer l's
  // outputs and, when `keep_logits`, `logits` the last layer's pre-activation values.
  void forward(const float* x, std::size_t rows, bool keep_logits) {
    reserve(rows);
    const float* in = x;
    for (std::size_t l = 0; l < layers.size(); ++l) {
      const Layer& layer = layers[l];
      const bool last = l + 1 == layers.size();
      float* out = output(l);
      const std::span<const float> bias =
          layer.spec.use_bias ? std::span<const float>(params.data() + layer.bias, layer.units)
                              : std::span<const float>();
      const std::span<const float> a(in, rows * layer.in);
      const std::span<const float> w(params.data() + layer.kernel, layer.in * layer.units);
      if (last && keep_logits) {
        float* z = logits.data();
        gemm_bias_activation(Transpose::no, Transpose::no, rows, layer.units, layer.in, 1.0f, a,
                             layer.in, w, layer.units, 0.0f, bias, Activation::none,
                             std::span<float>(z, rows * layer.units), layer.units);
        apply_activation(layer, z, out, rows);
      } else {
        gemm_bias_activation(Transpose::no, Transpose::no, rows, layer.units, layer.in, 1.0f, a,
                             layer.in, w, layer.units, 0.0f, bias, epilogue_of(layer.act),
                             std::span<float>(out, rows * layer.units), layer.units);
        // The activations the epilogue lacks run in place over the output.
        if (layer.act != Act::linear && epilogue_of(layer.act) == Activation::none) {
          apply_activation(layer, out, out, rows);
        }
      }
      in = out;
    }
  }

  // y = activation(z); y may be z.
  static void apply_activation(const Layer& layer, const float* z, float* y, std::size_t rows) {
    const std::size_t n = rows * layer.units;
    const std::span<const float> zs(z, n);
    const std::span<float> ys(y, n);
    switch (layer.act) {
      case Act::linear:
        std::copy_n(z, n, y);
        break;
      case Act::relu:
        for (std::size_t i = 0; i < n; ++i) y[i] = z[i] > 0 ? z[i] : (z[i] == z[i] ? 0.0f : z[i]);
        break;
      case Act::sigmoid:
        sigmoid(zs, ys);
        break;
      case Act::tanh:
        for (std::size_t i = 0; i < n; ++i) y[i] = std::tanh(z[i]);
        break;
      case Act::softmax:
        softmax(zs, {rows, layer.units}, ys);
        break;
      case Act::elu:
        for (std::size_t i = 0; i < n; ++i) y[i] = z[i] > 0 ? z[i] : std::expm1(z[i]);
        break;
      case Act::selu:
        for (std::size_t i = 0; i < n; ++i) {
          y[i] = kSeluScale * (z[i] > 0 ? z[i] : kSeluAlpha * std::expm1(z[i]));
        }
        break;
      case Act::softplus:
        softplus(zs, ys);
        break;
      case Act::leaky_relu:
        for (std::size_t i = 0; i < n; ++i) y[i] = z[i] > 0 ? z[i] : kLeakySlope * z[i];
        break;
    }
  }

  // d <- d * activation'(...) given the activation's output y (every supported activation's
  // derivative is a function of its output).
  static void activation_backward(const Layer& layer, const float* y, float* d, std::size_t rows) {
    const std::size_t n = rows * layer.units;
    switch (layer.act) {
      case Act::linear:
        break;
      case Act::relu:  // 0 at 0, as Keras
        for (std::size_t i = 0; i < n; ++i) d[i] = y[i] > 0 ? d[i] : 0.0f;
        break;
      case Act::sigmoid:  // s' = s (1 - s)
        for (std::size_t i = 0; i < n; ++i) d[i] *= y[i] * (1 - y[i]);
        break;
      case Act::tanh:  // tanh' = 1 - tanh^2
        for (std::size_t i = 0; i < n; ++i) d[i] *= 1 - y[i] * y[i];
        break;
      case Act::softmax:  // dx = y (dy - dot(y, dy))
        softmax_backward(std::span<const float>(y, n), std::span<const float>(d, n),
                         {rows, layer.units}, std::span<float>(d, n));
        break;
      case Act::elu:  // 1 for z > 0 (y > 0), else e^z = y + 1
        for (std::size_t i = 0; i < n; ++i) d[i] *= y[i] > 0 ? 1.0f : y[i] + 1;
        break;
      case Act::selu:  // scale for z > 0, else scale alpha e^z = y + scale alpha
        for (std::size_t i = 0; i < n; ++i) {
          d[i] *= y[i] > 0 ? kSeluScale : y[i] + kSeluScale * kSeluAlpha;
        }
        break;
      case Act::softplus:  // sigmoid(z) = 1 - e^-y
        for (std::size_t i = 0; i < n; ++i) d[i] *= -std::expm1(-y[i]);
        break;
      case Act::leaky_relu:  // z > 0 exactly when y > 0
        for (std::size_t i = 0; i < n; ++i) d[i] *= y[i] > 0 ? 1.0f : kLeakySlope;
        break;
    }
  }

  // Backward pass after forward(x, rows, from_logits): `delta` holds d loss / d (logits or last
  // outputs). Each parameter of a Sequential model receives exactly one contribution, so the
  // gradients are written (beta = 0), not accumulated: no zeroing pass, no read of the old values.
  void backward(const float* x, std::size_t rows) {
    for (std::size_t l = layers.size(); l-- > 0;) {
      const Layer& layer = layers[l];
      const bool last = l + 1 == layers.size();
      if (!(last && from_logits)) activation_backward(layer, output(l), delta.data(), rows);
      const float* in = l == 0 ? x : output(l - 1);
      const std::span<const float> dz(delta.data(), rows * layer.units);
      // d kernel [in x units] = in^T [in x rows] dz [rows x units]
      gemm(Transpose::yes, Transpose::no, layer.in, layer.units, rows, 1.0f,
           std::span<const float>(in, rows * layer.in), layer.in, dz, layer.units, 0.0f,
           std::span<float>(grads.data() + layer.kernel, layer.in * layer.units), layer.units);
      if (layer.spec.use_bias) {
        // d bias [units] = column sums of dz; rows outer so that the inner loop vectorizes.
        float* db = grads.data() + layer.bias;
        std::fill_n(db, layer.units, 0.0f);
        for (std::size_t r = 0; r < rows; ++r) {
          const float* row = delta.data() + r * layer.units;
          for (std::size_t j = 0; j < layer.units; ++j) db[j] += row[j];
        }
      }
      if (l == 0) break;
      // d in [rows x in] = dz [rows x units] kernel^T [units x in]
      gemm(Transpose::no, Transpose::yes, rows, layer.in, layer.units, 1.0f, dz, layer.units,
           std::span<const float>(params.data() + layer.kernel, layer.in * layer.units),
           layer.units, 0.0f, std::span<float>(delta_prev.data(), rows * layer.in), layer.in);
      std::swap(delta, delta_prev);
    }
  }

  void check_compiled(const char* function) const {
    if (!optimizer || !loss) {
      throw std::invalid_argument(std::string(function) +
                                  ": the model is not compiled; call compile first");
    }
  }

  // Targets per row: 1 for the sparse loss, else the output width.
  std::size_t target_width() const { return is_sparse(*loss) ? 1 : output_dim(); }

  void check_data(const char* function, std::span<const float> x, std::span<const float> y,
                  std::size_t rows, std::span<const float> sample_weight) {
    if (rows == 0) {
      throw std::invalid_argument(std::string(function) + ": rows = 0; expected at least 1");
    }
    if (x.size() % rows != 0) {
      throw std::invalid_argument(std::string(function) + ": x has " + std::to_string(x.size()) +
                                  " values, not a multiple of rows = " + std::to_string(rows));
    }
    const std::size_t features = x.size() / rows;
    if (!built) build(features);
    if (features != input_dim) {
      throw std::invalid_argument(std::string(function) + ": x has " + std::to_string(features) +
                                  " features per row; expected the model's input_dim " +
                                  std::to_string(input_dim));
    }
    if (loss) {
      const std::size_t width = target_width();
      if (y.size() != rows * width) {
        throw std::invalid_argument(
            std::string(function) + ": y has " + std::to_string(y.size()) + " values; expected " +
            std::to_string(rows * width) + " (" + std::to_string(rows) + " rows x " +
            std::to_string(width) +
            (is_sparse(*loss) ? " label" : " targets, one per output unit") + ")");
      }
    }
    if (!sample_weight.empty() && sample_weight.size() != rows) {
      throw std::invalid_argument(std::string(function) + ": sample_weight has " +
                                  std::to_string(sample_weight.size()) + " values; expected " +
                                  std::to_string(rows));
    }
  }

  // One batch: loss (and, when training, gradients + optimizer step), metric updates.
  double run_batch(const float* x, const float* y, const float* weights, std::size_t rows,
                   bool train, std::vector<Metric>& batch_metrics) {
    forward(x, rows, from_logits);
    const std::size_t units = output_dim();
    const std::size_t width = target_width();
    const std::span<const float> y_true(y, rows * width);
    const std::span<const float> sw =
        weights == nullptr ? std::span<const float>() : std::span<const float>(weights, rows);
    const std::span<const float> prediction(output(layers.size() - 1), rows * units);
    const std::span<const float> loss_input =
        from_logits ? std::span<const float>(logits.data(), rows * units) : prediction;
    double value;
    if (train) {
      value = train_loss->value_and_grad(
          {.y_true = y_true, .y_pred = loss_input, .shape = {rows, units}, .sample_weight = sw},
          std::span<float>(delta.data(), rows * units));
      backward(x, rows);
      optimizer->apply(params, grads);
    } else {
      value = (*train_loss)(
          {.y_true = y_true, .y_pred = loss_input, .shape = {rows, units}, .sample_weight = sw});
    }
    for (Metric& metric : batch_metrics) {
      metric.update(
          {.y_true = y_true, .y_pred = prediction, .shape = {rows, units}, .sample_weight = sw});
    }
    return value;
  }

  struct Gathered {
    std::vector<float> x, y, w;
  };

  // Copies rows `order[begin, end)` into contiguous batch buffers.
  void gather(std::span<const float> x, std::span<const float> y, std::span<const float> weights,
              const std::vector<std::size_t>& order, std::size_t begin, std::size_t end,
              Gathered& out) const {
    const std::size_t rows = end - begin;
    const std::size_t width = target_width();
    out.x.resize(rows * input_dim);
    out.y.resize(rows * width);
    out.w.resize(weights.empty() ? 0 : rows);
    for (std::size_t i = 0; i < rows; ++i) {
      const std::size_t r = order[begin + i];
      std::memcpy(out.x.data() + i * input_dim, x.data() + r * input_dim,
                  input_dim * sizeof(float));
      std::memcpy(out.y.data() + i * width, y.data() + r * width, width * sizeof(float));
      if (!weights.empty()) out.w[i] = weights[r];
    }
  }

  Logs evaluate(std::span<const float> x, std::span<const float> y, std::size_t rows,
                std::size_t batch_size, std::span<const float> weights) {
    if (batch_size == 0) {
      throw std::invalid_argument("evaluate: batch_size = 0; expected at least 1");
    }
    std::vector<Metric> batch_metrics = metrics;
    for (Metric& metric : batch_metrics) metric.reset();
    double total = 0;
    for (std::size_t begin = 0; begin < rows; begin += batch_size) {
      const std::size_t n = std::min(batch_size, rows - begin);
      const double value =
          run_batch(x.data() + begin * input_dim, y.data() + begin * target_width(),
                    weights.empty() ? nullptr : weights.data() + begin, n, false, batch_metrics);
      total += value * static_cast<double>(n);
    }
    Logs logs;
    logs["loss"] = total / static_cast<double>(rows);
    for (const Metric& metric : batch_metrics) logs[std::string(metric.name())] = metric.result();
    return logs;
  }
};

// ---------------------------------------------------------------------------------------------
// EarlyStopping

EarlyStopping::EarlyStopping(EarlyStoppingOptions options) : options_(std::move(options)) {
  if (options_.mode != "auto" && options_.mode != "min" && options_.mode != "max") {
    throw std::invalid_argument("EarlyStopping: mode = '" + options_.mode +
                                "'; expected auto, min or max");
  }
  if (options_.patience < 0) {
    throw std::invalid_argument("EarlyStopping: patience = " + std::to_string(options_.patience) +
                                "; expected >= 0");
  }
  const auto ends_with = [&](std::string_view suffix) {
    return options_.monitor.size() >= suffix.size() &&
           options_.monitor.compare(options_.monitor.size() - suffix.size(), suffix.size(),
                                    suffix) == 0;
  };
  maximize_ =
      options_.mode == "max" ||
      (options_.mode == "auto" && (ends_with("acc") || ends_with("accuracy") || ends_with("auc")));
}

void EarlyStopping::on_train_begin(Sequential&) {
  wait_ = 0;
  stopped_epoch_ = 0;
  best_epoch_ = 0;
  best_ = maximize_ ? -INFINITY : INFINITY;
  best_weights_.clear();
}

void EarlyStopping::on_epoch_end(Sequential& model, int epoch, const Logs& logs) {
  const auto it = logs.find(options_.monitor);
  if (it == logs.end() || epoch < options_.start_from_epoch) return;
  const double current = it->second;
  // Keras: improvement when monitor_op(current - min_delta, reference), min_delta negated for
  // a minimized quantity.
  const double delta = maximize_ ? std::abs(options_.min_delta) : -std::abs(options_.min_delta);
  const auto improves = [&](double reference) {
    return maximize_ ? current - delta > reference : current - delta < reference;
  };
  if (options_.restore_best_weights && best_weights_.empty()) {
    best_weights_.assign(model.weights().begin(), model.weights().end());
  }
  ++wait_;
  if (improves(best_)) {
    best_ = current;
    best_epoch_ = epoch;
    if (options_.restore_best_weights) {
      best_weights_.assign(model.weights().begin(), model.weights().end());
    }
    if (!options_.baseline || improves(*options_.baseline)) wait_ = 0;
    return;
  }
  if (wait_ >= options_.patience && epoch > 0) {
    stopped_epoch_ = epoch;
    model.stop_training = true;
    if (options_.restore_best_weights && !best_weights_.empty()) model.set_weights(best_weights_);
  }
}

// ---------------------------------------------------------------------------------------------
// Sequential

Sequential::Sequential(std::uint64_t seed) : impl_(std::make_unique<Impl>()) { impl_->seed = seed; }

Sequential::Sequential(std::initializer_list<Dense> layers, std::uint64_t seed) : Sequential(seed) {
  for (const Dense& layer : layers) add(layer);
}

Sequential::~Sequential() = default;
Sequential::Sequential(Sequential&&) noexcept = default;
Sequential& Sequential::operator=(Sequential&&) noexcept = default;
Sequential::Sequential(const Sequential& other)
    : stop_training(other.stop_training), impl_(std::make_unique<Impl>(*other.impl_)) {}
Sequential& Sequential::operator=(const Sequential& other) {
  if (this != &other) {
    impl_ = std::make_unique<Impl>(*other.impl_);
    stop_training = other.stop_training;
  }
  return *this;
}

Sequential& Sequential::add(Dense layer) {
  if (impl_->built) {
    throw std::invalid_argument("Sequential.add: the model is already built; add layers first");
  }
  if (layer.units == 0) {
    throw std::invalid_argument("Dense: units = 0; expected at least 1");
  }
  parse_activation(layer.activation);
  if (!impl_->specs.empty() && layer.input_dim != 0 &&
      layer.input_dim != impl_->specs.back().units) {
    throw std::invalid_argument("Dense: input_dim = " + std::to_string(layer.input_dim) +
                                "; expected the previous layer's " +
                                std::to_string(impl_->specs.back().units) + " units");
  }
  impl_->specs.push_back(std::move(layer));
  return *this;
}

void Sequential::build(std::size_t input_dim) { impl_->build(input_dim); }
bool Sequential::built() const noexcept { return impl_->built; }
std::size_t Sequential::input_dim() const noexcept {
  return impl_->built ? impl_->input_dim
                      : (impl_->specs.empty() ? 0 : impl_->specs.front().input_dim);
}
std::size_t Sequential::output_dim() const {
  return impl_->specs.empty() ? 0 : impl_->specs.back().units;
}
const std::vector<Dense>& Sequential::layers() const noexcept { return impl_->specs; }

std::size_t Sequential::count_params() const {
  std::size_t in = input_dim();
  std::size_t total = 0;
  for (const Dense& spec : impl_->specs) {
    total += in * spec.units + (spec.use_bias ? spec.units : 0);
    in = spec.units;
  }
  return total;
}

std::string Sequential::summary(std::string_view model_name) const {
  // Keras 3's table: three columns of 33, 24 and 15 characters between box-drawing rules.
  constexpr std::size_t w1 = 33, w2 = 24, w3 = 15;
  const auto rule = [&](const char* left, const char* fill, const char* mid, const char* right) {
    std::string s = left;
    for (std::size_t i = 0; i < w1; ++i) s += fill;
    s += mid;
    for (std::size_t i = 0; i < w2; ++i) s += fill;
    s += mid;
    for (std::size_t i = 0; i < w3; ++i) s += fill;
    return s + right + "\n";
  };
  const auto pad = [](std::string text, std::size_t width, bool right) {
    if (text.size() + 2 > width) text = text.substr(0, width - 2);
    const std::string space(width - 2 - text.size(), ' ');
    return " " + (right ? space + text : text + space) + " ";
  };
  const auto row = [&](const char* bar, const std::string& a, const std::string& b,
                       const std::string& c) {
    return std::string(bar) + pad(a, w1, false) + bar + pad(b, w2, false) + bar + pad(c, w3, true) +
           bar + "\n";
  };
  std::ostringstream out;
  out << "Model: \"" << model_name << "\"\n";
  out << rule("\u250f", "\u2501", "\u2533", "\u2513");
  out << row("\u2503", "Layer (type)", "Output Shape", "Param #");
  out << rule("\u2521", "\u2501", "\u2547", "\u2529");
  std::size_t in = input_dim();
  std::map<std::string, int> used;
  for (std::size_t l = 0; l < impl_->specs.size(); ++l) {
    const Dense& spec = impl_->specs[l];
    std::string name = spec.name;
    if (name.empty()) {
      const int n = used["dense"]++;
      name = n == 0 ? "dense" : "dense_" + std::to_string(n);
    }
    const std::string params =
        in == 0 ? "0 (unbuilt)"
                : count_with_commas(in * spec.units + (spec.use_bias ? spec.units : 0));
    out << row("\u2502", name + " (Dense)", "(None, " + std::to_string(spec.units) + ")", params);
    if (l + 1 < impl_->specs.size()) out << rule("\u251c", "\u2500", "\u253c", "\u2524");
    in = spec.units;
  }
  out << rule("\u2514", "\u2500", "\u2534", "\u2518");
  const std::size_t total = count_params();
  out << " Total params: " << count_with_commas(total) << " (" << memory_size(4 * total) << ")\n";
  out << " Trainable params: " << count_with_commas(total) << " (" << memory_size(4 * total)
      << ")\n";
  out << " Non-trainable params: 0 (0.00 B)\n";
  return out.str();
}

void Sequential::compile(CompileOptions options) {
  if (!options.loss.get()) {
    throw std::invalid_argument("compile: no loss given; expected a Loss or a Keras loss name");
  }
  if (impl_->specs.empty()) {
    throw std::invalid_argument("compile: the model has no layers; add a Dense first");
  }
  Impl& m = *impl_;
  m.optimizer = options.optimizer.get();
  m.loss = *options.loss.get();
  m.metrics.clear();
  for (const MetricSpec& metric : options.metrics) m.metrics.push_back(metric.get());
  // The stable path: softmax + (sparse) categorical cross-entropy, sigmoid + binary
  // cross-entropy, trained on the logits.
  const Act last = parse_activation(m.specs.back().activation);
  m.from_logits = false;
  m.train_loss = m.loss;
  std::visit(
      [&](const auto& config) {
        using T = std::decay_t<decltype(config)>;
        if constexpr (std::is_same_v<T, CategoricalCrossentropy> ||
                      std::is_same_v<T, SparseCategoricalCrossentropy>) {
          if (!config.from_logits && last == Act::softmax) {
            T logits = config;
            logits.from_logits = true;
            m.train_loss = Loss(logits);
            m.from_logits = true;
          }
        } else if constexpr (std::is_same_v<T, BinaryCrossentropy>) {
          if (!config.from_logits && last == Act::sigmoid) {
            T logits = config;
            logits.from_logits = true;
            m.train_loss = Loss(logits);
            m.from_logits = true;
          }
        }
      },
      m.loss->config());
  if (m.built) m.build_optimizer();
}

bool Sequential::compiled() const noexcept { return impl_->optimizer && impl_->loss; }

const Optimizer& Sequential::optimizer() const {
  impl_->check_compiled("optimizer");
  return *impl_->optimizer;
}

const Loss& Sequential::loss() const {
  impl_->check_compiled("loss");
  return *impl_->loss;
}

History Sequential::fit(std::span<const float> x, std::span<const float> y, std::size_t rows,
                        const FitOptions& options) {
  Impl& m = *impl_;
  m.check_compiled("fit");
  if (options.epochs < 0) {
    throw std::invalid_argument("fit: epochs = " + std::to_string(options.epochs) +
                                "; expected >= 0");
  }
  if (options.batch_size == 0) {
    throw std::invalid_argument("fit: batch_size = 0; expected at least 1");
  }
  if (!(options.validation_split >= 0 && options.validation_split < 1)) {
    throw std::invalid_argument(
        "fit: validation_split = " + std::to_string(options.validation_split) +
        "; expected a value in [0, 1)");
  }
  if (options.verbose < 0 || options.verbose > 2) {
    throw std::invalid_argument("fit: verbose = " + std::to_string(options.verbose) +
                                "; expected 0, 1 or 2");
  }
  if (options.class_weight != nullptr && !options.sample_weight.empty()) {
    throw std::invalid_argument(
        "fit: class_weight and sample_weight were both given; expected at most one (as Keras)");
  }
  m.check_data("fit", x, y, rows, options.sample_weight);
  const std::size_t width = m.target_width();

  // Per-sample weights: given, or from class_weight (Keras converts class_weight to sample
  // weights, which then weigh the loss and the metrics).
  std::vector<float> weights(options.sample_weight.begin(), options.sample_weight.end());
  if (options.class_weight != nullptr) {
    const std::vector<double> w =
        class_weight_to_sample_weight(y, {rows, width}, is_sparse(*m.loss), *options.class_weight);
    weights.assign(w.begin(), w.end());
  }

  // Validation data: explicit, or the last fraction of the rows before any shuffling.
  std::size_t train_rows = rows;
  std::span<const float> val_x = options.validation_x, val_y = options.validation_y;
  std::size_t val_rows = options.validation_rows;
  std::span<const float> val_w;
  if (!val_x.empty() || val_rows != 0) {
    m.check_data("fit: validation data", val_x, val_y, val_rows, {});
  } else if (options.validation_split > 0) {
    train_rows = static_cast<std::size_t>(
        std::floor(static_cast<double>(rows) * (1.0 - options.validation_split)));
    if (train_rows == 0 || train_rows == rows) {
      throw std::invalid_argument(
          "fit: validation_split = " + std::to_string(options.validation_split) + " of " +
          std::to_string(rows) + " rows leaves an empty training or validation set");
    }
    val_rows = rows - train_rows;
    val_x = x.subspan(train_rows * m.input_dim);
    val_y = y.subspan(train_rows * width);
    if (!weights.empty()) val_w = std::span<const float>(weights).subspan(train_rows);
  }
  const std::span<const float> train_w = weights.empty()
                                             ? std::span<const float>()
                                             : std::span<const float>(weights).first(train_rows);

  std::ostream& out = options.output != nullptr ? *options.output : std::cout;
  const bool live = options.progress == Progress::bar ||
                    (options.progress == Progress::automatic && detail::is_terminal(out));
  const std::size_t steps = (train_rows + options.batch_size - 1) / options.batch_size;

  History history;
  stop_training = false;
  for (const auto& callback : options.callbacks) callback->on_train_begin(*this);
  // The shuffling stream depends on the seed and on how many epochs this model has trained, so
  // that fit(1 epoch) twice equals fit(2 epochs) once.
  std::vector<std::size_t> order(train_rows);
  Impl::Gathered batch;
  for (int epoch = 0; epoch < options.epochs && !stop_training; ++epoch) {
    for (const auto& callback : options.callbacks) callback->on_epoch_begin(*this, epoch);
    std::iota(order.begin(), order.end(), std::size_t{0});
    if (options.shuffle) {
      detail::Random(m.seed ^ (0x5851f42d4c957f2dULL *
                               static_cast<std::uint64_t>(m.optimizer->iterations() + 1)))
          .shuffle(order);
    }
    if (options.verbose > 0) out << "Epoch " << epoch + 1 << "/" << options.epochs << "\n";
    detail::ProgressBar bar(out, live && options.verbose == 1, steps);
    for (Metric& metric : m.metrics) metric.reset();
    double loss_total = 0;
    std::size_t seen = 0;
    Logs logs;
    for (std::size_t step = 0; step < steps; ++step) {
      const std::size_t begin = step * options.batch_size;
      const std::size_t end = std::min(begin + options.batch_size, train_rows);
      m.gather(x, y, train_w, order, begin, end, batch);
      const double value =
          m.run_batch(batch.x.data(), batch.y.data(), batch.w.empty() ? nullptr : batch.w.data(),
                      end - begin, true, m.metrics);
      // Keras' loss tracker: the batch losses weighted by batch size.
      loss_total += value * static_cast<double>(end - begin);
      seen += end - begin;
      logs["loss"] = loss_total / static_cast<double>(seen);
      for (const Metric& metric : m.metrics) logs[std::string(metric.name())] = metric.result();
      for (const auto& callback : options.callbacks) {
        callback->on_train_batch_end(*this, step, logs);
      }
      if (options.verbose == 1) bar.update(step + 1, logs);
    }
    if (val_rows > 0) {
      const Logs val = m.evaluate(val_x, val_y, val_rows, options.batch_size, val_w);
      for (const auto& [name, value] : val) logs["val_" + name] = value;
    }
    history.epoch.push_back(epoch);
    for (const auto& [name, value] : logs) history.history[name].push_back(value);
    if (options.verbose > 0) bar.finish(logs);
    for (const auto& callback : options.callbacks) callback->on_epoch_end(*this, epoch, logs);
  }
  for (const auto& callback : options.callbacks) callback->on_train_end(*this);
  return history;
}

double Sequential::train_on_batch(std::span<const float> x, std::span<const float> y,
                                  std::size_t rows, std::span<const float> sample_weight) {
  Impl& m = *impl_;
  m.check_compiled("train_on_batch");
  m.check_data("train_on_batch", x, y, rows, sample_weight);
  for (Metric& metric : m.metrics) metric.reset();
  return m.run_batch(x.data(), y.data(), sample_weight.empty() ? nullptr : sample_weight.data(),
                     rows, true, m.metrics);
}

Logs Sequential::evaluate(std::span<const float> x, std::span<const float> y, std::size_t rows,
                          const EvaluateOptions& options) {
  impl_->check_compiled("evaluate");
  impl_->check_data("evaluate", x, y, rows, options.sample_weight);
  return impl_->evaluate(x, y, rows, options.batch_size, options.sample_weight);
}

std::vector<float> Sequential::predict(std::span<const float> x, std::size_t rows,
                                       std::size_t batch_size) {
  Impl& m = *impl_;
  if (batch_size == 0) throw std::invalid_argument("predict: batch_size = 0; expected >= 1");
  if (rows == 0) return {};
  if (x.size() % rows != 0) {
    throw std::invalid_argument("predict: x has " + std::to_string(x.size()) +
                                " values, not a multiple of rows = " + std::to_string(rows));
  }
  if (!m.built) m.build(x.size() / rows);
  if (x.size() / rows != m.input_dim) {
    throw std::invalid_argument("predict: x has " + std::to_string(x.size() / rows) +
                                " features per row; expected " + std::to_string(m.input_dim));
  }
  const std::size_t units = m.output_dim();
  std::vector<float> result(rows * units);
  for (std::size_t begin = 0; begin < rows; begin += batch_size) {
    const std::size_t n = std::min(batch_size, rows - begin);
    m.forward(x.data() + begin * m.input_dim, n, false);
    std::copy_n(m.output(m.layers.size() - 1), n * units, result.data() + begin * units);
  }
  return result;
}

std::span<const float> Sequential::weights() const {
  if (!impl_->built) {
    throw std::invalid_argument("weights: the model is not built; fit, predict or build first");
  }
  return impl_->params;
}

void Sequential::set_weights(std::span<const float> weights) {
  if (!impl_->built) {
    throw std::invalid_argument("set_weights: the model is not built; build it first");
  }
  if (weights.size() != impl_->params.size()) {
    throw std::invalid_argument("set_weights: " + std::to_string(weights.size()) +
                                " values; expected the model's " +
                                std::to_string(impl_->params.size()) + " parameters");
  }
  std::copy(weights.begin(), weights.end(), impl_->params.begin());
}

void Sequential::save_weights(const std::string& path,
                              const std::map<std::string, std::string>& metadata) const {
  const Impl& m = *impl_;
  if (!m.built) {
    throw std::invalid_argument("save_weights: the model is not built; there are no weights");
  }
  SafetensorsFile file;
  file.metadata = metadata;
  file.metadata["format"] = "simdiff";
  for (const Layer& layer : m.layers) {
    file.tensors[layer.name + "/kernel"] = SafetensorsTensor::from_floats(
        {layer.in, layer.units},
        std::span<const float>(m.params.data() + layer.kernel, layer.in * layer.units));
    if (layer.spec.use_bias) {
      file.tensors[layer.name + "/bias"] = SafetensorsTensor::from_floats(
          {layer.units}, std::span<const float>(m.params.data() + layer.bias, layer.units));
    }
  }
  save_safetensors(path, file);
}

std::map<std::string, std::string> Sequential::load_weights(const std::string& path) {
  const SafetensorsFile file = load_safetensors(path);
  // Validate into a copy; the model changes only when everything fits.
  Impl staged = *impl_;
  if (!staged.built) {
    std::string first = staged.specs.empty() ? "" : staged.specs.front().name;
    if (first.empty()) first = "dense";
    const auto it = file.tensors.find(first + "/kernel");
    if (it == file.tensors.end() || it->second.shape.size() != 2) {
      throw std::invalid_argument(path + ": no 2-D tensor '" + first +
                                  "/kernel' to infer the model's input size from");
    }
    staged.build(it->second.shape[0]);
  }
  for (const Layer& layer : staged.layers) {
    const auto load = [&](const std::string& name, std::vector<std::size_t> shape,
                          std::size_t offset) {
      const auto it = file.tensors.find(name);
      if (it == file.tensors.end()) {
        throw std::invalid_argument(path + ": missing tensor '" + name + "'");
      }
      const SafetensorsTensor& tensor = it->second;
      if (tensor.dtype != "F32") {
        throw std::invalid_argument(path + ": tensor '" + name + "' has dtype " + tensor.dtype +
                                    "; expected F32");
      }
      if (tensor.shape != shape) {
        const auto show = [](const std::vector<std::size_t>& s) {
          std::string text = "[";
          for (std::size_t i = 0; i < s.size(); ++i) {
            text += (i ? ", " : "") + std::to_string(s[i]);
          }
          return text + "]";
        };
        throw std::invalid_argument(path + ": tensor '" + name + "' has shape " +
                                    show(tensor.shape) + "; expected " + show(shape));
      }
      const std::vector<float> values = tensor.to_floats(name);
      std::copy(values.begin(), values.end(),
                staged.params.begin() + static_cast<std::ptrdiff_t>(offset));
    };
    load(layer.name + "/kernel", {layer.in, layer.units}, layer.kernel);
    if (layer.spec.use_bias) load(layer.name + "/bias", {layer.units}, layer.bias);
  }
  *impl_ = std::move(staged);
  return file.metadata;
}

}  // namespace simdiff
