// The losses against the Keras 3 golden data (tests/golden/losses.json, written by an independent
// PyTorch float64 implementation of the Keras formulas; see tests/golden/README.md), on every
// backend and target, in float and double, dense and strided: per-sample values, every reduction
// and every gradient. And the Keras docstring examples (keras_docstring_examples.json), compared
// to the digits Keras printed.
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

using nlohmann::json;

// ---------------------------------------------------------------------------------------------
// Reading the golden files

std::string golden_path(const char* file) { return std::string(SIMDIFF_GOLDEN_DIR) + "/" + file; }

json read_json(const char* file) {
  std::ifstream in(golden_path(file));
  if (!in) throw std::runtime_error("cannot open " + golden_path(file));
  return json::parse(in);
}

// A JSON number, or one of the strings "inf", "-inf", "nan".
double number(const json& value) {
  if (value.is_string()) {
    const std::string text = value.get<std::string>();
    if (text == "inf") return std::numeric_limits<double>::infinity();
    if (text == "-inf") return -std::numeric_limits<double>::infinity();
    if (text == "nan") return std::numeric_limits<double>::quiet_NaN();
    throw std::runtime_error("not a number: " + text);
  }
  return value.get<double>();
}

std::vector<double> numbers(const json& values) {
  std::vector<double> out;
  for (const json& v : values) out.push_back(number(v));
  return out;
}

const std::vector<std::pair<std::string, simdiff::Reduction>>& golden_reductions() {
  static const std::vector<std::pair<std::string, simdiff::Reduction>> reductions = {
      {"sum", simdiff::Reduction::sum},
      {"sum_over_batch_size", simdiff::Reduction::sum_over_batch_size},
      {"mean_with_sample_weight", simdiff::Reduction::mean_with_sample_weight}};
  return reductions;
}

// Expected results in one precision.
struct GoldenValues {
  std::vector<double> per_sample;
  std::map<std::string, double> reduced;
  std::map<std::string, std::vector<double>> grad;
};

GoldenValues values_of(const json& block) {
  GoldenValues values;
  values.per_sample = numbers(block.at("per_sample"));
  for (const auto& [name, reduction] : golden_reductions()) {
    values.reduced[name] = number(block.at("reduced").at(name));
    values.grad[name] = numbers(block.at("grad").at(name));
  }
  return values;
}

// The loss options of a golden `config` with the given reduction.
simdiff::Loss::Config make_config(const std::string& loss, const json& config,
                                  simdiff::Reduction reduction) {
  const auto get = [&](const char* key) { return config.at(key); };
  if (loss == "binary_crossentropy") {
    return simdiff::BinaryCrossentropy{.from_logits = get("from_logits").get<bool>(),
                                       .label_smoothing = number(get("label_smoothing")),
                                       .reduction = reduction};
  }
  if (loss == "categorical_crossentropy") {
    return simdiff::CategoricalCrossentropy{.from_logits = get("from_logits").get<bool>(),
                                            .label_smoothing = number(get("label_smoothing")),
                                            .reduction = reduction};
  }
  if (loss == "sparse_categorical_crossentropy") {
    std::optional<std::int64_t> ignore_class;
    if (!get("ignore_class").is_null()) ignore_class = get("ignore_class").get<std::int64_t>();
    return simdiff::SparseCategoricalCrossentropy{.from_logits = get("from_logits").get<bool>(),
                                                  .ignore_class = ignore_class,
                                                  .label_smoothing = number(get("label_smoothing")),
                                                  .reduction = reduction};
  }
  if (loss == "binary_focal_crossentropy") {
    return simdiff::BinaryFocalCrossentropy{
        .apply_class_balancing = get("apply_class_balancing").get<bool>(),
        .alpha = number(get("alpha")),
        .gamma = number(get("gamma")),
        .from_logits = get("from_logits").get<bool>(),
        .label_smoothing = number(get("label_smoothing")),
        .reduction = reduction};
  }
  if (loss == "categorical_focal_crossentropy") {
    return simdiff::CategoricalFocalCrossentropy{.alpha = number(get("alpha")),
                                                 .gamma = number(get("gamma")),
                                                 .from_logits = get("from_logits").get<bool>(),
                                                 .label_smoothing = number(get("label_smoothing")),
                                                 .reduction = reduction};
  }
  if (loss == "mean_squared_error") return simdiff::MeanSquaredError{.reduction = reduction};
  if (loss == "mean_absolute_error") return simdiff::MeanAbsoluteError{.reduction = reduction};
  throw std::runtime_error("unknown loss in the golden data: " + loss);
}

