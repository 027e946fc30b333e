// The loss API beyond the golden values: names, option and input errors (the message names the
// argument, the sample and the value), ignore_class rows with zero gradient, NaN propagation on
// every backend and target, empty batches, the functional forms, and no allocation once a batch
// shape has been seen.
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"

// Counts the allocations of the whole test program, to show that a loss evaluation does none once
// its scratch has grown to the batch shape.
namespace {
std::atomic<std::size_t> g_allocations{0};
}  // namespace

// Not inlined: GCC would otherwise see free() of memory from operator new at the call sites
// (-Wmismatched-new-delete), although both ends of the pair are these replacements.
[[gnu::noinline]] void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace simdiff_test {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Every loss (and both paths of the cross-entropies), with default options otherwise.
std::vector<std::pair<std::string, simdiff::Loss>> every_loss() {
  return {
      {"BinaryCrossentropy", simdiff::BinaryCrossentropy{}},
      {"BinaryCrossentropy logits", simdiff::BinaryCrossentropy{.from_logits = true}},
      {"CategoricalCrossentropy", simdiff::CategoricalCrossentropy{}},
      {"CategoricalCrossentropy logits", simdiff::CategoricalCrossentropy{.from_logits = true}},
      {"SparseCategoricalCrossentropy", simdiff::SparseCategoricalCrossentropy{}},
      {"SparseCategoricalCrossentropy logits",
       simdiff::SparseCategoricalCrossentropy{.from_logits = true}},
      {"BinaryFocalCrossentropy", simdiff::BinaryFocalCrossentropy{}},
      {"BinaryFocalCrossentropy logits", simdiff::BinaryFocalCrossentropy{.from_logits = true}},
      {"CategoricalFocalCrossentropy", simdiff::CategoricalFocalCrossentropy{}},
      {"CategoricalFocalCrossentropy logits",
       simdiff::CategoricalFocalCrossentropy{.from_logits = true}},
      {"MeanSquaredError", simdiff::MeanSquaredError{}},
      {"MeanAbsoluteError", simdiff::MeanAbsoluteError{}},
  };
}

bool is_sparse(const simdiff::Loss& loss) {
  return std::holds_alternative<simdiff::SparseCategoricalCrossentropy>(loss.config());
}

// A valid batch of `rows` x `cols` for `loss`: probabilities in (0, 1), labels, one-hot targets.
template <class T>
struct Batch {
  std::vector<T> y_true;
  std::vector<T> y_pred;
  simdiff::MatrixShape shape;
};

template <class T>
Batch<T> valid_batch(const simdiff::Loss& loss, std::size_t rows, std::size_t cols) {
  Batch<T> batch;
  batch.shape = {rows, cols};
  for (std::size_t r = 0; r < rows; ++r) {
    if (is_sparse(loss)) batch.y_true.push_back(static_cast<T>(r % cols));
    for (std::size_t c = 0; c < cols; ++c) {
      if (!is_sparse(loss)) batch.y_true.push_back(c == r % cols ? T{1} : T{0});
      batch.y_pred.push_back(static_cast<T>(0.1 + 0.8 * double((r * 7 + c * 3) % 11) / 10.0));
    }
  }
  return batch;
}

// Asserts that `f` throws std::invalid_argument whose message contains every fragment.
void expect_invalid(const std::function<void()>& f,
                    const std::vector<std::string_view>& fragments) {
  try {
    f();
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    for (const std::string_view fragment : fragments) {
      BOOST_TEST(message.find(fragment) != std::string::npos,
                 "message \"" << message << "\" does not contain \"" << fragment << "\"");
    }
    return;
  } catch (const std::exception& error) {
    BOOST_ERROR("expected std::invalid_argument, got " << error.what());
    return;
  }
  std::string expected;
  for (const std::string_view fragment : fragments) expected += std::string(fragment) + " ";
  BOOST_ERROR("no exception; expected std::invalid_argument mentioning " << expected);
}

BOOST_AUTO_TEST_SUITE(loss_api)

BOOST_AUTO_TEST_CASE(names_and_registry) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"binary_crossentropy", "binary_crossentropy"},
      {"BinaryCrossentropy", "binary_crossentropy"},
      {"bce", "binary_crossentropy"},
      {"BCE", "binary_crossentropy"},
      {"categorical_crossentropy", "categorical_crossentropy"},
      {"CategoricalCrossentropy", "categorical_crossentropy"},
      {"sparse_categorical_crossentropy", "sparse_categorical_crossentropy"},
      {"SparseCategoricalCrossentropy", "sparse_categorical_crossentropy"},
      {"binary_focal_crossentropy", "binary_focal_crossentropy"},
      {"BinaryFocalCrossentropy", "binary_focal_crossentropy"},
      {"categorical_focal_crossentropy", "categorical_focal_crossentropy"},
      {"CategoricalFocalCrossentropy", "categorical_focal_crossentropy"},
      {"mean_squared_error", "mean_squared_error"},
      {"MeanSquaredError", "mean_squared_error"},
      {"mse", "mean_squared_error"},
      {"MSE", "mean_squared_error"},
      {"mean_absolute_error", "mean_absolute_error"},
      {"MeanAbsoluteError", "mean_absolute_error"},
      {"mae", "mean_absolute_error"},
      {"MAE", "mean_absolute_error"},
  };
  for (const auto& [name, canonical] : names) {
    const simdiff::Loss loss = simdiff::Loss::from_name(name);
    BOOST_TEST(loss.name() == canonical, name);
    BOOST_TEST((loss.reduction() == simdiff::Reduction::sum_over_batch_size), name);
  }
  // Defaults are Keras' defaults.
  const auto focal = std::get<simdiff::BinaryFocalCrossentropy>(
      simdiff::Loss::from_name("binary_focal_crossentropy").config());
  BOOST_TEST(focal.alpha == 0.25);
  BOOST_TEST(focal.gamma == 2.0);
  BOOST_TEST(!focal.apply_class_balancing);
  BOOST_TEST(!focal.from_logits);
  expect_invalid([] { static_cast<void>(simdiff::Loss::from_name("hinge")); },
                 {"\"hinge\"", "binary_crossentropy", "mean_absolute_error", "mse"});

  // Implicit construction from the option structs.
  const simdiff::Loss loss = simdiff::SparseCategoricalCrossentropy{
      .from_logits = true, .ignore_class = -1, .reduction = simdiff::Reduction::sum};
  BOOST_TEST(loss.name() == "sparse_categorical_crossentropy");
  BOOST_TEST((loss.reduction() == simdiff::Reduction::sum));
  BOOST_TEST(*std::get<simdiff::SparseCategoricalCrossentropy>(loss.config()).ignore_class == -1);
}

