// Every op of <simdiff/ops.h> against central finite differences (simdiff::check_gradients), on
// random inputs of several shapes (1 x 1, and shapes that are not a multiple of any lane count),
// float and double tapes, on every backend and target.
#include <simdiff/gradient_check.h>
#include <simdiff/ops.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

using simdiff::Shape;
using simdiff::Tensor;

// The gradient of a float tape carries float rounding (relative 2^-24 per operation, a few ulp
// in the exp/log kernels, sums of up to ~70 terms); the double tape is compared with finite
// differences whose own error is ~1e-10 at the default step.
template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-4 : 1e-7;
}

enum class Domain { any, positive, away_from_zero, probability };

Tensor<double> random_tensor(Shape shape, Domain domain, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0, 1);
  std::uniform_real_distribution<double> uniform(0, 1);
  Tensor<double> t(shape);
  for (std::size_t i = 0; i < t.size(); ++i) {
    switch (domain) {
      case Domain::any:
        t[i] = normal(engine);
        break;
      case Domain::positive:
        t[i] = 0.2 + 2 * uniform(engine);
        break;
      case Domain::away_from_zero: {
        // |x| in [0.1, 2]: kinks (relu at 0) and poles (1 / x) stay farther than any step.
        const double m = 0.1 + 1.9 * uniform(engine);
        t[i] = uniform(engine) < 0.5 ? -m : m;
        break;
      }
      case Domain::probability:
        t[i] = 0.05 + 0.9 * uniform(engine);
        break;
    }
  }
  return t;
}

const std::vector<Shape>& shapes() {
  static const std::vector<Shape> all = {Shape::matrix(1, 1), Shape::vector(7), Shape::matrix(3, 5),
                                         Shape::matrix(4, 17)};
  return all;
}

std::size_t g_checks = 0;

// Runs check_gradients for f on float and double tapes, on every target.
template <class F>
void check_op(const std::string& name, F f, const std::vector<Tensor<double>>& inputs) {
  for_each_target([&](const TargetUnderTest&) {
    for_each_type([&](auto type) {
      using T = decltype(type);
      const simdiff::GradientCheckResult result = simdiff::check_gradients<T>(f, inputs);
      ++g_checks;
      SIMDIFF_CHECK(result.passed(tolerance<T>()),
                    name << " (" << type_name<T>() << ", input shapes " << inputs.front().shape()
                         << (inputs.size() > 1 ? " ..." : "") << "): largest relative error "
                         << result.worst() << " above " << tolerance<T>() << "\n"
                         << result.report());
    });
  });
}

struct UnaryCase {
  std::string name;
  Domain domain;
  std::function<simdiff::Var<float>(simdiff::Var<float>)> f32;
  std::function<simdiff::Var<double>(simdiff::Var<double>)> f64;
};

#define SIMDIFF_UNARY(name, domain, expression)                     \
  UnaryCase {                                                       \
    name, domain, [](simdiff::Var<float> x) { return expression; }, \
        [](simdiff::Var<double> x) { return expression; }           \
  }

