// Tests of the accuracy metrics (<simdiff/metrics.h>) on every backend and target, in float and
// double: every case of tests/golden/metrics.json (both updates, the state after each, each
// sample's value, reset), the "accuracy" resolution table, the Keras docstring examples written
// out as literals, a sweep against a reference written here (ties, NaN and infinities, batches
// spanning several row blocks, strided rows), bad input, and the absence of allocation.
#include <simdiff/metrics.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.h"

// ---------------------------------------------------------------------------------------------
// Allocation counting: this executable replaces the global operator new, so a test can assert that
// Metric::update allocates nothing once warm. Only allocations on a thread that armed the counter
// are counted (Boost allocates for its own bookkeeping between checks).

namespace {
thread_local bool g_count_allocations = false;
thread_local std::size_t g_allocations = 0;
}  // namespace

// Not inlined: GCC would otherwise see free() on memory from operator new at the call sites and
// warn (-Wmismatched-new-delete), although the pair is consistent.
[[gnu::noinline]] void* operator new(std::size_t size) {
  if (g_count_allocations) ++g_allocations;
  if (void* memory = std::malloc(size == 0 ? 1 : size)) return memory;
  throw std::bad_alloc();
}
[[gnu::noinline]] void operator delete(void* memory) noexcept { std::free(memory); }
[[gnu::noinline]] void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }

namespace {

using simdiff::BinaryAccuracy;
using simdiff::CategoricalAccuracy;
using simdiff::MatrixShape;
using simdiff::Metric;
using simdiff::MetricInput;
using simdiff::SparseCategoricalAccuracy;
using simdiff::SparseTopKCategoricalAccuracy;
using simdiff::TopKCategoricalAccuracy;
using simdiff_test::for_each_target;
using simdiff_test::for_each_type;
using simdiff_test::GuardedMatrix;
using json = nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

/// The number of checks made by check_close and CHECK_THROWS_WITH (which report failures only).
std::size_t g_checks = 0;

/// Fixture of the test cases that check through check_close and CHECK_THROWS_WITH: a case
/// that made no check at all (an empty loop) fails.
struct CountsChecks {
  std::size_t before = g_checks;
  ~CountsChecks() { BOOST_TEST(g_checks > before, "the test case made no check"); }
};

/// Checks `got` against `expected` to 1e-12 relative (the sums run in double in both, in another
/// order); NaN must match NaN.
void check_close(double got, double expected, const std::string& what) {
  ++g_checks;
  const bool ok = std::isnan(expected)
                      ? std::isnan(got)
                      : std::fabs(got - expected) <= 1e-12 * std::max(1.0, std::fabs(expected));
  SIMDIFF_CHECK(ok, what << ": expected " << simdiff_test::describe_value(expected) << ", got "
                         << simdiff_test::describe_value(got));
}

/// Whether `call` throws std::invalid_argument whose message holds every one of `parts`.
bool throws_with(const std::function<void()>& call, std::initializer_list<std::string> parts,
                 std::string* message = nullptr) {
  ++g_checks;
  try {
    call();
  } catch (const std::invalid_argument& error) {
    const std::string text = error.what();
    if (message != nullptr) *message = text;
    return std::all_of(parts.begin(), parts.end(),
                       [&](const std::string& part) { return text.find(part) != text.npos; });
  }
  return false;
}

#define CHECK_THROWS_WITH(call, ...)                                                              \
  do {                                                                                            \
    std::string message_;                                                                         \
    SIMDIFF_CHECK(throws_with([&] { call; }, {__VA_ARGS__}, &message_),                           \
                  #call " should throw std::invalid_argument naming " #__VA_ARGS__ "; message: '" \
                      << message_ << "'");                                                        \
  } while (false)

/// The Keras name of a configuration, from the public names (from_name of every kind).
std::string kind_of(const Metric::Config& config) {
  for (const char* name : {"binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy",
                           "top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy"}) {
    if (Metric::from_name(name).config().index() == config.index()) return name;
  }
  return "?";
}

bool is_sparse(const Metric::Config& config) {
  return std::holds_alternative<SparseCategoricalAccuracy>(config) ||
         std::holds_alternative<SparseTopKCategoricalAccuracy>(config);
}

std::size_t k_of(const Metric::Config& config) {
  if (const auto* top_k = std::get_if<TopKCategoricalAccuracy>(&config)) return top_k->k;
  if (const auto* top_k = std::get_if<SparseTopKCategoricalAccuracy>(&config)) return top_k->k;
  return 0;
}

Metric::Config with_k(Metric::Config config, std::size_t k) {
  if (auto* top_k = std::get_if<TopKCategoricalAccuracy>(&config)) top_k->k = k;
  if (auto* top_k = std::get_if<SparseTopKCategoricalAccuracy>(&config)) top_k->k = k;
  return config;
}

// ---------------------------------------------------------------------------------------------
// Batches in guarded buffers

/// Where the rows of a batch sit: dense and aligned, or strided (cols + 3) one element past a
/// 64-byte boundary, with sentinel NaNs in the gaps that a kernel reading them would see.
struct Layout {
  const char* name;
  std::size_t extra_stride;
  std::size_t misalign;
};
constexpr Layout kLayouts[] = {{"dense", 0, 0}, {"stride cols + 3, misaligned by 1", 3, 1}};

/// One batch as float or double buffers in a layout. `y_true` is row-major [rows x cols] for the
/// dense metrics or `rows` labels for the sparse ones; `weight` is empty or `rows` weights.
template <class T>
class Batch {
 public:
  Batch(std::size_t rows, std::size_t cols, bool sparse, const std::vector<double>& y_true,
        const std::vector<double>& y_pred, const std::vector<double>& weight, Layout layout)
      : shape_{rows, cols, layout.extra_stride == 0 ? 0 : cols + layout.extra_stride},
        y_pred_(shape_, layout.misalign, converted(y_pred)),
        y_true_(sparse ? MatrixShape{1, rows} : shape_, layout.misalign, converted(y_true)),
        weight_(MatrixShape{1, weight.size()}, layout.misalign, converted(weight)),
        sparse_(sparse),
        weighted_(!weight.empty()) {}