BOOST_AUTO_TEST_CASE(invalid_options) {
  expect_invalid([] { simdiff::Loss(simdiff::BinaryCrossentropy{.label_smoothing = 1.5}); },
                 {"binary_crossentropy", "label_smoothing = 1.5", "[0, 1]"});
  expect_invalid([] { simdiff::Loss(simdiff::CategoricalCrossentropy{.label_smoothing = -0.1}); },
                 {"categorical_crossentropy", "label_smoothing = -0.1"});
  expect_invalid(
      [] { simdiff::Loss(simdiff::SparseCategoricalCrossentropy{.label_smoothing = kNaN}); },
      {"sparse_categorical_crossentropy", "label_smoothing = nan"});
  expect_invalid([] { simdiff::Loss(simdiff::BinaryFocalCrossentropy{.alpha = 1.5}); },
                 {"binary_focal_crossentropy", "alpha = 1.5", "[0, 1]"});
  expect_invalid([] { simdiff::Loss(simdiff::CategoricalFocalCrossentropy{.alpha = -0.25}); },
                 {"categorical_focal_crossentropy", "alpha = -0.25"});
  expect_invalid([] { simdiff::Loss(simdiff::BinaryFocalCrossentropy{.gamma = -1}); },
                 {"gamma = -1", ">= 0"});
  expect_invalid([] { simdiff::Loss(simdiff::CategoricalFocalCrossentropy{.gamma = kInf}); },
                 {"gamma = inf", "finite"});
  expect_invalid([] { simdiff::Loss(simdiff::BinaryFocalCrossentropy{.gamma = kNaN}); },
                 {"gamma = nan"});
  expect_invalid(
      [] {
        simdiff::Loss(simdiff::MeanSquaredError{.reduction = static_cast<simdiff::Reduction>(7)});
      },
      {"mean_squared_error", "reduction = 7"});
  // The functional forms check their options too.
  expect_invalid(
      [] {
        const std::vector<double> y = {1}, p = {0.5};
        std::vector<double> out(1);
        simdiff::binary_crossentropy(y, p, {1, 1}, out, {.label_smoothing = 2});
      },
      {"binary_crossentropy", "label_smoothing = 2"});
  // The boundaries are allowed.
  simdiff::Loss(simdiff::BinaryCrossentropy{.label_smoothing = 1});
  simdiff::Loss(simdiff::BinaryFocalCrossentropy{.alpha = 0, .gamma = 0});
  simdiff::Loss(simdiff::CategoricalFocalCrossentropy{.alpha = 1, .gamma = 100});
}

