// A gradient checker for user functions: compares the tape's gradient against central finite
// differences computed in double precision (Stan's expect_ad habit).
//
//   auto f = [](auto& tape, auto x) {   // generic: called with Tape<float>& and Tape<double>&
//     return simdiff::sum(simdiff::tanh(simdiff::matmul(x[0], x[1])));
//   };
//   simdiff::GradientCheckResult r = simdiff::check_gradients<float>(f, {a, b});
//   if (!r.passed(1e-3)) std::cerr << r.report();
//
// `f(tape, vars)` receives one Var per input (recorded with Tape::input) and returns a Var. A
// one-element result is differentiated with seed 1; a larger one is projected on a fixed random
// cotangent w (the checked function is then sum(w * f)). The analytic gradient is computed on a
// Tape<T>, the finite differences on Tape<double> from the same inputs rounded to T, so a float
// tape is checked against an accurate reference. Every evaluation runs on the selected backend.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include "simdiff/tape.h"
#include "simdiff/tensor.h"

namespace simdiff {

struct GradientCheckOptions {
  /// Finite-difference step relative to the input: h = step * max(1, |x|).
  double step = 1e-5;
  /// Gradient entries much smaller than the input's largest are compared in absolute terms: the
  /// error of an entry is (|analytic - numeric| - noise) / max(|analytic|, |numeric|, floor), with
  /// floor = absolute_floor * max(1, largest |numeric| entry of that input), and noise the
  /// rounding error of the two evaluations of f divided by the step (8 eps max(|f+|, |f-|) / 2h),
  /// which no difference quotient can resolve.
  double absolute_floor = 1e-3;
  /// Seed of the random cotangent used for a result with more than one element.
  std::uint64_t seed = 42;
};

struct GradientCheckResult {
  /// Per input: the largest relative error over its elements, and where it occurred.
  std::vector<double> max_relative_error;
  std::vector<std::size_t> worst_element;
  std::vector<double> analytic_at_worst;
  std::vector<double> numeric_at_worst;

