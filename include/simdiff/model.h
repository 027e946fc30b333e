// Keras-style models: Dense layers in a Sequential model, compiled with an optimizer, a loss and
// metrics, trained by `fit`, measured by `evaluate`, used by `predict`; weights in safetensors.
//
//   simdiff::Sequential network(/*seed=*/42);
//   network.add(simdiff::Dense{.units = 16, .activation = "relu", .input_dim = 30});
//   network.add(simdiff::Dense{.units = 1, .activation = "sigmoid"});
//   network.compile({.optimizer = simdiff::RMSprop{.lr = 0.01},
//                    .loss = "binary_crossentropy",
//                    .metrics = {"accuracy"}});
//   simdiff::History history = network.fit(x, y, rows, {.epochs = 20, .batch_size = 32,
//                                                        .validation_split = 0.2});
//   auto scores = network.evaluate(x_test, y_test, test_rows);  // {"accuracy": ..., "loss": ...}
//
// Data layout: `x` is a row-major [rows x features] float matrix; `y` holds the targets the loss
// expects: [rows] integer labels for the sparse losses, [rows x units] targets (one-hot for
// categorical_crossentropy, 0/1 for binary_crossentropy with one unit) for the others. Sizes are
// inferred from `rows` and checked.
//
// Computation: every layer's forward and backward pass is written out over simdiff::gemm (the
// forward fused with bias and activation), with parameters, gradients and activations each in one
// flat allocation (llm.c's layout). A softmax output followed by a categorical or sparse
// categorical cross-entropy, or a sigmoid output followed by a binary cross-entropy, is trained
// from the logits (the loss's from_logits form on the pre-activation values), as Keras does on its
// TensorFlow backend; users who write the article's model never see NaN. The loss value then
// differs from Keras' clipped-probability value only where a probability is within 1e-7 of 0 or 1.
//
// Reproducibility: the seed fixes the initial weights (Glorot uniform kernels, zero biases, as
// Keras) and the shuffling order; the same seed, data and options give bit-identical weights on
// the same backend and target.
//
// Errors: std::invalid_argument naming the argument and value (an unknown activation, units == 0,
// a loss or metric name Keras does not know, mismatched data sizes, batch_size == 0, a
// validation_split outside [0, 1), fit before compile, ...). Weight files: see load_weights.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "simdiff/losses.h"
#include "simdiff/metrics.h"
#include "simdiff/optimizers.h"

namespace simdiff {

/// Keras' Dense layer: output = activation(input @ kernel + bias), kernel [input_dim x units].
struct Dense {
  std::size_t units = 0;
  /// "linear" (or ""), "relu", "sigmoid", "tanh", "softmax", and Keras' "elu" (alpha 1), "selu",
  /// "softplus", "leaky_relu" (negative_slope 0.2).
  std::string activation = "linear";
  bool use_bias = true;
  /// The input size, or 0 to infer it from the data (or the previous layer).
  std::size_t input_dim = 0;
  /// The layer's name in summary() and in weight files; "" gives Keras' "dense", "dense_1", ...
  std::string name = "";
};

/// Per-epoch values: "loss", the metrics' names, and "val_..." for the validation data.
struct History {
  std::vector<int> epoch;                              ///< 0-based epoch indices
  std::map<std::string, std::vector<double>> history;  ///< one value per epoch, per name
};

/// Logs passed to callbacks: name -> value (as Keras' `logs` dict).
using Logs = std::map<std::string, double>;

class Sequential;

/// A training-loop hook (Keras' Callback). Every method does nothing by default.
class Callback {
 public:
  virtual ~Callback() = default;
  virtual void on_train_begin(Sequential& /*model*/) {}
  virtual void on_epoch_begin(Sequential& /*model*/, int /*epoch*/) {}
  virtual void on_train_batch_end(Sequential& /*model*/, std::size_t /*batch*/,
                                  const Logs& /*logs*/) {}
  virtual void on_epoch_end(Sequential& /*model*/, int /*epoch*/, const Logs& /*logs*/) {}
  virtual void on_train_end(Sequential& /*model*/) {}
};

/// A callback from functions (Keras' LambdaCallback); empty functions are not called.
struct LambdaCallback : Callback {
  std::function<void(Sequential&, int, const Logs&)> epoch_end;
  std::function<void(Sequential&, std::size_t, const Logs&)> batch_end;
  explicit LambdaCallback(std::function<void(Sequential&, int, const Logs&)> on_epoch,
                          std::function<void(Sequential&, std::size_t, const Logs&)> on_batch = {})
      : epoch_end(std::move(on_epoch)), batch_end(std::move(on_batch)) {}
  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override {
    if (epoch_end) epoch_end(model, epoch, logs);
  }
  void on_train_batch_end(Sequential& model, std::size_t batch, const Logs& logs) override {
    if (batch_end) batch_end(model, batch, logs);
  }
};

/// Keras' EarlyStopping: stops when `monitor` has not improved by more than min_delta for
/// `patience` epochs. mode "auto" maximizes names ending in "acc", "accuracy" or "auc" and
/// minimizes the others. restore_best_weights puts back the weights of the best epoch when it
/// stops (as Keras, only when it stops). A monitor missing from the logs is ignored with no error.
struct EarlyStoppingOptions {
  std::string monitor = "val_loss";
  double min_delta = 0;
  int patience = 0;
  std::string mode = "auto";  ///< "auto", "min" or "max"
  std::optional<double> baseline = std::nullopt;
  bool restore_best_weights = false;
  int start_from_epoch = 0;
};

class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(EarlyStoppingOptions options = {});
  void on_train_begin(Sequential& model) override;
  void on_epoch_end(Sequential& model, int epoch, const Logs& logs) override;
  /// The epoch at which training stopped (0 if it did not), and the best epoch.
  [[nodiscard]] int stopped_epoch() const noexcept { return stopped_epoch_; }
  [[nodiscard]] int best_epoch() const noexcept { return best_epoch_; }