simdiff::Reduction reduction_named(const std::string& name) {
  if (name == "none") return simdiff::Reduction::none;
  for (const auto& [golden_name, reduction] : golden_reductions()) {
    if (golden_name == name) return reduction;
  }
  throw std::runtime_error("unknown reduction " + name);
}

struct GoldenCase {
  std::string name;
  std::string loss;
  json config;
  std::size_t batch = 0;
  std::size_t classes = 0;
  bool sparse = false;
  std::vector<double> y_true;         // batch x classes, or batch labels
  std::vector<double> y_pred;         // batch x classes
  std::vector<double> sample_weight;  // empty when absent
  std::optional<simdiff::ClassWeight> class_weight;
  std::vector<double> effective_sample_weight;
  GoldenValues f64;
  std::optional<GoldenValues> f32;  // where float32 arithmetic differs materially
};

const std::vector<GoldenCase>& golden_cases() {
  static const std::vector<GoldenCase> cases = [] {
    const json file = read_json("losses.json");
    std::vector<GoldenCase> all;
    for (const json& c : file.at("cases")) {
      GoldenCase g;
      g.name = c.at("name").get<std::string>();
      g.loss = c.at("loss").get<std::string>();
      g.config = c.at("config");
      g.batch = c.at("batch").get<std::size_t>();
      g.classes = c.at("classes").get<std::size_t>();
      g.sparse = g.loss == "sparse_categorical_crossentropy";
      g.y_true = numbers(c.at("y_true"));
      g.y_pred = numbers(c.at("y_pred"));
      if (!c.at("sample_weight").is_null()) g.sample_weight = numbers(c.at("sample_weight"));
      if (!c.at("class_weight").is_null()) {
        simdiff::ClassWeight weights;
        for (const auto& [label, weight] : c.at("class_weight").items()) {
          weights[std::stoll(label)] = number(weight);
        }
        g.class_weight = weights;
        g.effective_sample_weight = numbers(c.at("effective_sample_weight"));
      }
      g.f64 = values_of(c);
      if (c.contains("float32")) g.f32 = values_of(c.at("float32"));
      all.push_back(std::move(g));
    }
    return all;
  }();
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Tolerances

// The largest finite magnitude of `values` (at least `floor`): the scale of absolute errors.
double magnitude(const std::vector<double>& values, double floor) {
  double largest = floor;
  for (const double v : values) {
    if (std::isfinite(v)) largest = std::max(largest, std::fabs(v));
  }
  return largest;
}

// Double: the golden values are float64 evaluations of the same formulas, so only rounding
// separates them (cancellation in softmax - target is absolute, relative to the largest value).
// Float: against the float32 evaluation where the golden data gives one, else against float64,
// with float's rounding.
template <class T>
Expected expect_golden(double expected, double scale) {
  constexpr bool is_double = std::is_same_v<T, double>;
  const double relative = is_double ? 1e-12 : 2e-5;
  const double absolute = is_double ? 1e-14 : 2e-6;
  return expect<T>(Real(expected), relative * std::fabs(expected) + absolute * scale);
}

// ---------------------------------------------------------------------------------------------
// Running one case

struct Layouts {
  const char* name;
  std::size_t extra_stride;
  std::size_t misalign;
};
constexpr Layouts kLayouts[] = {{"dense", 0, 0}, {"stride cols + 3, misaligned by 1", 3, 1}};

template <class T>
std::vector<T> as(const std::vector<double>& values) {
  return std::vector<T>(values.begin(), values.end());
}

template <class T>
void run_golden_case(const GoldenCase& g, const Layouts& layout) {
  const simdiff::MatrixShape shape{g.batch, g.classes,
                                   layout.extra_stride == 0 ? 0 : g.classes + layout.extra_stride};
  const std::vector<T> y_pred_values = as<T>(g.y_pred);
  const GuardedMatrix<T> y_pred(shape, layout.misalign, std::span<const T>(y_pred_values));
  const std::vector<T> labels = as<T>(g.y_true);
  std::optional<GuardedMatrix<T>> dense_y_true;
  if (!g.sparse) dense_y_true.emplace(shape, layout.misalign, std::span<const T>(labels));
  const std::vector<T> sample_weight = as<T>(g.sample_weight);
  simdiff::LossInput<T> input{
      .y_true = g.sparse ? std::span<const T>(labels) : dense_y_true->cspan(),
      .y_pred = y_pred.cspan(),
      .shape = shape,
      .sample_weight = sample_weight,
      .class_weight = g.class_weight ? &*g.class_weight : nullptr};

  const bool is_float = std::is_same_v<T, float>;
  const GoldenValues& golden = is_float && g.f32 ? *g.f32 : g.f64;
  const std::string type = type_name<T>();
  const auto where = [&](const std::string& what) {
    return g.name + " (" + layout.name + "): " + what;
  };

  // Per-sample values (Reduction::none), and the functional form when nothing is weighted.
  {
    const simdiff::Loss loss(make_config(g.loss, g.config, simdiff::Reduction::none));
    std::vector<T> per_sample(g.batch);
    loss.per_sample(input, per_sample);
    const double scale = magnitude(golden.per_sample, 1e-300);
    Comparison comparison("loss per_sample " + type);
    for (std::size_t r = 0; r < g.batch; ++r) {
      comparison.check(expect_golden<T>(golden.per_sample[r], scale), per_sample[r],
                       [&] { return where("sample " + std::to_string(r)); });
    }
    // Reduction::none reduces to the sum.
    comparison.check(expect_golden<T>(golden.reduced.at("sum"), scale * double(g.batch)),
                     loss(input), [&] { return where("operator() with Reduction::none"); });
    comparison.report();
  }

  Comparison values("loss reduced value " + type);
  Comparison gradients("loss gradient " + type);
  for (const auto& named_reduction : golden_reductions()) {
    const std::string& reduction_name = named_reduction.first;
    const simdiff::Loss loss(make_config(g.loss, g.config, named_reduction.second));
    const double expected = golden.reduced.at(reduction_name);
    const double value_scale = magnitude(golden.per_sample, std::fabs(expected)) *
                               double(std::max<std::size_t>(g.batch, 1));
    values.check(expect_golden<T>(expected, value_scale), loss(input),
                 [&] { return where(reduction_name + " operator()"); });

    GuardedMatrix<T> grad(shape, layout.misalign);
    const double value = loss.value_and_grad(input, grad.span());
    values.check(expect_golden<T>(expected, value_scale), value,
                 [&] { return where(reduction_name + " value_and_grad"); });
    const std::vector<double>& expected_grad = golden.grad.at(reduction_name);
    const double grad_scale = magnitude(expected_grad, 1e-300);
    for (std::size_t r = 0; r < g.batch; ++r) {
      for (std::size_t c = 0; c < g.classes; ++c) {
        gradients.check(expect_golden<T>(expected_grad[r * g.classes + c], grad_scale),
                        grad.at(r, c), [&] {
                          return where(reduction_name + " gradient at (" + std::to_string(r) +
                                       ", " + std::to_string(c) + ")");
                        });
      }
    }
    check_sentinels(grad, where(reduction_name + " gradient buffer"));
  }
  values.report();
  gradients.report();
}

BOOST_AUTO_TEST_SUITE(loss_golden)

BOOST_AUTO_TEST_CASE(golden_file_has_every_case) {
  const auto& cases = golden_cases();
  BOOST_TEST(cases.size() == 240u);
  std::map<std::string, int> counts;
  for (const GoldenCase& g : cases) ++counts[g.loss];
  BOOST_TEST(counts.size() == 7u);
}

BOOST_FIXTURE_TEST_CASE(every_case_on_every_target, ChecksResults) {
  for_each_target([&](const TargetUnderTest&) {
    for_each_type([&](auto zero) {
      using T = decltype(zero);
      for (const GoldenCase& g : golden_cases()) {
        for (const Layouts& layout : kLayouts) run_golden_case<T>(g, layout);
      }
    });
  });
}

BOOST_FIXTURE_TEST_CASE(class_weight_to_sample_weight_matches_keras, ChecksResults) {
  Comparison comparison("class_weight_to_sample_weight");
  std::size_t cases = 0;
  for (const GoldenCase& g : golden_cases()) {
    if (!g.class_weight) continue;
    ++cases;
    const simdiff::MatrixShape shape{g.batch, g.classes};
    const auto weights =
        simdiff::class_weight_to_sample_weight(g.y_true, shape, g.sparse, *g.class_weight);
    const std::vector<float> y_true_float = as<float>(g.y_true);
    const auto weights_from_float =
        simdiff::class_weight_to_sample_weight(y_true_float, shape, g.sparse, *g.class_weight);
    for (std::size_t r = 0; r < g.batch; ++r) {
      comparison.check_equal(g.effective_sample_weight[r], weights[r],
                             [&] { return g.name + " sample " + std::to_string(r); });
      comparison.check_equal(g.effective_sample_weight[r], weights_from_float[r],
                             [&] { return g.name + " (float) sample " + std::to_string(r); });
    }
  }
  comparison.report();
  BOOST_TEST(cases == 8u);
}

// ---------------------------------------------------------------------------------------------
// Keras docstring examples

// The numbers of a (nested) JSON array, row-major.
std::vector<double> flat_numbers(const json& values) {
  std::vector<double> out;
  if (!values.is_array()) return {number(values)};
  for (const json& v : values) {
    const std::vector<double> inner = flat_numbers(v);
    out.insert(out.end(), inner.begin(), inner.end());
  }
  return out;
}

// Decimal places shown by a printed number ("0.8654" -> 4, "3.2058331e-05" -> 12).
int printed_decimals(const std::string& token) {
  const auto e = token.find_first_of("eE");
  const std::string mantissa = token.substr(0, e);
  const int exponent = e == std::string::npos ? 0 : std::stoi(token.substr(e + 1));
  const auto dot = mantissa.find('.');
  const int digits = dot == std::string::npos ? 0 : static_cast<int>(mantissa.size() - dot - 1);
  return digits - exponent;
}

// The numbers of a printed result: "0.8654", "array([0.235, 1.496], dtype=float32)".
std::vector<std::string> printed_tokens(std::string printed) {
  for (char& c : printed) {
    if (c == '[' || c == ']' || c == '(' || c == ')' || c == ',') c = ' ';
  }
  std::istringstream in(printed);
  std::vector<std::string> tokens;
  for (std::string token; in >> token;) {
    if (token != "array" && token != "dtype=float32") tokens.push_back(token);
  }
  return tokens;
}

// Whether `value` prints as `token`: rounded to its decimals, or truncated toward zero (five
// Keras docstrings truncate, see tests/golden/README.md). `slack` widens the comparison by a
// relative amount (the printed float32 digits seen from a double result).
bool shown_as(double value, const std::string& token, const std::string& rule, double slack) {
  const double unit = std::pow(10.0, -printed_decimals(token));
  const double printed = std::stod(token);
  const double widened = slack * std::fabs(value);
  if (rule == "rounded") return std::fabs(value - printed) <= 0.5 * unit * (1 + 1e-9) + widened;
  // Truncated: printed <= |value| < printed + unit (toward zero).
  const double magnitude_value = std::fabs(value);
  const double magnitude_printed = std::fabs(printed);
  return magnitude_value >= magnitude_printed - widened - 1e-9 * unit &&
         magnitude_value < magnitude_printed + unit + widened;
}

template <class T>
void run_docstring_example(const json& example) {
  const std::string loss_name = example.at("loss").get<std::string>();
  const json& y_pred_json = example.at("y_pred");
  // A rank-1 y_pred is one sample (Keras reduces over its only axis).
  const bool matrix = y_pred_json.at(0).is_array();
  const std::size_t rows = matrix ? y_pred_json.size() : 1;
  const std::size_t cols = matrix ? y_pred_json.at(0).size() : y_pred_json.size();
  const std::vector<double> y_pred_values = flat_numbers(y_pred_json);
  const std::vector<double> y_true_values = flat_numbers(example.at("y_true"));
  const std::vector<T> y_pred(y_pred_values.begin(), y_pred_values.end());
  const std::vector<T> y_true(y_true_values.begin(), y_true_values.end());
  std::vector<T> sample_weight;
  if (!example.at("sample_weight").is_null()) {
    for (const double w : flat_numbers(example.at("sample_weight"))) {
      sample_weight.push_back(static_cast<T>(w));
    }
  }
  const std::string reduction_name = example.at("reduction").get<std::string>();
  const simdiff::Loss loss(
      make_config(loss_name, example.at("config"), reduction_named(reduction_name)));
  const simdiff::LossInput<T> input{
      .y_true = y_true, .y_pred = y_pred, .shape = {rows, cols}, .sample_weight = sample_weight};
  std::vector<double> results;
  if (reduction_name == "none") {
    std::vector<T> per_sample(rows);
    loss.per_sample(input, per_sample);
    results.assign(per_sample.begin(), per_sample.end());
  } else {
    results.push_back(loss(input));
  }
  const std::vector<std::string> tokens = printed_tokens(example.at("printed").get<std::string>());
  const std::string rule = example.at("printed_digits").get<std::string>();
  // Keras printed float32 results (some with 8 or 9 digits), which differ from the exact value by
  // float32 rounding; so do float results here.
  constexpr double kSlack = 1e-6;
  BOOST_TEST_CONTEXT(example.at("code").get<std::string>()
                     << " printed " << example.at("printed").get<std::string>() << " (" << rule
                     << ") in " << type_name<T>()) {
    BOOST_TEST_REQUIRE(results.size() == tokens.size());
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      BOOST_TEST(
          shown_as(results[i], tokens[i], rule, kSlack),
          "computed " << std::setprecision(17) << results[i] << " does not print as " << tokens[i]);
      // And the independent implementation's values, to double precision.
      const char* reference = std::is_same_v<T, float> ? "computed_float32" : "computed_float64";
      const double computed = number(example.at(reference).at(i));
      BOOST_TEST(std::fabs(results[i] - computed) <=
                     (std::is_same_v<T, float> ? 2e-6 : 1e-13) * std::fabs(computed),
                 "computed " << std::setprecision(17) << results[i] << ", the reference gives "
                             << computed);
    }
  }
}

BOOST_AUTO_TEST_CASE(keras_docstring_examples) {
  const json file = read_json("keras_docstring_examples.json");
  std::size_t examples = 0;
  for_each_target([&](const TargetUnderTest&) {
    for (const json& example : file.at("examples")) {
      if (example.at("kind").get<std::string>() != "loss") continue;
      ++examples;
      run_docstring_example<float>(example);
      run_docstring_example<double>(example);
    }
  });
  BOOST_TEST(examples == 32u * targets_under_test().size());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