std::vector<UnaryCase> unary_cases() {
  using namespace simdiff;  // NOLINT: the expressions read like the user code they test
  return {
      SIMDIFF_UNARY("neg", Domain::any, -x),
      SIMDIFF_UNARY("add_scalar", Domain::any, x + 1.5),
      SIMDIFF_UNARY("scalar minus", Domain::any, 2.0 - x),
      SIMDIFF_UNARY("mul_scalar", Domain::any, x * -3.0),
      SIMDIFF_UNARY("div by scalar", Domain::any, x / 4.0),
      SIMDIFF_UNARY("rdiv_scalar", Domain::away_from_zero, 2.0 / x),
      SIMDIFF_UNARY("pow_scalar", Domain::positive, pow_scalar(x, decltype(x.item())(2.5))),
      SIMDIFF_UNARY("exp", Domain::any, exp(x)),
      SIMDIFF_UNARY("log", Domain::positive, log(x)),
      SIMDIFF_UNARY("sqrt", Domain::positive, sqrt(x)),
      SIMDIFF_UNARY("square", Domain::any, square(x)),
      SIMDIFF_UNARY("relu", Domain::away_from_zero, relu(x)),
      SIMDIFF_UNARY("leaky_relu", Domain::away_from_zero, leaky_relu(x)),
      SIMDIFF_UNARY("leaky_relu 0.01", Domain::away_from_zero,
                    leaky_relu(x, decltype(x.item())(0.01))),
      SIMDIFF_UNARY("elu", Domain::away_from_zero, elu(x)),
      SIMDIFF_UNARY("elu 0.5", Domain::away_from_zero, elu(x, decltype(x.item())(0.5))),
      SIMDIFF_UNARY("sigmoid", Domain::any, sigmoid(x)),
      SIMDIFF_UNARY("tanh", Domain::any, tanh(x)),
      SIMDIFF_UNARY("softplus", Domain::any, softplus(x)),
      SIMDIFF_UNARY("gelu", Domain::any, gelu(x)),
      SIMDIFF_UNARY("sum", Domain::any, sum(x)),
      SIMDIFF_UNARY("mean", Domain::any, mean(x)),
      SIMDIFF_UNARY("row_sum", Domain::any, row_sum(x)),
      SIMDIFF_UNARY("row_mean", Domain::any, row_mean(x)),
      SIMDIFF_UNARY("col_sum", Domain::any, col_sum(x)),
      SIMDIFF_UNARY("col_mean", Domain::any, col_mean(x)),
      SIMDIFF_UNARY("logsumexp", Domain::any, logsumexp(x)),
      SIMDIFF_UNARY("softmax", Domain::any, softmax(x)),
      SIMDIFF_UNARY("log_softmax", Domain::any, log_softmax(x)),
      SIMDIFF_UNARY("transpose", Domain::any, transpose(x)),
      SIMDIFF_UNARY("reshape", Domain::any, reshape(x, Shape::vector(x.shape().size()))),
      // A value used twice must receive both contributions.
      SIMDIFF_UNARY("x * x", Domain::any, x * x),
      SIMDIFF_UNARY("x + exp(x) * x", Domain::any, x + exp(x) * x),
  };
}
#undef SIMDIFF_UNARY

BOOST_AUTO_TEST_SUITE(autodiff_ops)

BOOST_AUTO_TEST_CASE(unary_ops_match_finite_differences) {
  g_checks = 0;
  std::uint64_t seed = 1;
  for (const UnaryCase& op : unary_cases()) {
    for (const Shape& shape : shapes()) {
      const auto f = [&op](auto& tape, auto x) {
        (void)tape;
        if constexpr (std::is_same_v<decltype(x[0].item()), float>) {
          return op.f32(x[0]);
        } else {
          return op.f64(x[0]);
        }
      };
      check_op(op.name, f, {random_tensor(shape, op.domain, ++seed)});
    }
  }
  BOOST_TEST(g_checks > 0);
}

BOOST_AUTO_TEST_CASE(binary_ops_broadcast_and_match_finite_differences) {
  g_checks = 0;
  struct ShapePair {
    Shape a;
    Shape b;
  };
  const std::vector<ShapePair> pairs = {
      {Shape::matrix(1, 1), Shape::matrix(1, 1)}, {Shape::matrix(3, 5), Shape::matrix(3, 5)},
      {Shape::matrix(4, 17), Shape::vector(17)},  {Shape::matrix(3, 5), Shape::matrix(1, 5)},
      {Shape::matrix(3, 5), Shape::matrix(3, 1)}, {Shape::matrix(3, 5), Shape::scalar()},
      {Shape::vector(5), Shape::matrix(3, 5)},    {Shape::scalar(), Shape::matrix(4, 17)},
      {Shape::matrix(3, 1), Shape::matrix(3, 7)}, {Shape::vector(7), Shape::vector(7)}};
  std::uint64_t seed = 1000;
  for (const ShapePair& pair : pairs) {
    const std::vector<Tensor<double>> any = {random_tensor(pair.a, Domain::any, ++seed),
                                             random_tensor(pair.b, Domain::any, ++seed)};
    const std::vector<Tensor<double>> denominators = {
        any[0], random_tensor(pair.b, Domain::away_from_zero, ++seed)};
    check_op(
        "add", [](auto&, auto x) { return x[0] + x[1]; }, any);
    check_op(
        "sub", [](auto&, auto x) { return x[0] - x[1]; }, any);
    check_op(
        "mul", [](auto&, auto x) { return x[0] * x[1]; }, any);
    check_op(
        "div", [](auto&, auto x) { return x[0] / x[1]; }, denominators);
  }
  BOOST_TEST(g_checks > 0);
}