 private:
  EarlyStoppingOptions options_;
  bool maximize_ = false;
  int wait_ = 0;
  int stopped_epoch_ = 0;
  int best_epoch_ = 0;
  double best_ = 0;
  std::vector<float> best_weights_;
};

/// What compile accepts for a loss: a Loss, one of its option structs, or a Keras name.
class LossSpec {
 public:
  LossSpec() = default;
  LossSpec(const char* name) : loss_(Loss::from_name(name)) {}         // NOLINT
  LossSpec(const std::string& name) : loss_(Loss::from_name(name)) {}  // NOLINT
  LossSpec(Loss loss) : loss_(std::move(loss)) {}                      // NOLINT
  template <class Options>
  requires detail::is_alternative_v<std::remove_cvref_t<Options>, Loss::Config> LossSpec(
      Options&& options)  // NOLINT(google-explicit-constructor)
      : loss_(Loss(std::forward<Options>(options))) {}
  [[nodiscard]] const std::optional<Loss>& get() const noexcept { return loss_; }

 private:
  std::optional<Loss> loss_;
};

/// What compile accepts for a metric: a Metric, one of its option structs, or a Keras name.
class MetricSpec {
 public:
  MetricSpec(const char* name) : metric_(Metric::from_name(name)) {}         // NOLINT
  MetricSpec(const std::string& name) : metric_(Metric::from_name(name)) {}  // NOLINT
  MetricSpec(Metric metric) : metric_(std::move(metric)) {}                  // NOLINT
  template <class Options>
  requires detail::is_alternative_v<std::remove_cvref_t<Options>, Metric::Config> MetricSpec(
      Options options)  // NOLINT(google-explicit-constructor)
      : metric_(Metric(Metric::Config(options))) {}
  [[nodiscard]] const Metric& get() const noexcept { return metric_; }

 private:
  Metric metric_;
};

/// What compile accepts for an optimizer: an Optimizer, one of its option structs, or a name.
class OptimizerSpec {
 public:
  OptimizerSpec(const char* name) : optimizer_(Optimizer::from_name(name)) {}         // NOLINT
  OptimizerSpec(const std::string& name) : optimizer_(Optimizer::from_name(name)) {}  // NOLINT
  OptimizerSpec(Optimizer optimizer) : optimizer_(std::move(optimizer)) {}            // NOLINT
  template <class Options>
  requires detail::is_optimizer_alternative_v<std::remove_cvref_t<Options>, Optimizer::Config>
  OptimizerSpec(Options&& options)  // NOLINT(google-explicit-constructor)
      : optimizer_(Optimizer(std::forward<Options>(options))) {}
  [[nodiscard]] const Optimizer& get() const noexcept { return optimizer_; }

 private:
  Optimizer optimizer_;
};

struct CompileOptions {
  OptimizerSpec optimizer = "rmsprop";  ///< Keras' default
  LossSpec loss = {};                   ///< required
  std::vector<MetricSpec> metrics = {};
};

/// How fit reports progress with verbose = 1.
enum class Progress {
  automatic,  ///< a live bar when the output is a terminal (std::cout on a tty), else lines
  bar,        ///< a live bar redrawn with '\r'
  lines       ///< one line per epoch
};