template <class T>
void check_invalid_inputs() {
  const simdiff::Loss sparse = simdiff::SparseCategoricalCrossentropy{.from_logits = true};
  const simdiff::Loss sparse_ignoring =
      simdiff::SparseCategoricalCrossentropy{.from_logits = true, .ignore_class = -1};
  const simdiff::Loss bce = simdiff::BinaryCrossentropy{};
  const std::vector<T> logits(12, T{0.5});  // 4 x 3
  const simdiff::MatrixShape shape{4, 3};
  const auto labels_input = [&](const std::vector<T>& labels) {
    return simdiff::LossInput<T>{.y_true = labels, .y_pred = logits, .shape = shape};
  };

  // Labels.
  for (const auto& [bad_labels, fragments] :
       std::vector<std::pair<std::vector<T>, std::vector<std::string_view>>>{
           {{0, 5, 1, 2}, {"y_true[1] = 5", "[0, 3)"}},
           {{0, 1, 2, 3}, {"y_true[3] = 3", "[0, 3)"}},
           {{0, -1, 1, 2}, {"y_true[1] = -1", "[0, 3)"}},
           {{0, 1, T(kNaN), 2}, {"y_true[2] = nan", "integer"}},
           {{1.5, 1, 1, 2}, {"y_true[0] = 1.5", "integer"}},
           {{0, 1, 2, T(kInf)}, {"y_true[3] = inf"}}}) {
    std::vector<std::string_view> expected = fragments;
    expected.push_back("sparse_categorical_crossentropy: ");
    const std::vector<T>& labels = bad_labels;  // a structured binding cannot be captured
    expect_invalid([&] { static_cast<void>(sparse(labels_input(labels))); }, expected);
  }
  // ignore_class allows its own value only.
  static_cast<void>(sparse_ignoring(labels_input({0, -1, 1, 2})));
  expect_invalid(
      [&] {
        static_cast<void>(sparse_ignoring(labels_input({0, -2, 1, 2})));
      },
      {"y_true[1] = -2", "ignore_class = -1"});

  // Sizes.
  const std::vector<T> targets(12, T{1});
  const std::vector<T> short_buffer(11, T{0.5});
  expect_invalid(
      [&] { static_cast<void>(bce({.y_true = targets, .y_pred = short_buffer, .shape = shape})); },
      {"binary_crossentropy", "y_pred has 11 elements", "4 x 3", "12"});
  expect_invalid(
      [&] { static_cast<void>(bce({.y_true = short_buffer, .y_pred = logits, .shape = shape})); },
      {"y_true has 11 elements"});
  const std::vector<T> long_buffer(13, T{0.5});
  expect_invalid(
      [&] { static_cast<void>(bce({.y_true = targets, .y_pred = long_buffer, .shape = shape})); },
      {"y_pred has 13 elements"});
  // A one-hot y_true given to the sparse loss.
  expect_invalid([&] { static_cast<void>(sparse(labels_input(targets))); },
                 {"y_true has 12 elements", "expected 4"});
  expect_invalid(
      [&] {
        static_cast<void>(bce({.y_true = targets, .y_pred = logits, .shape = {4, 0}}));
      },
      {"binary_crossentropy", "shape.cols is 0"});

  // Weights.
  // The weights must outlive the input: pass a named vector, or a temporary within one statement.
  const auto weighted = [&](const std::vector<T>& weights) {
    return simdiff::LossInput<T>{
        .y_true = targets, .y_pred = logits, .shape = shape, .sample_weight = weights};
  };
  expect_invalid(
      [&] {
        static_cast<void>(bce(weighted({1, 1})));
      },
      {"sample_weight has 2 elements", "expected 4"});
  expect_invalid(
      [&] {
        static_cast<void>(bce(weighted({1, -0.5, 1, 1})));
      },
      {"sample_weight[1] = -0.5", "negative"});
  expect_invalid(
      [&] {
        static_cast<void>(bce(weighted({T(kInf), 1, 1, 1})));
      },
      {"sample_weight[0] = inf", "not finite"});
  expect_invalid(
      [&] {
        static_cast<void>(bce(weighted({1, 1, T(kNaN), 1})));
      },
      {"sample_weight[2] = nan"});
  const simdiff::ClassWeight class_weight = {{0, 1.0}, {1, 2.0}};
  expect_invalid(
      [&] {
        const std::vector<T> ones(4, T{1});
        simdiff::LossInput<T> input = weighted(ones);
        input.class_weight = &class_weight;
        static_cast<void>(bce(input));
      },
      {"class_weight and sample_weight"});
  const simdiff::ClassWeight negative = {{0, 1.0}, {1, -2.0}};
  expect_invalid(
      [&] {
        static_cast<void>(
            bce({.y_true = targets, .y_pred = logits, .shape = shape, .class_weight = &negative}));
      },
      {"class_weight[1] = -2", "negative"});
  const simdiff::ClassWeight infinite = {{2, kInf}};
  expect_invalid(
      [&] {
        static_cast<void>(
            bce({.y_true = targets, .y_pred = logits, .shape = shape, .class_weight = &infinite}));
      },
      {"class_weight[2] = inf"});

  // Outputs.
  const simdiff::LossInput<T> input{.y_true = targets, .y_pred = logits, .shape = shape};
  std::vector<T> small(11);
  expect_invalid([&] { bce.value_and_grad(input, small); }, {"grad has 11 elements"});
  std::vector<T> per_sample(5);
  expect_invalid([&] { bce.per_sample(input, per_sample); }, {"out has 5 elements", "4"});
  std::vector<T> buffer(24, T{0.5});
  const simdiff::LossInput<T> aliased{
      .y_true = targets, .y_pred = std::span<const T>(buffer).first(12), .shape = shape};
  expect_invalid([&] { bce.value_and_grad(aliased, std::span<T>(buffer).subspan(6, 12)); },
                 {"grad overlaps y_pred"});
  expect_invalid([&] { bce.value_and_grad(aliased, std::span<T>(buffer).first(12)); },
                 {"grad overlaps y_pred"});

  // The public class_weight_to_sample_weight.
  const std::vector<T> column = {0, 1, T(kNaN)};
  expect_invalid(
      [&] {
        static_cast<void>(
            simdiff::class_weight_to_sample_weight(column, {3, 1}, false, class_weight));
      },
      {"class_weight_to_sample_weight", "y_true[2] = nan"});
}

