// Sequential + Dense (<simdiff/model.h>): gradients of every activation and loss path against
// central differences of an independent double-precision forward pass, reproducibility, the
// Keras semantics of fit (validation_split, callbacks, EarlyStopping, History), summary and
// progress output, training quality on the bundled datasets, argument errors.
#include <simdiff/data.h>
#include <simdiff/model.h>
#include <simdiff/ops.h>
#include <simdiff/tape.h>

#include <boost/test/unit_test.hpp>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace {

using simdiff::Dense;
using simdiff::Sequential;

// ---------------------------------------------------------------------------------------------
// The reference: the model's forward pass and loss in double, written from the definitions.

struct RefLayer {
  std::size_t in, units;
  std::string activation;
  bool use_bias;
};

double activate(const std::string& name, double z) {
  if (name == "relu") return z > 0 ? z : 0;
  if (name == "sigmoid") return 1 / (1 + std::exp(-z));
  if (name == "tanh") return std::tanh(z);
  if (name == "elu") return z > 0 ? z : std::expm1(z);
  if (name == "selu") return 1.0507009873554805 * (z > 0 ? z : 1.6732632423543772 * std::expm1(z));
  if (name == "softplus") return std::log1p(std::exp(z));
  if (name == "leaky_relu") return z > 0 ? z : 0.2 * z;
  return z;
}

// Mean loss over the batch of the model with parameters `w` (the model's flat layout).
double reference_loss(const std::vector<RefLayer>& layers, const std::vector<double>& w,
                      const std::vector<float>& x, const std::vector<float>& y, std::size_t rows,
                      const std::string& loss) {
  double total = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    std::vector<double> a(x.begin() + static_cast<std::ptrdiff_t>(r * layers[0].in),
                          x.begin() + static_cast<std::ptrdiff_t>((r + 1) * layers[0].in));
    std::size_t offset = 0;
    for (const RefLayer& layer : layers) {
      std::vector<double> z(layer.units, 0.0);
      for (std::size_t j = 0; j < layer.units; ++j) {
        for (std::size_t i = 0; i < layer.in; ++i) z[j] += a[i] * w[offset + i * layer.units + j];
      }
      offset += layer.in * layer.units;
      if (layer.use_bias) {
        for (std::size_t j = 0; j < layer.units; ++j) z[j] += w[offset + j];
        offset += layer.units;
      }
      if (layer.activation == "softmax") {
        double m = -INFINITY, s = 0;
        for (const double v : z) m = std::max(m, v);
        for (const double v : z) s += std::exp(v - m);
        for (double& v : z) v = std::exp(v - m) / s;
      } else {
        for (double& v : z) v = activate(layer.activation, v);
      }
      a = z;
    }
    const std::size_t c = a.size();
    if (loss == "sparse_categorical_crossentropy") {
      total += -std::log(a[static_cast<std::size_t>(y[r])]);
    } else if (loss == "categorical_crossentropy") {
      for (std::size_t j = 0; j < c; ++j) total += -y[r * c + j] * std::log(a[j]);
    } else if (loss == "binary_crossentropy") {
      double sum = 0;
      for (std::size_t j = 0; j < c; ++j) {
        const double t = y[r * c + j];
        sum += -(t * std::log(a[j]) + (1 - t) * std::log(1 - a[j]));
      }
      total += sum / static_cast<double>(c);
    } else {  // mean_squared_error
      double sum = 0;
      for (std::size_t j = 0; j < c; ++j) sum += (a[j] - y[r * c + j]) * (a[j] - y[r * c + j]);
      total += sum / static_cast<double>(c);
    }
  }
  return total / static_cast<double>(rows);
}