struct FitOptions {
  int epochs = 1;
  std::size_t batch_size = 32;
  /// The last fraction of the rows (taken before shuffling, as Keras) becomes validation data.
  double validation_split = 0;
  /// Explicit validation data (x, y, rows), used instead of validation_split.
  std::span<const float> validation_x = {};
  std::span<const float> validation_y = {};
  std::size_t validation_rows = 0;
  bool shuffle = true;
  const ClassWeight* class_weight = nullptr;  ///< Keras' class_weight, or nullptr
  std::span<const float> sample_weight = {};  ///< [rows] weights, or empty
  std::vector<std::shared_ptr<Callback>> callbacks = {};
  int verbose = 1;  ///< 0 silent, 1 progress bar, 2 one line per epoch
  Progress progress = Progress::automatic;
  std::ostream* output = nullptr;  ///< where progress goes; nullptr: std::cout
};

struct EvaluateOptions {
  std::size_t batch_size = 32;
  std::span<const float> sample_weight = {};
};

/// A linear stack of Dense layers.
class Sequential {
 public:
  explicit Sequential(std::uint64_t seed = 0);
  Sequential(std::initializer_list<Dense> layers, std::uint64_t seed = 0);
  ~Sequential();
  Sequential(Sequential&&) noexcept;
  Sequential& operator=(Sequential&&) noexcept;
  Sequential(const Sequential&);
  Sequential& operator=(const Sequential&);

  /// Appends a layer; validates units > 0 and the activation name. Not allowed once built.
  Sequential& add(Dense layer);

  /// Creates the weights for `input_dim` features (Glorot-uniform kernels, zero biases). A model
  /// builds itself at its first fit, evaluate or predict (from the data) or from input_dim.
  void build(std::size_t input_dim);
  [[nodiscard]] bool built() const noexcept;
  [[nodiscard]] std::size_t input_dim() const noexcept;
  [[nodiscard]] std::size_t output_dim() const;
  [[nodiscard]] const std::vector<Dense>& layers() const noexcept;

  /// The Keras summary table: layer (type), output shape, parameter count, then the totals.
  [[nodiscard]] std::string summary(std::string_view model_name = "sequential") const;
  /// Total number of parameters (kernels and biases).
  [[nodiscard]] std::size_t count_params() const;

  void compile(CompileOptions options);
  [[nodiscard]] bool compiled() const noexcept;
  /// The compiled optimizer (with its iterations), loss and metrics.
  [[nodiscard]] const Optimizer& optimizer() const;
  [[nodiscard]] const Loss& loss() const;

  History fit(std::span<const float> x, std::span<const float> y, std::size_t rows,
              const FitOptions& options = {});

  /// One optimizer step on one batch (Keras' train_on_batch): forward, loss, backward, update.
  /// The metrics are reset, then updated with this batch. Returns the batch's loss.
  double train_on_batch(std::span<const float> x, std::span<const float> y, std::size_t rows,
                        std::span<const float> sample_weight = {});

  /// {"loss": ..., metric names...} over all rows, in batches.
  Logs evaluate(std::span<const float> x, std::span<const float> y, std::size_t rows,
                const EvaluateOptions& options = {});

  /// The outputs (after the last activation), [rows x output_dim], computed in batches.
  std::vector<float> predict(std::span<const float> x, std::size_t rows,
                             std::size_t batch_size = 32);

  /// All parameters in one flat buffer: per layer, the kernel ([input x units], row-major) then
  /// the bias. Requires a built model.
  [[nodiscard]] std::span<const float> weights() const;
  /// Replaces the parameters (exactly count_params() values).
  void set_weights(std::span<const float> weights);

  /// Writes the weights as safetensors, tensors named "<layer>/kernel" ([input, units]) and
  /// "<layer>/bias" ([units]), F32, with `metadata` in "__metadata__" (plus "format": "simdiff").
  void save_weights(const std::string& path,
                    const std::map<std::string, std::string>& metadata = {}) const;
  /// Reads weights written by save_weights (or by Python with the same names). Every tensor of
  /// the model must be present as F32 with the right shape; other tensors are ignored. An
  /// unbuilt model builds itself from the first kernel's shape. On any error (missing tensor,
  /// wrong shape or dtype, truncated or corrupt file) the model is left unchanged and
  /// std::invalid_argument names the file, the tensor and what was expected. Returns the
  /// file's metadata.
  std::map<std::string, std::string> load_weights(const std::string& path);

  /// Set by a callback to end fit after the current epoch (Keras' model.stop_training).
  bool stop_training = false;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace simdiff