BOOST_AUTO_TEST_CASE(invalid_inputs) {
  for_each_type([](auto zero) { check_invalid_inputs<decltype(zero)>(); });
}

// Ignored samples: loss 0, gradient exactly 0 (whatever their predictions hold, NaN and infinities
// included), and left out of the mean's count.
template <class T>
void check_ignored_rows(bool from_logits) {
  const simdiff::MatrixShape shape{4, 3};
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();
  const std::vector<T> y_pred =
      from_logits ? std::vector<T>{1, 2, 3, nan, 0, inf, -1, 0.5, 2, inf, -inf, 0}
                  : std::vector<T>{0.2, 0.3, 0.5, nan, 0, 1, 0.6, 0.3, 0.1, 0, 0, 0};
  const std::vector<T> labels = {2, 7, 0, 7};
  const simdiff::Loss loss = simdiff::SparseCategoricalCrossentropy{
      .from_logits = from_logits, .ignore_class = 7, .label_smoothing = 0.1};
  const simdiff::LossInput<T> input{.y_true = labels, .y_pred = y_pred, .shape = shape};
  std::vector<T> grad(12, nan);
  const double value = loss.value_and_grad(input, grad);
  std::vector<T> per_sample(4);
  loss.per_sample(input, per_sample);
  Comparison comparison(std::string("ignored rows ") + type_name<T>());
  for (const std::size_t r : {1, 3}) {
    comparison.check(expect<T>(0, 0), per_sample[r], [&] { return "loss of ignored row"; });
    for (std::size_t c = 0; c < 3; ++c) {
      comparison.check(expect<T>(0, 0), grad[r * 3 + c],
                       [&] { return "gradient of ignored row " + std::to_string(r); });
    }
  }
  // Valid rows have their loss; the mean divides by the 2 valid rows.
  const Real valid_sum = Real(per_sample[0]) + Real(per_sample[2]);
  comparison.check(expect<T>(valid_sum / 2, 1e-6 * std::fabs(value)), static_cast<T>(value),
                   [] { return "mean over the valid rows"; });
  for (const std::size_t r : {0, 2}) {
    comparison.check(expect<T>(0, 0), T(std::isfinite(per_sample[r]) && per_sample[r] > 0 ? 0 : 1),
                     [] { return "valid rows have a positive finite loss"; });
  }
  comparison.report();
}