struct GradientCase {
  std::string hidden;  // hidden activation
  std::string output;  // output activation
  std::size_t classes;
  std::string loss;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(training)

// One SGD step with learning rate 1 moves the weights by exactly the gradient: compare it with
// central differences (h = 1e-5) of the double reference. Bound: 2e-5 + 2e-3 |g| per parameter,
// for float forward/backward passes (relative error ~1e-6), the rounding of w - g at |w| <= 1
// (6e-8) and the O(h^2) difference error (1e-9 here); a wrong transpose, a missing activation
// derivative or a wrong loss gradient is off by more than 1e-2 somewhere.
BOOST_AUTO_TEST_CASE(gradients_match_finite_differences_on_every_target) {
  const std::vector<GradientCase> cases = {
      {"relu", "softmax", 3, "sparse_categorical_crossentropy"},
      {"tanh", "softmax", 3, "categorical_crossentropy"},
      {"sigmoid", "sigmoid", 1, "binary_crossentropy"},
      {"linear", "sigmoid", 2, "binary_crossentropy"},
      {"tanh", "linear", 2, "mean_squared_error"},
      {"relu", "tanh", 2, "mean_squared_error"},
      // softmax followed by a binary loss: not the logits path, through softmax's backward.
      {"tanh", "softmax", 3, "binary_crossentropy"},
      {"elu", "selu", 2, "mean_squared_error"},
      {"softplus", "leaky_relu", 2, "mean_squared_error"},
  };
  const std::size_t rows = 7, features = 5, hidden = 4;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 5);
  simdiff_test::for_each_target([&](const simdiff_test::TargetUnderTest&) {
    for (const GradientCase& c : cases) {
      BOOST_TEST_CONTEXT(c.hidden << " + " << c.output << " + " << c.loss) {
        std::vector<float> y;
        const auto u = simdiff_test::random_uniform<double>(0, 1, rows * c.classes, 9);
        if (c.loss == "sparse_categorical_crossentropy") {
          for (std::size_t r = 0; r < rows; ++r) y.push_back(float(r % c.classes));
        } else if (c.loss == "categorical_crossentropy") {
          y.assign(rows * c.classes, 0.0f);
          for (std::size_t r = 0; r < rows; ++r) y[r * c.classes + (r * 2) % c.classes] = 1;
        } else if (c.loss == "binary_crossentropy") {
          for (std::size_t i = 0; i < rows * c.classes; ++i) y.push_back(u[i] < 0.5 ? 0.0f : 1.0f);
        } else {
          for (std::size_t i = 0; i < rows * c.classes; ++i) y.push_back(float(u[i]));
        }
        Sequential model(3);
        model.add(Dense{.units = hidden, .activation = c.hidden, .input_dim = features});
        model.add(Dense{.units = c.classes, .activation = c.output});
        model.compile({.optimizer = simdiff::SGD{.learning_rate = 1.0}, .loss = c.loss});
        model.build(features);
        const std::vector<float> before(model.weights().begin(), model.weights().end());
        model.fit(x, y, rows, {.epochs = 1, .batch_size = rows, .shuffle = false, .verbose = 0});
        const std::vector<RefLayer> layers = {{features, hidden, c.hidden, true},
                                              {hidden, c.classes, c.output, true}};
        std::vector<double> w(before.begin(), before.end());
        double largest = 0;
        for (std::size_t p = 0; p < w.size(); ++p) {
          const double h = 1e-5;
          const double saved = w[p];
          w[p] = saved + h;
          const double up = reference_loss(layers, w, x, y, rows, c.loss);
          w[p] = saved - h;
          const double down = reference_loss(layers, w, x, y, rows, c.loss);
          w[p] = saved;
          const double expected = (up - down) / (2 * h);
          const double got = double(before[p]) - double(model.weights()[p]);
          SIMDIFF_CHECK(
              std::abs(got - expected) <= 2e-5 + 2e-3 * std::abs(expected),
              "parameter " << p << ": gradient " << got << ", finite differences " << expected);
          largest = std::max(largest, std::abs(expected));
        }
        // Gradients of this size make the bound meaningful (not all ~0).
        BOOST_TEST(largest > 1e-2);
      }
    }
  });
}