  [[nodiscard]] double worst() const {
    double w = 0;
    for (double e : max_relative_error) w = std::isnan(e) || std::isnan(w) ? NAN : std::max(w, e);
    return w;
  }
  /// Whether every input's largest error is at most `tolerance` (false if any is NaN).
  [[nodiscard]] bool passed(double tolerance) const { return worst() <= tolerance; }
  /// One line per input: "input 0: max relative error 3.1e-09 at element 4 (analytic 0.25,
  /// numeric 0.25)".
  [[nodiscard]] std::string report() const {
    std::ostringstream out;
    out.precision(9);
    for (std::size_t i = 0; i < max_relative_error.size(); ++i) {
      out << "input " << i << ": max relative error " << max_relative_error[i] << " at element "
          << worst_element[i] << " (analytic " << analytic_at_worst[i] << ", numeric "
          << numeric_at_worst[i] << ")\n";
    }
    return out.str();
  }
};

/// Checks the gradient of `f` with respect to every input (see the top of this file). `f` must be
/// invocable as `f(Tape<U>&, std::span<const Var<U>>)` returning Var<U>, for U = T and U = double.
/// Throws std::invalid_argument if `inputs` is empty or `f` returns a Var of another tape.
template <class T = double, class F>
GradientCheckResult check_gradients(F&& f, const std::vector<Tensor<double>>& inputs,
                                    GradientCheckOptions options = {}) {
  if (inputs.empty()) {
    throw std::invalid_argument("check_gradients: inputs is empty; expected at least one tensor");
  }
  // The inputs both evaluations see: rounded to T.
  std::vector<Tensor<double>> x;
  x.reserve(inputs.size());
  for (const Tensor<double>& input : inputs) {
    Tensor<double> rounded = input;
    for (std::size_t j = 0; j < rounded.size(); ++j) {
      rounded[j] = static_cast<double>(static_cast<T>(rounded[j]));
    }
    x.push_back(std::move(rounded));
  }

  // Analytic gradient on Tape<T>.
  Tape<T> tape;
  std::vector<Var<T>> vars;
  std::vector<Tensor<T>> x_t;
  for (const Tensor<double>& input : x) {
    Tensor<T> converted(input.shape());
    for (std::size_t j = 0; j < input.size(); ++j) converted[j] = static_cast<T>(input[j]);
    x_t.push_back(std::move(converted));
  }
  for (const Tensor<T>& input : x_t) vars.push_back(tape.input(input.view()));
  const Var<T> y = f(tape, std::span<const Var<T>>(vars));
  if (y.tape() != &tape) {
    throw std::invalid_argument("check_gradients: f returned a Var of another tape");
  }
  Tensor<double> cotangent(y.shape(), 1.0);
  if (y.shape().size() == 1) {
    tape.backward(y);
  } else {
    std::mt19937_64 engine(options.seed);
    std::uniform_real_distribution<double> uniform(0.5, 1.5);
    std::bernoulli_distribution negative(0.5);
    for (std::size_t j = 0; j < cotangent.size(); ++j) {
      cotangent[j] = (negative(engine) ? -1 : 1) * uniform(engine);
    }
    Tensor<T> seed(y.shape());
    for (std::size_t j = 0; j < seed.size(); ++j) seed[j] = static_cast<T>(cotangent[j]);
    tape.backward(y, seed.view());
  }

  // Numeric gradient of sum(w * f) on Tape<double>.
  Tape<double> reference;
  auto objective = [&](const std::vector<Tensor<double>>& at) {
    reference.reset();
    std::vector<Var<double>> reference_vars;
    reference_vars.reserve(at.size());
    for (const Tensor<double>& input : at) reference_vars.push_back(reference.constant(input));
    const Var<double> out = f(reference, std::span<const Var<double>>(reference_vars));
    const TensorView<const double> value = out.value();
    double total = 0;
    for (std::size_t j = 0; j < value.size(); ++j) total += cotangent[j] * value[j];
    return total;
  };

  GradientCheckResult result;
  std::vector<Tensor<double>> probe = x;
  std::vector<double> numeric;
  std::vector<double> noise;
  for (std::size_t i = 0; i < x.size(); ++i) {
    numeric.assign(x[i].size(), 0);
    noise.assign(x[i].size(), 0);
    double largest = 0;
    for (std::size_t j = 0; j < x[i].size(); ++j) {
      const double h = options.step * std::max(1.0, std::fabs(x[i][j]));
      probe[i][j] = x[i][j] + h;
      const double up = objective(probe);
      probe[i][j] = x[i][j] - h;
      const double down = objective(probe);
      probe[i][j] = x[i][j];
      numeric[j] = (up - down) / (2 * h);
      // The rounding of the two evaluations, divided by 2h: what the difference cannot resolve.
      noise[j] = 8 * std::numeric_limits<double>::epsilon() *
                 std::max(std::fabs(up), std::fabs(down)) / (2 * h);
      largest = std::max(largest, std::fabs(numeric[j]));
    }
    const bool has_grad = vars[i].requires_grad();
    const double floor = options.absolute_floor * std::max(1.0, largest);
    double worst = 0;
    std::size_t worst_j = 0;
    double worst_analytic = 0;
    double worst_numeric = 0;
    for (std::size_t j = 0; j < x[i].size(); ++j) {
      const double analytic = has_grad ? static_cast<double>(vars[i].grad()[j]) : 0.0;
      const double scale = std::max({std::fabs(analytic), std::fabs(numeric[j]), floor});
      const double error = std::max(0.0, std::fabs(analytic - numeric[j]) - noise[j]) / scale;
      // A NaN error sticks: it is the worst possible outcome.
      if (!std::isnan(worst) && (j == 0 || !(error <= worst))) {
        worst = error;
        worst_j = j;
        worst_analytic = analytic;
        worst_numeric = numeric[j];
      }
    }
    result.max_relative_error.push_back(worst);
    result.worst_element.push_back(worst_j);
    result.analytic_at_worst.push_back(worst_analytic);
    result.numeric_at_worst.push_back(worst_numeric);
  }
  return result;
}

}  // namespace simdiff