BOOST_FIXTURE_TEST_CASE(ignored_rows_have_zero_gradient, ChecksResults) {
  for_each_target([](const TargetUnderTest&) {
    for (const bool from_logits : {false, true}) {
      check_ignored_rows<float>(from_logits);
      check_ignored_rows<double>(from_logits);
    }
  });
}

// A NaN prediction makes its sample's loss NaN (and so the reduced loss), on every path.
template <class T>
void check_nan_propagates(const std::string& name, const simdiff::Loss& loss) {
  Batch<T> batch = valid_batch<T>(loss, 3, 4);
  batch.y_pred[1 * 4 + 2] = std::numeric_limits<T>::quiet_NaN();
  const simdiff::LossInput<T> input{
      .y_true = batch.y_true, .y_pred = batch.y_pred, .shape = batch.shape};
  std::vector<T> per_sample(3);
  loss.per_sample(input, per_sample);
  std::vector<T> grad(12);
  const double value = loss.value_and_grad(input, grad);
  BOOST_TEST_CONTEXT(name << " " << type_name<T>()) {
    BOOST_TEST(std::isnan(per_sample[1]));
    BOOST_TEST(std::isfinite(per_sample[0]));
    BOOST_TEST(std::isfinite(per_sample[2]));
    BOOST_TEST(std::isnan(value));
    BOOST_TEST(std::isnan(loss(input)));
    BOOST_TEST(std::isnan(grad[1 * 4 + 2]));
    for (const std::size_t r : {0, 2}) {
      for (std::size_t c = 0; c < 4; ++c) BOOST_TEST(std::isfinite(grad[r * 4 + c]));
    }
  }
}

BOOST_AUTO_TEST_CASE(nan_predictions_propagate) {
  for_each_target([](const TargetUnderTest&) {
    for (const auto& [name, loss] : every_loss()) {
      check_nan_propagates<float>(name, loss);
      check_nan_propagates<double>(name, loss);
    }
  });
}