// The same gradients from the autodiff tape (<simdiff/tape.h>), an independent implementation
// of the forward and backward passes, at realistic sizes (64 features, 32 rows). Bound: both run
// in float with sums of at most 64 terms: 1e-5 + 1e-3 |g|.
BOOST_AUTO_TEST_CASE(gradients_match_the_autodiff_tape) {
  const std::size_t rows = 32, features = 64, hidden = 16, classes = 10;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 31);
  std::vector<float> labels(rows);
  for (std::size_t r = 0; r < rows; ++r) labels[r] = float((r * 7) % classes);
  for (const std::string hidden_activation : {"relu", "tanh", "sigmoid"}) {
    BOOST_TEST_CONTEXT("hidden " << hidden_activation) {
      Sequential model(8);
      model.add(Dense{.units = hidden, .activation = hidden_activation, .input_dim = features});
      model.add(Dense{.units = classes, .activation = "softmax"});
      model.compile({.optimizer = simdiff::SGD{.learning_rate = 1.0},
                     .loss = "sparse_categorical_crossentropy"});
      model.build(features);
      const std::vector<float> w(model.weights().begin(), model.weights().end());
      const auto slice = [&](std::size_t begin, std::size_t n) {
        return std::vector<float>(w.begin() + std::ptrdiff_t(begin),
                                  w.begin() + std::ptrdiff_t(begin + n));
      };
      simdiff::Parameter<float> w1(
          simdiff::Tensor<float>({features, hidden}, slice(0, features * hidden)));
      simdiff::Parameter<float> b1(simdiff::Tensor<float>::from(slice(features * hidden, hidden)));
      const std::size_t second = features * hidden + hidden;
      simdiff::Parameter<float> w2(
          simdiff::Tensor<float>({hidden, classes}, slice(second, hidden * classes)));
      simdiff::Parameter<float> b2(
          simdiff::Tensor<float>::from(slice(second + hidden * classes, classes)));
      simdiff::Tape<float> tape;
      const simdiff::Tensor<float> xt({rows, features}, x);
      auto h = simdiff::matmul(tape.constant(xt), tape.parameter(w1)) + tape.parameter(b1);
      h = hidden_activation == "relu"   ? simdiff::relu(h)
          : hidden_activation == "tanh" ? simdiff::tanh(h)
                                        : simdiff::sigmoid(h);
      const auto logits = simdiff::matmul(h, tape.parameter(w2)) + tape.parameter(b2);
      const auto loss = simdiff::compute_loss(
          simdiff::Loss(simdiff::SparseCategoricalCrossentropy{.from_logits = true}), logits,
          std::span<const float>(labels));
      tape.backward(loss);

      model.fit(x, labels, rows, {.epochs = 1, .batch_size = rows, .shuffle = false, .verbose = 0});
      std::vector<float> tape_grad;
      for (const auto* p : {&w1, &b1, &w2, &b2}) {
        const auto g = p->grad().span();
        tape_grad.insert(tape_grad.end(), g.begin(), g.end());
      }
      BOOST_REQUIRE(tape_grad.size() == w.size());
      for (std::size_t i = 0; i < w.size(); ++i) {
        const double got = double(w[i]) - double(model.weights()[i]);
        SIMDIFF_CHECK(std::abs(got - tape_grad[i]) <= 1e-5 + 1e-3 * std::abs(tape_grad[i]),
                      "parameter " << i << ": " << got << ", tape " << tape_grad[i]);
      }
    }
  }
}

simdiff::Dataset bundled(const char* name) {
  return simdiff::load_csv(std::string(SIMDIFF_DATA_DIR) + "/" + name);
}

std::vector<float> one_hot(const simdiff::Dataset& data, std::size_t classes) {
  std::vector<float> out(data.rows * classes, 0.0f);
  for (std::size_t r = 0; r < data.rows; ++r) out[r * classes + std::size_t(data.y[r])] = 1;
  return out;
}