// Every loss of <simdiff/losses.h> as a tape op, chained after a generic op so that the loss's
// saved gradient meets a cotangent other than 1.
BOOST_AUTO_TEST_CASE(loss_ops_match_finite_differences) {
  g_checks = 0;
  constexpr std::size_t kRows = 5;
  constexpr std::size_t kCols = 3;
  std::mt19937_64 engine(7);
  std::uniform_real_distribution<double> unit(0, 1);
  std::vector<double> labels;
  std::vector<double> one_hot;
  std::vector<double> binary;
  std::vector<double> regression;
  for (std::size_t r = 0; r < kRows; ++r) {
    const auto label = static_cast<std::size_t>(unit(engine) * kCols) % kCols;
    labels.push_back(static_cast<double>(label));
    for (std::size_t c = 0; c < kCols; ++c) {
      one_hot.push_back(c == label ? 1 : 0);
      binary.push_back(unit(engine) < 0.5 ? 0 : 1);
      regression.push_back(unit(engine) * 4 - 2);
    }
  }
  struct LossCase {
    std::string name;
    simdiff::Loss loss;
    const std::vector<double>* y_true;
    Domain domain;
  };
  const std::vector<LossCase> cases = {
      {"binary logits", simdiff::BinaryCrossentropy{.from_logits = true}, &binary, Domain::any},
      {"binary probabilities", simdiff::BinaryCrossentropy{}, &binary, Domain::probability},
      {"categorical logits smoothed",
       simdiff::CategoricalCrossentropy{.from_logits = true, .label_smoothing = 0.1}, &one_hot,
       Domain::any},
      {"categorical probabilities", simdiff::CategoricalCrossentropy{}, &one_hot,
       Domain::probability},
      {"sparse logits", simdiff::SparseCategoricalCrossentropy{.from_logits = true}, &labels,
       Domain::any},
      {"sparse probabilities sum",
       simdiff::SparseCategoricalCrossentropy{.reduction = simdiff::Reduction::sum}, &labels,
       Domain::probability},
      {"binary focal logits", simdiff::BinaryFocalCrossentropy{.from_logits = true}, &binary,
       Domain::any},
      {"categorical focal logits", simdiff::CategoricalFocalCrossentropy{.from_logits = true},
       &one_hot, Domain::any},
      {"mse", simdiff::MeanSquaredError{}, &regression, Domain::any},
      {"mae", simdiff::MeanAbsoluteError{}, &regression, Domain::any},
  };
  std::uint64_t seed = 2000;
  for (const LossCase& c : cases) {
    const std::vector<float> y_true_f(c.y_true->begin(), c.y_true->end());
    const auto f = [&](auto&, auto x) {
      using T = std::remove_cvref_t<decltype(x[0].item())>;
      std::span<const T> y_true;
      if constexpr (std::is_same_v<T, float>) {
        y_true = y_true_f;
      } else {
        y_true = *c.y_true;
      }
      return simdiff::compute_loss(c.loss, x[0], y_true) * T(3);
    };
    check_op(c.name, f, {random_tensor(Shape::matrix(kRows, kCols), c.domain, ++seed)});
  }
  BOOST_TEST(g_checks > 0);
}