BOOST_AUTO_TEST_CASE(empty_batch_is_zero) {
  for (const auto& [name, loss] : every_loss()) {
    const std::vector<double> none;
    const simdiff::LossInput<double> input{.y_true = none, .y_pred = none, .shape = {0, 3}};
    BOOST_TEST(loss(input) == 0.0, name);
    std::vector<double> grad;
    BOOST_TEST(loss.value_and_grad(input, grad) == 0.0, name);
    loss.per_sample(input, grad);
  }
}

// mean_with_sample_weight with weights summing to 0 gives 0 (divide_no_nan), with gradient 0.
BOOST_AUTO_TEST_CASE(zero_weight_sum_gives_zero) {
  const simdiff::Loss loss =
      simdiff::MeanSquaredError{.reduction = simdiff::Reduction::mean_with_sample_weight};
  const std::vector<double> y = {1, 2, 3, 4}, p = {0, 0, 0, 0}, w = {0, 0};
  std::vector<double> grad(4, 1);
  BOOST_TEST(loss.value_and_grad({.y_true = y, .y_pred = p, .shape = {2, 2}, .sample_weight = w},
                                 grad) == 0.0);
  for (const double g : grad) BOOST_TEST(g == 0.0);
}

// The functional forms are the unweighted per-sample losses of the classes.
template <class T>
void check_functional_forms() {
  const simdiff::MatrixShape shape{3, 4};
  const simdiff::BinaryCrossentropy bce{.from_logits = true, .label_smoothing = 0.1};
  const simdiff::CategoricalCrossentropy cce{.label_smoothing = 0.2};
  const simdiff::SparseCategoricalCrossentropy scce{.from_logits = true, .ignore_class = 1};
  const simdiff::BinaryFocalCrossentropy bfce{.apply_class_balancing = true, .gamma = 1.5};
  const simdiff::CategoricalFocalCrossentropy cfce{.alpha = 0.5, .from_logits = true};
  std::vector<T> out(3), expected(3);
  const auto compare = [&](const simdiff::Loss& loss, const auto& function) {
    const Batch<T> batch = valid_batch<T>(loss, 3, 4);
    function(batch, out);
    loss.per_sample({.y_true = batch.y_true, .y_pred = batch.y_pred, .shape = shape}, expected);
    for (std::size_t r = 0; r < 3; ++r) {
      BOOST_TEST(out[r] == expected[r], loss.name() << " sample " << r);
    }
  };
  compare(bce, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::binary_crossentropy(b.y_true, b.y_pred, shape, o, bce);
  });
  compare(cce, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::categorical_crossentropy(b.y_true, b.y_pred, shape, o, cce);
  });
  compare(scce, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::sparse_categorical_crossentropy(b.y_true, b.y_pred, shape, o, scce);
  });
  compare(bfce, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::binary_focal_crossentropy(b.y_true, b.y_pred, shape, o, bfce);
  });
  compare(cfce, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::categorical_focal_crossentropy(b.y_true, b.y_pred, shape, o, cfce);
  });
  compare(simdiff::MeanSquaredError{}, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::mean_squared_error(b.y_true, b.y_pred, shape, o);
  });
  compare(simdiff::MeanAbsoluteError{}, [&](const Batch<T>& b, std::span<T> o) {
    simdiff::mean_absolute_error(b.y_true, b.y_pred, shape, o);
  });
}

BOOST_AUTO_TEST_CASE(functional_forms) {
  check_functional_forms<float>();
  check_functional_forms<double>();
}

// Whether `value` prints as `printed` with `decimals` digits after the point: rounded, or truncated
// toward zero as five Keras docstrings print (tests/golden/README.md, quirk 22).
bool prints_as(double value, double printed, int decimals, bool truncated = false) {
  const double unit = std::pow(10.0, -decimals);
  if (truncated) return value >= printed - 1e-9 * unit && value < printed + unit;
  return std::fabs(value - printed) <= 0.5 * unit * (1 + 1e-9);
}