// The article's model on breast_cancer (455 training rows, 20 epochs): Keras reaches about 97%.
BOOST_AUTO_TEST_CASE(article_model_on_breast_cancer) {
  auto [train, test] = simdiff::train_test_split(bundled("breast_cancer.csv"), 0.2, 42);
  const auto scaler = simdiff::Standardizer::fit(train);
  scaler.transform(train);
  scaler.transform(test);
  Sequential network(42);
  network.add(Dense{.units = 16, .activation = "relu", .input_dim = 30});
  network.add(Dense{.units = 1, .activation = "sigmoid"});
  network.compile({.optimizer = simdiff::RMSprop{.lr = 0.01},
                   .loss = "binary_crossentropy",
                   .metrics = {"accuracy"}});
  const simdiff::History history =
      network.fit(train.x, train.y, train.rows, {.epochs = 20, .verbose = 0});
  BOOST_TEST(history.history.at("loss").back() < history.history.at("loss").front());
  const simdiff::Logs scores = network.evaluate(test.x, test.y, test.rows);
  BOOST_TEST_MESSAGE("breast_cancer test accuracy " << scores.at("accuracy"));
  BOOST_TEST(scores.at("accuracy") >= 0.95);
  // "accuracy" resolved to binary accuracy (one output column).
  BOOST_TEST(scores.count("accuracy") == 1);
}

// digits on a subset (600 training rows, 10 epochs; the full run is the CLI test): a 64-32-10
// network with Adam and categorical cross-entropy on one-hot targets.
BOOST_AUTO_TEST_CASE(digits_subset) {
  const simdiff::Dataset all = bundled("digits.csv");
  BOOST_TEST(all.rows == 1797u);
  BOOST_TEST(all.features == 64u);
  BOOST_TEST(all.classes() == 10u);
  auto [train, test] = simdiff::train_test_split(all, 0.3, 7);
  std::vector<std::size_t> first(600);
  for (std::size_t i = 0; i < first.size(); ++i) first[i] = i;
  train = train.take(first);
  const auto scaler = simdiff::Standardizer::fit(train);
  scaler.transform(train);
  scaler.transform(test);
  Sequential model(
      {Dense{.units = 32, .activation = "relu"}, Dense{.units = 10, .activation = "softmax"}}, 1);
  model.compile({.optimizer = simdiff::Adam{.learning_rate = 0.005},
                 .loss = "categorical_crossentropy",
                 .metrics = {"accuracy"}});
  model.fit(train.x, one_hot(train, 10), train.rows, {.epochs = 10, .verbose = 0});
  const simdiff::Logs scores = model.evaluate(test.x, one_hot(test, 10), test.rows);
  BOOST_TEST_MESSAGE("digits (600 training rows) test accuracy " << scores.at("accuracy"));
  BOOST_TEST(scores.at("accuracy") >= 0.9);

  // predict: softmax rows sum to 1 and their argmax gives the same accuracy.
  const std::vector<float> p = model.predict(test.x, test.rows);
  BOOST_TEST(p.size() == test.rows * 10);
  std::size_t hits = 0;
  for (std::size_t r = 0; r < test.rows; ++r) {
    double sum = 0;
    std::size_t best = 0;
    for (std::size_t c = 0; c < 10; ++c) {
      sum += p[r * 10 + c];
      if (p[r * 10 + c] > p[r * 10 + best]) best = c;
    }
    SIMDIFF_CHECK(std::abs(sum - 1) < 1e-5, "row " << r << " sums to " << sum);
    hits += best == std::size_t(test.y[r]);
  }
  BOOST_TEST(double(hits) / double(test.rows) == scores.at("accuracy"),
             boost::test_tools::tolerance(1e-12));
}