  MetricInput<T> input() const {
    return {.y_true = y_true_.cspan(),
            .y_pred = y_pred_.cspan(),
            .shape = shape_,
            .sample_weight = weighted_ ? weight_.cspan() : std::span<const T>{}};
  }

  /// Row `r` alone, unweighted.
  MetricInput<T> row(std::size_t r) const {
    const std::size_t stride = shape_.row_stride();
    return {.y_true = sparse_ ? y_true_.cspan().subspan(r, 1)
                              : y_true_.cspan().subspan(r * stride, shape_.cols),
            .y_pred = y_pred_.cspan().subspan(r * stride, shape_.cols),
            .shape = {1, shape_.cols}};
  }

 private:
  static std::vector<T> converted(const std::vector<double>& values) {
    return std::vector<T>(values.begin(), values.end());
  }

  MatrixShape shape_;
  GuardedMatrix<T> y_pred_;
  GuardedMatrix<T> y_true_;
  GuardedMatrix<T> weight_;
  bool sparse_;
  bool weighted_;
};

// ---------------------------------------------------------------------------------------------
// Golden data (tests/golden/metrics.json)

double number(const json& value) {
  if (value.is_string()) {
    const auto text = value.get<std::string>();
    if (text == "nan") return kNaN;
    if (text == "inf") return kInf;
    if (text == "-inf") return -kInf;
    throw std::runtime_error("golden data: unexpected string '" + text + "'");
  }
  return value.get<double>();
}

std::vector<double> numbers(const json& values) {
  std::vector<double> out;
  if (values.is_null()) return out;
  for (const json& value : values) out.push_back(number(value));
  return out;
}

/// The numbers of a nested array, row-major; empty for null.
void append_flat(const json& values, std::vector<double>& out) {
  if (values.is_null()) return;
  if (!values.is_array()) {
    out.push_back(number(values));
    return;
  }
  for (const json& value : values) append_flat(value, out);
}

std::vector<double> flat_numbers(const json& values) {
  std::vector<double> out;
  append_flat(values, out);
  return out;
}

std::size_t product(const std::vector<std::size_t>& dims) {
  std::size_t n = 1;
  for (const std::size_t d : dims) n *= d;
  return n;
}

/// A Keras tensor shape flattened to the [rows x classes] of the API.
MatrixShape flattened(const std::vector<std::size_t>& dims) {
  return {product(std::vector(dims.begin(), dims.end() - 1)), dims.back()};
}

struct GoldenUpdate {
  std::size_t rows;
  std::size_t cols;
  std::vector<double> y_true;
  std::vector<double> y_pred;
  std::vector<double> weight;
  std::vector<double> per_sample;
  double total;
  double count;
  double result;
};

struct GoldenCase {
  std::string name;
  std::string metric;  // the registry name given ("accuracy" or a kind)
  Metric::Config config;
  std::vector<GoldenUpdate> updates;
  double result_after_first;
  double result_after_second;
};

const json& golden_metrics() {
  static const json data = [] {
    std::ifstream file(SIMDIFF_GOLDEN_DIR "/metrics.json");
    if (!file) throw std::runtime_error("cannot open " SIMDIFF_GOLDEN_DIR "/metrics.json");
    return json::parse(file);
  }();
  return data;
}

Metric::Config config_of(const std::string& metric, const json& config) {
  if (metric == "binary_accuracy") return BinaryAccuracy{config.value("threshold", 0.5)};
  if (metric == "categorical_accuracy") return CategoricalAccuracy{};
  if (metric == "sparse_categorical_accuracy") return SparseCategoricalAccuracy{};
  if (metric == "top_k_categorical_accuracy") {
    return TopKCategoricalAccuracy{config.value<std::size_t>("k", 5)};
  }
  if (metric == "sparse_top_k_categorical_accuracy") {
    return SparseTopKCategoricalAccuracy{config.value<std::size_t>("k", 5)};
  }
  throw std::runtime_error("golden data: unknown metric " + metric);
}

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = [] {
    std::vector<GoldenCase> out;
    for (const json& item : golden_metrics().at("cases")) {
      GoldenCase c;
      c.name = item.at("name");
      c.metric = item.at("metric");
      c.config = config_of(c.metric == "accuracy" ? item.at("resolved_metric") : item.at("metric"),
                           item.at("config"));
      for (const json& u : item.at("updates")) {
        const MatrixShape shape = flattened(u.at("y_pred_shape"));
        c.updates.push_back({shape.rows, shape.cols, numbers(u.at("y_true")),
                             numbers(u.at("y_pred")), numbers(u.at("sample_weight")),
                             numbers(u.at("per_sample")), number(u.at("total")),
                             number(u.at("count")), number(u.at("result"))});
      }
      c.result_after_first = number(item.at("result_after_first"));
      c.result_after_second = number(item.at("result_after_second"));
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

/// The metric a golden case builds: by name for "accuracy" (resolved at the first update).
Metric metric_of(const GoldenCase& c, const Metric::Config& config) {
  return c.metric == "accuracy" ? Metric::from_name(c.metric) : Metric(config);
}

/// Applies the updates of `c` under `config`, checking the state after each update, every
/// sample's value alone, result_after_first/second and reset.
template <class T>
void run_golden_updates(const GoldenCase& c, const Metric::Config& config, Layout layout) {
  Metric metric = metric_of(c, config);
  SIMDIFF_CHECK(metric.resolved() == (c.metric != "accuracy"), "resolved() before any update");
  const bool sparse = is_sparse(config);
  std::optional<simdiff::WeightedMean> after_first;
  for (std::size_t u = 0; u < c.updates.size(); ++u) {
    BOOST_TEST_CONTEXT("update " << u) {
      const GoldenUpdate& g = c.updates[u];
      const Batch<T> batch(g.rows, g.cols, sparse, g.y_true, g.y_pred, g.weight, layout);
      metric.update(batch.input());
      check_close(metric.state().total, g.total, "total");
      check_close(metric.state().count, g.count, "count");
      check_close(metric.result(), g.result, "result");
      if (u == 0) {
        after_first = metric.state();
        check_close(metric.result(), c.result_after_first, "result_after_first");
      }
      SIMDIFF_CHECK(metric.resolved() && metric.config().index() == config.index(),
                    "the metric computed is " << kind_of(metric.config()) << ", expected "
                                              << kind_of(config));
      SIMDIFF_CHECK(metric.name() == c.metric, "name() is " << metric.name());
      for (std::size_t r = 0; r < g.rows; ++r) {
        Metric single(metric.config());
        single.update(batch.row(r));
        check_close(single.result(), g.per_sample[r], "value of sample " + std::to_string(r));
      }
    }
  }
  check_close(metric.result(), c.result_after_second, "result_after_second");

  metric.reset();
  SIMDIFF_CHECK(
      metric.result() == 0 && metric.state().total == 0 && metric.state().count == 0,
      "reset() leaves total " << metric.state().total << ", count " << metric.state().count);
  SIMDIFF_CHECK(metric.resolved() || c.metric != "accuracy", "reset() undid the resolution");
  const GoldenUpdate& first = c.updates.front();
  metric.update(
      Batch<T>(first.rows, first.cols, sparse, first.y_true, first.y_pred, first.weight, layout)
          .input());
  SIMDIFF_CHECK(
      metric.state().total == after_first->total && metric.state().count == after_first->count,
      "the first update after reset() differs from the first update");
}

template <class T>
void run_golden_case(const GoldenCase& c, Layout layout) {
  std::size_t classes = c.updates.front().cols;
  for (const GoldenUpdate& u : c.updates) classes = std::min(classes, u.cols);
  const std::size_t k = k_of(c.config);
  if (k <= classes) {
    run_golden_updates<T>(c, c.config, layout);
    return;
  }
  // k > classes is an error here (Keras' JAX and torch backends agree; TensorFlow counts every
  // sample as a hit, and so does the golden data). Check the error, then that k == classes gives
  // the golden values: every sample is a hit in both.
  const GoldenUpdate& first = c.updates.front();
  Metric metric(c.config);
  const Batch<T> batch(first.rows, first.cols, is_sparse(c.config), first.y_true, first.y_pred,
                       first.weight, layout);
  CHECK_THROWS_WITH(metric.update(batch.input()), "k " + std::to_string(k) + " is larger",
                    std::to_string(first.cols) + " classes");
  SIMDIFF_CHECK(metric.state().count == 0, "a rejected update changed the state");
  run_golden_updates<T>(c, with_k(c.config, classes), layout);
}

// ---------------------------------------------------------------------------------------------
// Reference for the sweep: the Keras definitions, written independently of the library.

/// The first maximum of a row; the first NaN if it holds one (row_argmax's rule).
template <class T>
std::size_t reference_argmax(const T* row, std::size_t cols) {
  std::size_t best = 0;
  for (std::size_t c = 0; c < cols; ++c) {
    if (std::isnan(row[c])) return c;
    if (row[c] > row[best]) best = c;
  }
  return best;
}

/// in_top_k by sorting: the target's score is at least the k-th largest score of the row (ties
/// straddling the boundary count). NaN scores take no place in the order; a NaN target misses.
template <class T>
bool reference_in_top_k(const T* row, std::size_t cols, std::size_t target, std::size_t k) {
  if (std::isnan(row[target])) return false;
  std::vector<T> scores;
  for (std::size_t c = 0; c < cols; ++c) {
    if (!std::isnan(row[c])) scores.push_back(row[c]);
  }
  if (k > scores.size()) return true;
  std::sort(scores.begin(), scores.end(), std::greater<T>());
  return row[target] >= scores[k - 1];
}

/// The weighted sums of a batch stored dense, computed from the definitions.
template <class T>
simdiff::WeightedMean reference_state(const Metric::Config& config, std::size_t rows,
                                      std::size_t cols, const std::vector<T>& y_true,
                                      const std::vector<T>& y_pred, const std::vector<T>& weight) {
  simdiff::WeightedMean state;
  for (std::size_t r = 0; r < rows; ++r) {
    const T* truth = y_true.data() + (is_sparse(config) ? r : r * cols);
    const T* scores = y_pred.data() + r * cols;
    const std::size_t target =
        is_sparse(config) ? static_cast<std::size_t>(truth[0]) : reference_argmax(truth, cols);
    double value = 0;
    if (const auto* binary = std::get_if<BinaryAccuracy>(&config)) {
      const T threshold = static_cast<T>(binary->threshold);
      for (std::size_t c = 0; c < cols; ++c) {
        value += truth[c] == (scores[c] > threshold ? T(1) : T(0)) ? 1 : 0;
      }
      value /= static_cast<double>(cols);
    } else if (k_of(config) == 0) {
      value = reference_argmax(scores, cols) == target ? 1 : 0;
    } else {
      value = reference_in_top_k(scores, cols, target, k_of(config)) ? 1 : 0;
    }
    const double w = weight.empty() ? 1.0 : static_cast<double>(weight[r]);
    state.total += value * w;
    state.count += w;
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// Literal Keras docstring examples (keras/src/metrics/accuracy_metrics.py at commit
// 040582fc160b1080954ddc1f554dd70fbbb1da5a); each sample_weight example follows reset_state().

struct DocstringExample {
  const char* code;
  Metric::Config config;
  std::vector<double> y_true;  // row-major, or labels
  std::vector<double> y_pred;
  std::size_t classes;
  std::vector<double> sample_weight;
  double printed;
};

const std::vector<DocstringExample>& docstring_examples() {
  static const std::vector<DocstringExample> examples = {
      {"m = keras.metrics.BinaryAccuracy()",
       BinaryAccuracy{},
       {1, 1, 0, 0},
       {0.98, 1, 0, 0.6},
       1,
       {},
       0.75},
      {"sample_weight=[1, 0, 0, 1]",
       BinaryAccuracy{},
       {1, 1, 0, 0},
       {0.98, 1, 0, 0.6},
       1,
       {1, 0, 0, 1},
       0.5},
      {"m = keras.metrics.CategoricalAccuracy()",
       CategoricalAccuracy{},
       {0, 0, 1, 0, 1, 0},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {},
       0.5},
      {"sample_weight=[0.7, 0.3]",
       CategoricalAccuracy{},
       {0, 0, 1, 0, 1, 0},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {0.7, 0.3},
       0.3},
      {"m = keras.metrics.SparseCategoricalAccuracy()",
       SparseCategoricalAccuracy{},
       {2, 1},
       {0.1, 0.6, 0.3, 0.05, 0.95, 0},
       3,
       {},
       0.5},
      {"sample_weight=[0.7, 0.3]",
       SparseCategoricalAccuracy{},
       {2, 1},
       {0.1, 0.6, 0.3, 0.05, 0.95, 0},
       3,
       {0.7, 0.3},
       0.3},
      {"m = keras.metrics.TopKCategoricalAccuracy(k=1)",
       TopKCategoricalAccuracy{1},
       {0, 0, 1, 0, 1, 0},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {},
       0.5},
      {"sample_weight=[0.7, 0.3]  # k=1",
       TopKCategoricalAccuracy{1},
       {0, 0, 1, 0, 1, 0},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {0.7, 0.3},
       0.3},
      {"m = keras.metrics.SparseTopKCategoricalAccuracy(k=1)",
       SparseTopKCategoricalAccuracy{1},
       {2, 1},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {},
       0.5},
      {"sample_weight=[0.7, 0.3]  # k=1",
       SparseTopKCategoricalAccuracy{1},
       {2, 1},
       {0.1, 0.9, 0.8, 0.05, 0.95, 0},
       3,
       {0.7, 0.3},
       0.3},
  };
  return examples;
}

// ---------------------------------------------------------------------------------------------
// Checks that need a target: run once per target by the test cases below.

template <class T>
void check_bad_input() {
  const std::vector<T> scores = {0.1, 0.6, 0.3, 0.2, 0.2, 0.6, 0.5, 0.4, 0.1};  // 3 x 3
  const std::vector<T> one_hot = {0, 1, 0, 0, 0, 1, 1, 0, 0};
  const MatrixShape shape{3, 3};
  const T nan = std::numeric_limits<T>::quiet_NaN();
  const T inf = std::numeric_limits<T>::infinity();

  // Labels: out of range, negative, not an integer, NaN; the message names y_true, the sample
  // and the value.
  for (const Metric::Config config : {Metric::Config{SparseCategoricalAccuracy{}},
                                      Metric::Config{SparseTopKCategoricalAccuracy{2}}}) {
    const std::string kind = kind_of(config);
    for (const auto& [label, text] : {std::pair<T, std::string>{3, "is 3;"},
                                      {-1, "is -1;"},
                                      {1.5, "is 1.5;"},
                                      {nan, "is nan;"},
                                      {inf, "is inf;"}}) {
      Metric metric(config);
      metric.update({.y_true = std::vector<T>{0, 1, 2}, .y_pred = scores, .shape = shape});
      const simdiff::WeightedMean before = metric.state();
      const std::vector<T> labels = {0, 2, label};
      CHECK_THROWS_WITH(metric.update({.y_true = labels, .y_pred = scores, .shape = shape}),
                        kind + ": y_true[2]", "sample 2", text, "[0, 3)");
      SIMDIFF_CHECK(metric.state().total == before.total && metric.state().count == before.count,
                    kind << ": a rejected update changed the state");
    }
    // A label in the second block of rows: rows before it were already scanned.
    std::vector<T> many_scores(600 * 3, T(0.5));
    std::vector<T> many_labels(600, 1);
    many_labels[599] = 7;
    Metric metric(config);
    CHECK_THROWS_WITH(
        metric.update({.y_true = many_labels, .y_pred = many_scores, .shape = {600, 3}}),
        "y_true[599]", "sample 599", "is 7;");
    SIMDIFF_CHECK(metric.state().count == 0, kind << ": a rejected update changed the state");
  }

  // Sizes.
  const std::vector<T> labels = {0, 1, 2};
  CHECK_THROWS_WITH(Metric(SparseCategoricalAccuracy{})
                        .update({.y_true = one_hot, .y_pred = scores, .shape = shape}),
                    "sparse_categorical_accuracy: y_true has 9 elements", "expected 3");
  CHECK_THROWS_WITH(
      Metric(CategoricalAccuracy{}).update({.y_true = labels, .y_pred = scores, .shape = shape}),
      "categorical_accuracy: y_true has 3 elements", "needs 9");
  CHECK_THROWS_WITH(
      Metric(TopKCategoricalAccuracy{2})
          .update({.y_true = one_hot, .y_pred = std::span(scores).first(8), .shape = shape}),
      "top_k_categorical_accuracy: y_pred has 8 elements", "needs 9");
  // Longer than the shape is another shape, except for the padding of a strided last row.
  const std::vector<T> ten(10, T(0.5));
  CHECK_THROWS_WITH(
      Metric(CategoricalAccuracy{}).update({.y_true = one_hot, .y_pred = ten, .shape = shape}),
      "categorical_accuracy: y_pred has 10 elements", "needs 9");
  const std::vector<T> twelve(12, T(0.5));
  const std::vector<T> thirteen(13, T(0.5));
  Metric strided(BinaryAccuracy{});
  strided.update({.y_true = twelve, .y_pred = twelve, .shape = {3, 3, 4}});
  BOOST_TEST(strided.result() == 0.0);  // 0.5 predicts 0, the target 0.5 never matches
  CHECK_THROWS_WITH(strided.update({.y_true = thirteen, .y_pred = twelve, .shape = {3, 3, 4}}),
                    "binary_accuracy: y_true has 13 elements",
                    "(stride 4) needs between 11 and 12");
  CHECK_THROWS_WITH(
      Metric(BinaryAccuracy{}).update({.y_true = one_hot, .y_pred = scores, .shape = {3, 3, 2}}),
      "binary_accuracy", "stride 2");
  CHECK_THROWS_WITH(
      Metric(BinaryAccuracy{}).update({.y_true = one_hot, .y_pred = scores, .shape = {3, 0}}),
      "binary_accuracy", "cols is 0");
  CHECK_THROWS_WITH(Metric(CategoricalAccuracy{})
                        .update({.y_true = one_hot,
                                 .y_pred = scores,
                                 .shape = shape,
                                 .sample_weight = std::vector<T>{1, 1}}),
                    "sample_weight has 2 elements", "expected 3");

  // Weights: negative, NaN, infinite.
  for (const auto& [bad_weight, text] :
       {std::pair<T, std::string>{-1, "is -1;"}, {nan, "is nan;"}, {inf, "is inf;"}}) {
    const std::vector<T> weights = {1, bad_weight, 1};  // (a lambda cannot capture a binding)
    Metric metric(CategoricalAccuracy{});
    CHECK_THROWS_WITH(
        metric.update(
            {.y_true = one_hot, .y_pred = scores, .shape = shape, .sample_weight = weights}),
        "categorical_accuracy: sample_weight[1]", "sample 1", text, ">= 0");
    SIMDIFF_CHECK(metric.state().count == 0, "a rejected weight changed the state");
  }

  // k: larger than the number of classes is an error; equal to it makes every sample a hit
  // except one whose target score is NaN.
  CHECK_THROWS_WITH(Metric(TopKCategoricalAccuracy{4})
                        .update({.y_true = one_hot, .y_pred = scores, .shape = shape}),
                    "top_k_categorical_accuracy: k 4 is larger than the 3 classes");
  CHECK_THROWS_WITH(Metric(SparseTopKCategoricalAccuracy{})
                        .update({.y_true = labels, .y_pred = scores, .shape = shape}),
                    "sparse_top_k_categorical_accuracy: k 5 is larger than the 3 classes");
  for (const Metric::Config config : {Metric::Config{TopKCategoricalAccuracy{3}},
                                      Metric::Config{SparseTopKCategoricalAccuracy{3}}}) {
    std::vector<T> with_nan = {-inf, inf, nan, T(0.5), nan, T(-1), nan, T(2), T(3)};
    Metric metric(config);
    metric.update(
        {.y_true = is_sparse(config) ? std::span<const T>(labels) : std::span<const T>(one_hot),
         .y_pred = with_nan,
         .shape = shape});
    // One-hot targets: inf (hit), -1 (hit: only 0.5 is greater), NaN (miss). Labels 0, 1, 2:
    // -inf (hit: only inf is greater, NaN does not count), NaN (miss), 3 (hit).
    check_close(metric.state().total, 2, kind_of(config) + " with k == classes");
  }

  // "accuracy": a rejected first update leaves it unresolved, and the message says what the
  // shapes resolved to.
  Metric accuracy = Metric::from_name("accuracy");
  CHECK_THROWS_WITH(
      accuracy.update({.y_true = std::vector<T>{0, 1, 5}, .y_pred = scores, .shape = shape}),
      "accuracy (resolved from the shapes to sparse_categorical_accuracy)", "y_true[2]", "is 5;");
  SIMDIFF_CHECK(!accuracy.resolved() && accuracy.state().count == 0,
                "a rejected first update resolved \"accuracy\" or changed its state");
  accuracy.update({.y_true = one_hot, .y_pred = scores, .shape = shape});
  SIMDIFF_CHECK(
      accuracy.resolved() && std::holds_alternative<CategoricalAccuracy>(accuracy.config()),
      "\"accuracy\" with one-hot targets: " << kind_of(accuracy.config()));
}

/// The sweep: batches of 300 rows (two row blocks, the second partial), every width from 1 to
/// 65 and some long rows, dense and strided, against reference_state.
template <class T>
void sweep_against_reference() {
  constexpr std::size_t kRows = 300;
  const std::vector<std::size_t> widths = {1,  2,  3,  4,  5,  7,  8,  9,   15,  16,
                                           17, 31, 32, 33, 63, 64, 65, 100, 257, 1000};
  enum class Values { ties, normal, special };
  const char* const kValueNames[] = {"scores in {0, 1, 2, 3}", "normal scores",
                                     "normal scores with 5% each of NaN, inf, -inf"};
  for (const std::size_t cols : widths) {
    const std::size_t rows = cols >= 257 ? 70 : kRows;
    for (const Values values : {Values::ties, Values::normal, Values::special}) {
      const std::uint64_t seed =
          simdiff_test::seed_of("metrics sweep", cols, static_cast<std::size_t>(values));
      std::mt19937_64 engine(seed);
      std::uniform_int_distribution<int> small(0, 3);
      std::uniform_real_distribution<double> uniform(0, 1);
      std::normal_distribution<double> normal(0, 1);
      auto draw = [&]() -> T {
        switch (values) {
          case Values::ties:
            return static_cast<T>(small(engine));
          case Values::normal:
            return static_cast<T>(normal(engine));
          case Values::special: {
            const double u = uniform(engine);
            if (u < 0.05) return std::numeric_limits<T>::quiet_NaN();
            if (u < 0.10) return std::numeric_limits<T>::infinity();
            if (u < 0.15) return -std::numeric_limits<T>::infinity();
            return static_cast<T>(normal(engine));
          }
        }
        return 0;
      };
      std::vector<T> scores(rows * cols);
      std::vector<T> dense_true(rows * cols);
      std::vector<T> probabilities(rows * cols);
      std::vector<T> binary_true(rows * cols);
      std::vector<T> labels(rows);
      std::vector<T> weights(rows);
      for (T& x : scores) x = draw();
      for (T& x : dense_true) x = draw();
      for (std::size_t i = 0; i < rows * cols; ++i) {
        // Binary: thresholds hit exactly, soft targets and NaN scores included.
        const double u = uniform(engine);
        probabilities[i] = u < 0.1    ? T(0.5)
                           : u < 0.15 ? std::numeric_limits<T>::quiet_NaN()
                                      : static_cast<T>(uniform(engine));
        binary_true[i] = u > 0.95 ? T(0.5) : static_cast<T>(small(engine) % 2);
      }
      for (T& label : labels) label = static_cast<T>(std::size_t(uniform(engine) * cols) % cols);
      for (T& w : weights) w = uniform(engine) < 0.2 ? T(0) : static_cast<T>(2 * uniform(engine));

      std::vector<Metric::Config> configs = {BinaryAccuracy{}, BinaryAccuracy{0.3},
                                             CategoricalAccuracy{}, SparseCategoricalAccuracy{}};
      for (const std::size_t k :
           {std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{5}, cols}) {
        if (k > cols) continue;
        configs.push_back(TopKCategoricalAccuracy{k});
        configs.push_back(SparseTopKCategoricalAccuracy{k});
      }
      for (const Metric::Config& config : configs) {
        const bool binary = std::holds_alternative<BinaryAccuracy>(config);
        const std::vector<T>& y_true = is_sparse(config) ? labels
                                       : binary          ? binary_true
                                                         : dense_true;
        const std::vector<T>& y_pred = binary ? probabilities : scores;
        for (const bool weighted : {false, true}) {
          const std::vector<T> no_weights;
          const std::vector<T>& w = weighted ? weights : no_weights;
          const simdiff::WeightedMean expected =
              reference_state(config, rows, cols, y_true, y_pred, w);
          for (const Layout layout : kLayouts) {
            const std::vector<double> y_true_d(y_true.begin(), y_true.end());
            const std::vector<double> y_pred_d(y_pred.begin(), y_pred.end());
            const std::vector<double> w_d(w.begin(), w.end());
            const Batch<T> batch(rows, cols, is_sparse(config), y_true_d, y_pred_d, w_d, layout);
            for_each_target([&](const simdiff_test::TargetUnderTest&) {
              Metric metric(config);
              metric.update(batch.input());
              const std::string what =
                  kind_of(config) +
                  (k_of(config) > 0 ? " k " + std::to_string(k_of(config)) : std::string()) + ", " +
                  std::to_string(rows) + " x " + std::to_string(cols) + " (" + layout.name + "), " +
                  kValueNames[static_cast<int>(values)] + (weighted ? ", weighted" : "");
              check_close(metric.state().total, expected.total, what + ": total");
              check_close(metric.state().count, expected.count, what + ": count");
            });
          }
        }
      }
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_FIXTURE_TEST_CASE(golden_cases_on_every_target, CountsChecks) {
  BOOST_TEST_REQUIRE(golden_cases().size() == 49u);
  std::size_t rejected_k = 0;
  for (const GoldenCase& c : golden_cases()) {
    if (k_of(c.config) > c.updates.front().cols) ++rejected_k;
  }
  // top_k k5/b4c3, sparse_top_k k5/b4c3 and sparse_top_k k_at_least_classes.
  BOOST_TEST(rejected_k == 3u);
  for_each_target([](const simdiff_test::TargetUnderTest&) {
    for_each_type([](auto type) {
      using T = decltype(type);
      for (const Layout layout : kLayouts) {
        for (const GoldenCase& c : golden_cases()) {
          BOOST_TEST_CONTEXT("case " << c.name << ", " << layout.name) {
            run_golden_case<T>(c, layout);
          }
        }
      }
    });
  });
}

BOOST_AUTO_TEST_CASE(accuracy_resolution_table) {
  const json& table = golden_metrics().at("accuracy_resolution");
  BOOST_TEST_REQUIRE(table.size() == 10u);
  for (const json& entry : table) {
    const std::string name = entry.at("name");
    const auto y_true_dims = entry.at("y_true_shape").get<std::vector<std::size_t>>();
    const MatrixShape shape = flattened(entry.at("y_pred_shape"));
    const std::size_t y_true_size = product(y_true_dims);
    const Metric::Config expected =
        Metric::from_name(entry.at("resolved_metric").get<std::string>()).config();
    BOOST_TEST_CONTEXT("shapes " << name << " (y_true " << y_true_size << " values, y_pred "
                                 << simdiff_test::describe(shape) << ")") {
      const Metric::Config resolved = Metric::resolve_accuracy(y_true_size, shape);
      BOOST_TEST(kind_of(resolved) == kind_of(expected));
      // The same through an update with zeros (label 0 is valid) under both names.
      for (const char* alias : {"accuracy", "acc"}) {
        Metric metric = Metric::from_name(alias);
        BOOST_TEST(!metric.resolved());
        const std::vector<double> y_true(y_true_size, 0.0);
        const std::vector<double> y_pred(shape.rows * shape.cols, 0.25);
        const bool fits = y_true_size == (is_sparse(expected) ? shape.rows : y_pred.size());
        if (fits) {
          metric.update({.y_true = y_true, .y_pred = y_pred, .shape = shape});
          BOOST_TEST(metric.resolved());
          BOOST_TEST(kind_of(metric.config()) == kind_of(expected));
          BOOST_TEST(metric.name() == alias);
        } else {
          // multilabel_vs_column: binary, but 3 targets per score (Keras broadcasts the score) is
          // not a shape it reads.
          CHECK_THROWS_WITH(
              metric.update({.y_true = y_true, .y_pred = y_pred, .shape = shape}),
              std::string(alias) + " (resolved from the shapes to " + kind_of(expected) + ")",
              "y_true has");
          BOOST_TEST(!metric.resolved());
        }
      }
    }
  }
  // An empty batch does not resolve "accuracy".
  Metric metric = Metric::from_name("accuracy");
  metric.update({.y_true = std::span<const float>{}, .y_pred = {}, .shape = {0, 4}});
  BOOST_TEST(!metric.resolved());
  BOOST_TEST(metric.state().count == 0);
}

BOOST_AUTO_TEST_CASE(keras_docstring_examples) {
  // The literal examples above are those of tests/golden/keras_docstring_examples.json.
  std::ifstream examples_file(SIMDIFF_GOLDEN_DIR "/keras_docstring_examples.json");
  BOOST_TEST_REQUIRE(examples_file.good());
  const json examples = json::parse(examples_file);
  std::vector<json> from_file;
  for (const json& example : examples.at("examples")) {
    if (example.at("kind") == "metric") from_file.push_back(example);
  }
  BOOST_TEST_REQUIRE(from_file.size() == docstring_examples().size());
  for (std::size_t i = 0; i < from_file.size(); ++i) {
    const json& file = from_file[i];
    const DocstringExample& literal = docstring_examples()[i];
    BOOST_TEST_CONTEXT(file.at("owner").get<std::string>() << ": " << literal.code) {
      BOOST_TEST(file.at("code").get<std::string>() == literal.code);
      const Metric::Config config = config_of(file.at("metric"), file.at("config"));
      BOOST_TEST(kind_of(config) == kind_of(literal.config));
      BOOST_TEST(k_of(config) == k_of(literal.config));
      BOOST_TEST(flat_numbers(file.at("y_true")) == literal.y_true);
      BOOST_TEST(flat_numbers(file.at("y_pred")) == literal.y_pred);
      BOOST_TEST(flat_numbers(file.at("sample_weight")) == literal.sample_weight);
      BOOST_TEST(number(file.at("expected").at(0)) == literal.printed);
    }
  }

  for_each_target([](const simdiff_test::TargetUnderTest&) {
    for_each_type([](auto type) {
      using T = decltype(type);
      for (const DocstringExample& example : docstring_examples()) {
        BOOST_TEST_CONTEXT(example.code) {
          const std::size_t rows = example.y_pred.size() / example.classes;
          Metric metric(example.config);
          metric.update(Batch<T>(rows, example.classes, is_sparse(example.config), example.y_true,
                                 example.y_pred, example.sample_weight, kLayouts[0])
                            .input());
          // Printed to the digits shown; float weights such as 0.3f carry their rounding.
          BOOST_TEST(metric.result() == example.printed, boost::test_tools::tolerance(1e-6));
        }
      }
    });
  });
}

BOOST_AUTO_TEST_CASE(names_and_configuration) {
  const std::pair<const char*, std::size_t> names[] = {{"binary_accuracy", 0},
                                                       {"categorical_accuracy", 1},
                                                       {"sparse_categorical_accuracy", 2},
                                                       {"top_k_categorical_accuracy", 3},
                                                       {"sparse_top_k_categorical_accuracy", 4}};
  for (const auto& [name, index] : names) {
    const Metric metric = Metric::from_name(name);
    BOOST_TEST(metric.name() == name);
    BOOST_TEST(metric.resolved());
    BOOST_TEST(metric.config().index() == index);
    BOOST_TEST(Metric(metric.config()).name() == name);
  }
  BOOST_TEST(std::get<BinaryAccuracy>(Metric::from_name("binary_accuracy").config()).threshold ==
             0.5);
  BOOST_TEST(
      std::get<TopKCategoricalAccuracy>(Metric::from_name("top_k_categorical_accuracy").config())
          .k == 5u);
  BOOST_TEST(std::get<SparseTopKCategoricalAccuracy>(
                 Metric::from_name("sparse_top_k_categorical_accuracy").config())
                 .k == 5u);
  BOOST_TEST(Metric::from_name("acc").name() == "acc");
  BOOST_TEST(!Metric::from_name("acc").resolved());
  CHECK_THROWS_WITH(Metric::from_name("Accuracy"), "'Accuracy'", "accuracy, acc, binary_accuracy",
                    "sparse_top_k_categorical_accuracy");

  const Metric fresh(CategoricalAccuracy{});
  BOOST_TEST(fresh.result() == 0.0);

  CHECK_THROWS_WITH(Metric(TopKCategoricalAccuracy{0}), "top_k_categorical_accuracy: k is 0");
  CHECK_THROWS_WITH(Metric(SparseTopKCategoricalAccuracy{0}),
                    "sparse_top_k_categorical_accuracy: k is 0");
  for (const auto& [bad_threshold, text] : {std::pair<double, const char*>{0, "threshold 0 "},
                                            {1, "threshold 1 "},
                                            {-0.5, "threshold -0.5 "},
                                            {1.5, "threshold 1.5 "},
                                            {kNaN, "threshold nan "},
                                            {kInf, "threshold inf "}}) {
    const double threshold = bad_threshold;  // (a lambda cannot capture a binding)
    CHECK_THROWS_WITH(Metric(BinaryAccuracy{threshold}), std::string("binary_accuracy: ") + text,
                      "(0, 1)");
  }
  // Just inside the interval is fine.
  BOOST_CHECK_NO_THROW(Metric(BinaryAccuracy{1e-300}));
  BOOST_CHECK_NO_THROW(Metric(BinaryAccuracy{std::nextafter(1.0, 0.0)}));
}

BOOST_AUTO_TEST_CASE(weighted_mean_state) {
  for_each_target([](const simdiff_test::TargetUnderTest&) {
    for_each_type([](auto type) {
      using T = decltype(type);
      const std::vector<T> y_true = {1, 0, 1, 0};
      const std::vector<T> y_pred = {T(0.9), T(0.1), T(0.2), T(0.8)};  // hit, hit, miss, miss
      Metric metric(BinaryAccuracy{});
      metric.update({.y_true = y_true, .y_pred = y_pred, .shape = {4, 1}});
      BOOST_TEST(metric.state().total == 2.0);
      BOOST_TEST(metric.state().count == 4.0);
      const std::vector<T> zeros(4, T(0));
      metric.update({.y_true = y_true, .y_pred = y_pred, .shape = {4, 1}, .sample_weight = zeros});
      BOOST_TEST(metric.state().count == 4.0);
      const std::vector<T> weights = {3, 1, 2, 0};
      metric.update(
          {.y_true = y_true, .y_pred = y_pred, .shape = {4, 1}, .sample_weight = weights});
      BOOST_TEST(metric.state().total == 6.0);
      BOOST_TEST(metric.state().count == 10.0);
      BOOST_TEST(metric.result() == 0.6);
      // An empty batch changes nothing.
      metric.update(MetricInput<T>{.y_true = {}, .y_pred = {}, .shape = {0, 1}});
      BOOST_TEST(metric.state().count == 10.0);
      // Only zero weights: result 0 (divide_no_nan).
      Metric zero(BinaryAccuracy{});
      zero.update({.y_true = y_true, .y_pred = y_pred, .shape = {4, 1}, .sample_weight = zeros});
      BOOST_TEST(zero.result() == 0.0);
      // Copies carry their state.
      Metric copy = metric;
      copy.reset();
      BOOST_TEST(metric.state().count == 10.0);
      BOOST_TEST(copy.state().count == 0.0);
    });
  });
}

BOOST_FIXTURE_TEST_CASE(bad_input, CountsChecks) {
  for_each_target([](const simdiff_test::TargetUnderTest&) {
    for_each_type([](auto type) { check_bad_input<decltype(type)>(); });
  });
}

BOOST_FIXTURE_TEST_CASE(sweep_against_reference_on_every_target, CountsChecks) {
  for_each_type([](auto type) { sweep_against_reference<decltype(type)>(); });
}

BOOST_AUTO_TEST_CASE(update_does_not_allocate) {
  for_each_target([](const simdiff_test::TargetUnderTest&) {
    for_each_type([](auto type) {
      using T = decltype(type);
      constexpr std::size_t kRows = 1000;
      constexpr std::size_t kCols = 37;
      std::vector<T> scores(kRows * kCols);
      std::vector<T> one_hot(kRows * kCols, T(0));
      std::vector<T> labels(kRows);
      std::vector<T> weights(kRows, T(0.5));
      for (std::size_t r = 0; r < kRows; ++r) {
        for (std::size_t c = 0; c < kCols; ++c) {
          scores[r * kCols + c] = static_cast<T>((r * 7 + c * 13) % 17);
        }
        labels[r] = static_cast<T>(r % kCols);
        one_hot[r * kCols + r % kCols] = 1;
      }
      std::vector<Metric> metrics = {Metric(BinaryAccuracy{}),
                                     Metric(CategoricalAccuracy{}),
                                     Metric(SparseCategoricalAccuracy{}),
                                     Metric(TopKCategoricalAccuracy{3}),
                                     Metric(SparseTopKCategoricalAccuracy{3}),
                                     Metric::from_name("accuracy")};
      auto update_all = [&] {
        for (Metric& metric : metrics) {
          metric.update({.y_true = is_sparse(metric.config()) || !metric.resolved()
                                       ? std::span<const T>(labels)
                                       : std::span<const T>(one_hot),
                         .y_pred = scores,
                         .shape = {kRows, kCols},
                         .sample_weight = weights});
        }
      };
      update_all();  // warm-up
      g_allocations = 0;
      g_count_allocations = true;
      update_all();
      update_all();
      g_count_allocations = false;
      BOOST_TEST(g_allocations == 0u);
      BOOST_TEST(metrics.back().resolved());
    });
  });
}

BOOST_AUTO_TEST_SUITE_END()