// Keras docstring examples written out, in float as Keras computes them (every one of the 32 also
// runs from keras_docstring_examples.json in test_losses_golden.cc).
BOOST_AUTO_TEST_CASE(keras_docstring_examples_written_out) {
  using simdiff::Reduction;
  const std::vector<float> binary_targets = {0, 1, 0, 0};
  const std::vector<float> binary_logits = {-18.6f, 0.51f, 2.94f, -12.8f};
  const std::vector<float> sample_weight = {0.8f, 0.2f};
  const simdiff::LossInput<float> binary{
      .y_true = binary_targets, .y_pred = binary_logits, .shape = {2, 2}};
  simdiff::LossInput<float> binary_weighted = binary;
  binary_weighted.sample_weight = sample_weight;
  std::vector<float> per_sample(2);

  // keras.losses.BinaryCrossentropy(from_logits=True): 0.8654, 0.243 with sample_weight [0.8,
  // 0.2], 1.730 with reduction="sum" (all three truncated), [0.235, 1.496] with reduction=None.
  const simdiff::Loss bce = simdiff::BinaryCrossentropy{.from_logits = true};
  BOOST_TEST(prints_as(bce(binary), 0.8654, 4, true));
  BOOST_TEST(prints_as(bce(binary_weighted), 0.243, 3, true));
  BOOST_TEST(prints_as(simdiff::Loss(simdiff::BinaryCrossentropy{
                           .from_logits = true, .reduction = Reduction::sum})(binary),
                       1.730, 3, true));
  bce.per_sample(binary, per_sample);
  BOOST_TEST(prints_as(per_sample[0], 0.235, 3));
  BOOST_TEST(prints_as(per_sample[1], 1.496, 3));

  // keras.losses.BinaryFocalCrossentropy(gamma=2, from_logits=True) on the rank-1 inputs (one
  // sample): 0.691; with apply_class_balancing=True: 0.51. gamma=3 with sample_weight: 0.133.
  const simdiff::LossInput<float> one_sample{
      .y_true = binary_targets, .y_pred = binary_logits, .shape = {1, 4}};
  BOOST_TEST(prints_as(
      simdiff::Loss(simdiff::BinaryFocalCrossentropy{.gamma = 2, .from_logits = true})(one_sample),
      0.691, 3));
  BOOST_TEST(
      prints_as(simdiff::Loss(simdiff::BinaryFocalCrossentropy{
                    .apply_class_balancing = true, .gamma = 2, .from_logits = true})(one_sample),
                0.51, 2));
  BOOST_TEST(prints_as(simdiff::Loss(simdiff::BinaryFocalCrossentropy{
                           .gamma = 3, .from_logits = true})(binary_weighted),
                       0.133, 3));

  // keras.losses.CategoricalCrossentropy(): 1.177; sample_weight [0.3, 0.7]: 0.814;
  // reduction="sum": 2.354; reduction=None: [0.0513, 2.303]. SparseCategoricalCrossentropy with
  // labels [1, 2] gives the same numbers.
  const std::vector<float> one_hot = {0, 1, 0, 0, 0, 1};
  const std::vector<float> labels = {1, 2};
  const std::vector<float> probabilities = {0.05f, 0.95f, 0, 0.1f, 0.8f, 0.1f};
  const std::vector<float> cce_weight = {0.3f, 0.7f};
  for (const bool sparse : {false, true}) {
    const simdiff::LossInput<float> input{
        .y_true = sparse ? labels : one_hot, .y_pred = probabilities, .shape = {2, 3}};
    simdiff::LossInput<float> weighted = input;
    weighted.sample_weight = cce_weight;
    const auto make = [&](Reduction reduction) {
      return sparse ? simdiff::Loss(simdiff::SparseCategoricalCrossentropy{.reduction = reduction})
                    : simdiff::Loss(simdiff::CategoricalCrossentropy{.reduction = reduction});
    };
    BOOST_TEST(prints_as(make(Reduction::sum_over_batch_size)(input), 1.177, 3));
    BOOST_TEST(prints_as(make(Reduction::sum_over_batch_size)(weighted), 0.814, 3));
    BOOST_TEST(prints_as(make(Reduction::sum)(input), 2.354, 3));
    make(Reduction::none).per_sample(input, per_sample);
    BOOST_TEST(prints_as(per_sample[0], 0.0513, 4));
    BOOST_TEST(prints_as(per_sample[1], 2.303, 3));
  }

  // keras.losses.CategoricalFocalCrossentropy(): 0.23315276 (Keras printed float32 digits; the
  // value is 0.2331527698); sample_weight [0.3, 0.7]: 0.1632; reduction="sum": 0.46631.
  const simdiff::LossInput<float> focal{
      .y_true = one_hot, .y_pred = probabilities, .shape = {2, 3}};
  const simdiff::Loss cfce = simdiff::CategoricalFocalCrossentropy{};
  BOOST_TEST(std::fabs(cfce(focal) - 0.23315276) <= 1e-7);
  simdiff::LossInput<float> focal_weighted = focal;
  focal_weighted.sample_weight = cce_weight;
  BOOST_TEST(prints_as(cfce(focal_weighted), 0.1632, 4));
  BOOST_TEST(prints_as(
      simdiff::Loss(simdiff::CategoricalFocalCrossentropy{.reduction = Reduction::sum})(focal),
      0.46631, 5));

  // keras.losses.binary_crossentropy(y_true, y_pred) with probabilities: [0.916, 0.714];
  // keras.losses.binary_focal_crossentropy(y_true, y_pred, gamma=2): [0.330, 0.206].
  const std::vector<float> binary_probabilities = {0.6f, 0.4f, 0.4f, 0.6f};
  simdiff::binary_crossentropy(binary_targets, binary_probabilities, {2, 2}, per_sample);
  BOOST_TEST(prints_as(per_sample[0], 0.916, 3));
  BOOST_TEST(prints_as(per_sample[1], 0.714, 3));
  simdiff::binary_focal_crossentropy(binary_targets, binary_probabilities, {2, 2}, per_sample,
                                     {.gamma = 2});
  BOOST_TEST(prints_as(per_sample[0], 0.330, 3));
  BOOST_TEST(prints_as(per_sample[1], 0.206, 3));
}