// The same seed gives bit-identical weights; another seed does not.
BOOST_AUTO_TEST_CASE(seeded_training_is_reproducible) {
  const std::size_t rows = 64, features = 6;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 21);
  std::vector<float> y(rows);
  for (std::size_t r = 0; r < rows; ++r) y[r] = x[r * features] + x[r * features + 1] > 0 ? 1 : 0;
  const auto train = [&](std::uint64_t seed) {
    Sequential model(
        {Dense{.units = 8, .activation = "tanh"}, Dense{.units = 1, .activation = "sigmoid"}},
        seed);
    model.compile({.optimizer = simdiff::Adam{}, .loss = "binary_crossentropy"});
    model.fit(x, y, rows, {.epochs = 3, .batch_size = 10, .verbose = 0});
    return std::vector<float>(model.weights().begin(), model.weights().end());
  };
  const auto a = train(5), b = train(5), c = train(6);
  BOOST_TEST(a == b, boost::test_tools::per_element());
  BOOST_TEST(a != c);
}

// Keras' validation_split: the last fraction of the rows, taken before shuffling; equivalent
// to passing those rows as validation data.
BOOST_AUTO_TEST_CASE(validation_split_takes_the_last_rows) {
  const std::size_t rows = 40, features = 3;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 3);
  std::vector<float> y(rows);
  for (std::size_t r = 0; r < rows; ++r) y[r] = float(r % 3);
  const auto run = [&](bool split) {
    Sequential model({Dense{.units = 3, .activation = "softmax"}}, 11);
    model.compile(
        {.optimizer = "sgd", .loss = "sparse_categorical_crossentropy", .metrics = {"accuracy"}});
    simdiff::FitOptions options{.epochs = 2, .batch_size = 8, .verbose = 0};
    if (split) {
      options.validation_split = 0.25;
      return model.fit(x, y, rows, options);
    }
    options.validation_x = std::span<const float>(x).subspan(30 * features);
    options.validation_y = std::span<const float>(y).subspan(30);
    options.validation_rows = 10;
    return model.fit(std::span<const float>(x).first(30 * features),
                     std::span<const float>(y).first(30), 30, options);
  };
  const simdiff::History a = run(true), b = run(false);
  BOOST_TEST(a.history.size() == 4u);  // accuracy, loss, val_accuracy, val_loss
  BOOST_TEST(a.history.at("val_loss") == b.history.at("val_loss"),
             boost::test_tools::per_element());
  BOOST_TEST(a.history.at("loss") == b.history.at("loss"), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(callbacks_and_early_stopping) {
  const std::size_t rows = 20, features = 2;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 13);
  std::vector<float> y(rows);
  for (std::size_t r = 0; r < rows; ++r) y[r] = x[2 * r] > 0 ? 1 : 0;
  Sequential model({Dense{.units = 1, .activation = "sigmoid"}}, 2);
  model.compile({.optimizer = simdiff::SGD{.learning_rate = 0.1}, .loss = "binary_crossentropy"});

  // A user hook sees every epoch and batch and can stop training.
  int epochs_seen = 0;
  std::size_t batches_seen = 0;
  auto hook = std::make_shared<simdiff::LambdaCallback>(
      [&](Sequential& m, int epoch, const simdiff::Logs& logs) {
        ++epochs_seen;
        BOOST_TEST(logs.count("loss") == 1u);
        if (epoch == 2) m.stop_training = true;
      },
      [&](Sequential&, std::size_t, const simdiff::Logs&) { ++batches_seen; });
  const simdiff::History history =
      model.fit(x, y, rows, {.epochs = 10, .batch_size = 8, .callbacks = {hook}, .verbose = 0});
  BOOST_TEST(epochs_seen == 3);
  BOOST_TEST(batches_seen == 9u);  // 3 epochs of ceil(20 / 8) batches
  BOOST_TEST(history.epoch.size() == 3u);

  // EarlyStopping on a scripted monitor: best at epoch 1, patience 2 -> stops at epoch 3 and
  // restores epoch 1's weights.
  simdiff::EarlyStopping stopper(
      {.monitor = "val_loss", .patience = 2, .restore_best_weights = true});
  stopper.on_train_begin(model);
  const std::vector<double> monitor = {0.5, 0.4, 0.45, 0.41, 0.3};
  model.stop_training = false;  // the hook above stopped the last fit
  std::vector<float> weights_at_1;
  for (int epoch = 0; epoch < 5 && !model.stop_training; ++epoch) {
    std::vector<float> w(model.weights().begin(), model.weights().end());
    w[0] = float(epoch);  // mark the epoch in the weights
    model.set_weights(w);
    if (epoch == 1) weights_at_1 = w;
    model.stop_training = false;
    stopper.on_epoch_end(model, epoch, {{"val_loss", monitor[std::size_t(epoch)]}});
    if (model.stop_training) break;
  }
  BOOST_TEST(stopper.stopped_epoch() == 3);
  BOOST_TEST(stopper.best_epoch() == 1);
  BOOST_TEST(model.weights()[0] == 1.0f);

  // "accuracy" is maximized in auto mode; min_delta demands a real improvement.
  simdiff::EarlyStopping on_accuracy({.monitor = "val_accuracy", .min_delta = 0.05, .patience = 1});
  model.stop_training = false;
  on_accuracy.on_train_begin(model);
  on_accuracy.on_epoch_end(model, 0, {{"val_accuracy", 0.5}});
  on_accuracy.on_epoch_end(model, 1, {{"val_accuracy", 0.52}});  // not by more than 0.05
  BOOST_TEST(model.stop_training);
  BOOST_CHECK_THROW(simdiff::EarlyStopping({.mode = "up"}), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(summary_like_keras) {
  Sequential network;
  network.add(Dense{.units = 16, .activation = "relu", .input_dim = 30});
  network.add(Dense{.units = 1, .activation = "sigmoid"});
  const std::string text = network.summary();
  BOOST_TEST(text.find("Model: \"sequential\"") == 0u);
  BOOST_TEST(text.find("dense (Dense)") != std::string::npos);
  BOOST_TEST(text.find("dense_1 (Dense)") != std::string::npos);
  BOOST_TEST(text.find("(None, 16)") != std::string::npos);
  BOOST_TEST(text.find("496 \u2502") != std::string::npos);  // 30 * 16 + 16
  BOOST_TEST(text.find("17 \u2502") != std::string::npos);   // 16 + 1
  BOOST_TEST(text.find("Total params: 513 (2.00 KB)") != std::string::npos);
  BOOST_TEST(network.count_params() == 513u);
  Sequential wide({Dense{.units = 256, .input_dim = 784}, Dense{.units = 10}});
  BOOST_TEST(wide.summary().find("200,960") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(progress_output) {
  const std::size_t rows = 30, features = 2;
  const auto x = simdiff_test::random_uniform<float>(-1, 1, rows * features, 17);
  const std::vector<float> y(rows, 1.0f);
  Sequential model({Dense{.units = 1, .activation = "sigmoid"}});
  model.compile({.loss = "binary_crossentropy", .metrics = {"accuracy"}});
  std::ostringstream lines, bar;
  model.fit(
      x, y, rows,
      {.epochs = 2, .batch_size = 10, .progress = simdiff::Progress::lines, .output = &lines});
  BOOST_TEST(lines.str().find("Epoch 1/2\n3/3 - ") != std::string::npos, lines.str());
  BOOST_TEST(lines.str().find("/step - accuracy: 0.") != std::string::npos, lines.str());
  BOOST_TEST(lines.str().find(" - loss: 0.") != std::string::npos, lines.str());
  BOOST_TEST(lines.str().find('\r') == std::string::npos);
  model.fit(x, y, rows,
            {.epochs = 1, .batch_size = 10, .progress = simdiff::Progress::bar, .output = &bar});
  BOOST_TEST(bar.str().find("\r3/3 ") != std::string::npos, bar.str());
  BOOST_TEST(bar.str().find("\u2501") != std::string::npos);
  std::ostringstream silent;
  model.fit(x, y, rows, {.epochs = 1, .verbose = 0, .output = &silent});
  BOOST_TEST(silent.str().empty());
}

// sample_weight and class_weight reach the loss (Keras semantics of the weighted mean).
BOOST_AUTO_TEST_CASE(weights_reach_the_loss) {
  const std::size_t rows = 4;
  const std::vector<float> x = {1, -1, 2, 0.5f};
  const std::vector<float> y = {1, 0, 1, 0};
  Sequential model({Dense{.units = 1, .activation = "sigmoid", .input_dim = 1}}, 4);
  model.compile({.optimizer = simdiff::SGD{.learning_rate = 0.0}, .loss = "binary_crossentropy"});
  const std::vector<float> sw = {2, 0, 0, 0};
  const auto weighted = model.fit(x, y, rows, {.batch_size = 4, .sample_weight = sw, .verbose = 0});
  const simdiff::ClassWeight cw = {{1, 2.0}, {0, 0.0}};
  const auto by_class = model.fit(x, y, rows, {.batch_size = 4, .class_weight = &cw, .verbose = 0});
  // Row 0 alone with weight 2 out of 4 rows: loss = 2 * bce(row 0) / 4.
  const std::vector<float> p = model.predict(x, rows);
  const double bce0 = -std::log(double(p[0]));
  const double bce2 = -std::log(double(p[2]));
  BOOST_TEST(weighted.history.at("loss")[0] == 2 * bce0 / 4, boost::test_tools::tolerance(1e-5));
  BOOST_TEST(by_class.history.at("loss")[0] == 2 * (bce0 + bce2) / 4,
             boost::test_tools::tolerance(1e-5));
  BOOST_CHECK_THROW(model.fit(x, y, rows, {.class_weight = &cw, .sample_weight = sw, .verbose = 0}),
                    std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(argument_errors) {
  const auto message_of = [](auto&& call) -> std::string {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  const auto contains = [](const std::string& text, const std::string& part) {
    BOOST_TEST(text.find(part) != std::string::npos, "'" << text << "' lacks '" << part << "'");
  };
  Sequential model;
  contains(message_of([&] { model.add(Dense{.units = 0}); }), "units = 0");
  contains(message_of([&] { model.add(Dense{.units = 3, .activation = "swish"}); }),
           "activation = 'swish'; expected linear, relu, sigmoid, tanh, softmax, elu");
  model.add(Dense{.units = 3, .activation = "softmax"});
  const std::vector<float> x(12), y(4);
  contains(message_of([&] { model.fit(x, y, 4); }), "not compiled");
  contains(message_of([&] { model.compile({.optimizer = "adam"}); }), "no loss given");
  contains(message_of([&] { model.compile({.loss = "hinge"}); }), "hinge");
  model.compile({.loss = "sparse_categorical_crossentropy"});
  contains(message_of([&] { model.fit(x, std::vector<float>(5), 4, {.verbose = 0}); }),
           "y has 5 values; expected 4");
  contains(message_of([&] { model.fit(x, y, 4, {.batch_size = 0}); }), "batch_size = 0");
  contains(message_of([&] { model.fit(x, y, 4, {.validation_split = 1.0}); }),
           "validation_split = 1");
  contains(message_of([&] { model.fit(std::vector<float>(10), y, 4); }), "not a multiple");
  model.fit(x, y, 4, {.verbose = 0});
  contains(message_of([&] { model.predict(std::vector<float>(8), 4); }), "expected 3");
  contains(message_of([&] { model.set_weights(std::vector<float>(2)); }), "expected the model's");
}

BOOST_AUTO_TEST_SUITE_END()