// The tanh kernel the op runs on (lib/kernel_table.h states 4 ulp): against the long double
// reference, at every tail length of the vector loops, for tiny, moderate and saturated inputs and
// the special values.
BOOST_AUTO_TEST_CASE(tanh_values_are_accurate) {
  std::size_t checked = 0;
  for_each_target([&](const TargetUnderTest&) {
    for_each_type([&](auto type) {
      using T = decltype(type);
      std::vector<T> values = {T(0),
                               -T(0),
                               T(1e-30),
                               T(-1e-30),
                               T(0.5),
                               T(-3),
                               T(9),
                               T(25),
                               std::numeric_limits<T>::infinity(),
                               -std::numeric_limits<T>::infinity(),
                               std::numeric_limits<T>::quiet_NaN()};
      std::mt19937_64 engine(3);
      std::uniform_real_distribution<double> wide(-20, 20);
      std::normal_distribution<double> small(0, 1e-3);
      for (int i = 0; i < 70; ++i)
        values.push_back(static_cast<T>(i % 2 ? wide(engine) : small(engine)));
      double worst_ulp = 0;
      for (std::size_t n = 1; n <= values.size(); n += n < 20 ? 1 : 13) {
        simdiff::Tape<T> tape;
        const simdiff::Tensor<T> x(Shape::vector(n), std::span<const T>(values.data(), n));
        const auto y = simdiff::tanh(tape.constant(x)).value();
        for (std::size_t i = 0; i < n; ++i) {
          ++checked;
          const long double reference = std::tanh(static_cast<long double>(x[i]));
          if (std::isnan(reference)) {
            SIMDIFF_CHECK(std::isnan(y[i]), "tanh(NaN) = " << y[i]);
            continue;
          }
          const double error =
              std::fabs(static_cast<double>(static_cast<long double>(y[i]) - reference)) /
              ulp_of<T>(static_cast<double>(reference));
          worst_ulp = std::max(worst_ulp, error);
          SIMDIFF_CHECK(error <= 4, type_name<T>()
                                        << " tanh(" << describe_value(x[i])
                                        << ") = " << describe_value(y[i]) << ", " << error
                                        << " ulp from " << static_cast<double>(reference));
        }
      }
      BOOST_TEST_MESSAGE(current_target_name()
                         << " " << type_name<T>() << " tanh worst " << worst_ulp << " ulp");
    });
  });
  BOOST_TEST(checked > 0u);
}

// The sqrt kernel is correctly rounded on every target: equal to std::sqrt, also for 0, -0, inf,
// subnormals, and NaN below 0.
BOOST_AUTO_TEST_CASE(sqrt_values_are_correctly_rounded) {
  std::size_t checked = 0;
  for_each_target([&](const TargetUnderTest&) {
    for_each_type([&](auto type) {
      using T = decltype(type);
      std::vector<T> values = {T(0),
                               -T(0),
                               T(2),
                               std::numeric_limits<T>::denorm_min(),
                               std::numeric_limits<T>::max(),
                               std::numeric_limits<T>::infinity(),
                               T(-1)};
      std::mt19937_64 engine(4);
      std::uniform_real_distribution<double> uniform(0, 100);
      for (int i = 0; i < 40; ++i) values.push_back(static_cast<T>(uniform(engine)));
      simdiff::Tape<T> tape;
      const simdiff::Tensor<T> x(Shape::vector(values.size()), std::span<const T>(values));
      const auto y = simdiff::sqrt(tape.constant(x)).value();
      for (std::size_t i = 0; i < values.size(); ++i) {
        ++checked;
        const T expected = std::sqrt(values[i]);
        SIMDIFF_CHECK(std::isnan(expected) ? std::isnan(y[i]) : y[i] == expected,
                      type_name<T>()
                          << " sqrt(" << describe_value(values[i]) << ") = " << describe_value(y[i])
                          << ", expected " << describe_value(expected));
      }
    });
  });
  BOOST_TEST(checked > 0u);
}

// A composite the checker must also get right: a small softmax regression with a bias row.
BOOST_AUTO_TEST_CASE(composite_function_matches_finite_differences) {
  g_checks = 0;
  const std::vector<Tensor<double>> inputs = {random_tensor(Shape::matrix(4, 6), Domain::any, 5),
                                              random_tensor(Shape::vector(6), Domain::any, 6)};
  check_op(
      "log_softmax(tanh(x) + b) / b^2",
      [](auto&, auto x) {
        return simdiff::log_softmax(simdiff::tanh(x[0]) + x[1]) / (simdiff::square(x[1]) + 1.0);
      },
      inputs);
  BOOST_TEST(g_checks > 0);
}

// The checker itself must be able to fail: a function whose tape gradient is wrong (it treats a
// copy of x as a constant, so the tape sees d(x c)/dx = c where the true derivative is 2x).
BOOST_AUTO_TEST_CASE(gradient_checker_detects_a_wrong_gradient) {
  const auto f = [](auto& tape, auto x) {
    using T = std::remove_cvref_t<decltype(x[0].item())>;
    const simdiff::Tensor<T> copy(x[0].value());
    return x[0] * tape.constant(copy);
  };
  const simdiff::GradientCheckResult result = simdiff::check_gradients<double>(
      f, {random_tensor(Shape::matrix(2, 3), Domain::positive, 9)});
  BOOST_TEST(result.worst() > 0.3, "largest relative error " << result.worst());
  BOOST_TEST(!result.passed(1e-3));
  BOOST_TEST(result.max_relative_error.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