// After one call with a batch shape, further calls with that shape or a smaller one do not
// allocate (a training loop calls the loss every step).
BOOST_AUTO_TEST_CASE(no_allocation_after_warm_up) {
  const simdiff::ClassWeight class_weight = {{0, 2.0}, {2, 0.5}};
  for_each_target([&](const TargetUnderTest&) {
    for (const auto& [name, loss] : every_loss()) {
      for (const bool with_class_weight : {false, true}) {
        const Batch<float> batch = valid_batch<float>(loss, 16, 10);
        const Batch<float> smaller = valid_batch<float>(loss, 5, 10);
        std::vector<float> grad(160), per_sample(16);
        const auto input = [&](const Batch<float>& b) {
          return simdiff::LossInput<float>{
              .y_true = b.y_true,
              .y_pred = b.y_pred,
              .shape = b.shape,
              .class_weight = with_class_weight ? &class_weight : nullptr};
        };
        static_cast<void>(loss.value_and_grad(input(batch), grad));
        loss.per_sample(input(batch), per_sample);
        const std::size_t before = g_allocations.load();
        static_cast<void>(loss.value_and_grad(input(batch), grad));
        static_cast<void>(loss(input(batch)));
        loss.per_sample(input(batch), per_sample);
        static_cast<void>(loss.value_and_grad(input(smaller), std::span(grad).first(50)));
        const std::size_t allocations = g_allocations.load() - before;
        BOOST_TEST(allocations == 0u, name << (with_class_weight ? " with class_weight" : "")
                                           << " allocated " << allocations << " times");
      }
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
