// The vector-Jacobian products (softmax_backward, log_softmax_backward, logsumexp_backward):
// against their closed forms in long double on random rows of every length, with dx aliasing
// each input it may alias; and against central finite differences of the forward kernels.
#include <functional>
#include <string>
#include <vector>

#include "error_bounds.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

// One batch of backward inputs: the forward input x, the forward outputs computed by the
// reference and rounded to T (so the kernels see consistent probabilities, log-probabilities and
// lse), random cotangents; and the expected gradients, computed once for every target.
template <class T>
struct BackwardCase {
  simdiff::MatrixShape shape;
  std::size_t misalign = 0;
  std::vector<T> x, probabilities, log_probabilities, dy;          // rows x cols
  std::vector<T> lse, dlse;                                        // rows
  std::vector<Expected> softmax_dx, log_softmax_dx, logsumexp_dx;  // rows x cols

  std::span<const T> row(const std::vector<T>& matrix, std::size_t r) const {
    return std::span<const T>(matrix).subspan(r * shape.cols, shape.cols);
  }
};

template <class T>
BackwardCase<T> make_backward_case(const Dataset& dataset, simdiff::MatrixShape shape,
                                   std::size_t misalign, std::uint64_t seed) {
  BackwardCase<T> c;
  c.shape = shape;
  c.misalign = misalign;
  c.x = random_rows<T>(dataset, shape.rows, shape.cols, seed);
  const Dataset cotangent{"normal(0, 1)", Distribution::normal, 0, 1};
  c.dy = random_values<T>(cotangent, shape.rows * shape.cols, seed + 1);
  c.dlse = random_values<T>(cotangent, shape.rows, seed + 2);
  for (std::size_t r = 0; r < shape.rows; ++r) {
    const RowReference ref = reference_row(c.row(c.x, r));
    c.lse.push_back(round_to<T>(ref.logsumexp));
    for (std::size_t col = 0; col < shape.cols; ++col) {
      c.probabilities.push_back(round_to<T>(ref.softmax[col]));
      c.log_probabilities.push_back(round_to<T>(ref.log_softmax[col]));
    }
  }
  for (std::size_t r = 0; r < shape.rows; ++r) {
    const auto y = c.row(c.probabilities, r);
    const auto log_y = c.row(c.log_probabilities, r);
    const auto dy = c.row(c.dy, r);
    const auto x = c.row(c.x, r);
    const std::vector<Real> softmax_dx = reference_softmax_backward(y, dy);
    const std::vector<Real> log_softmax_dx = reference_log_softmax_backward(log_y, dy);
    const std::vector<Real> logsumexp_dx = reference_logsumexp_backward(x, c.lse[r], c.dlse[r]);
    Real sum_abs_y_dy = 0;
    Real sum_abs_dy = 0;
    for (std::size_t i = 0; i < shape.cols; ++i) {
      sum_abs_y_dy += std::fabs(Real(y[i]) * dy[i]);
      sum_abs_dy += std::fabs(Real(dy[i]));
    }
    for (std::size_t i = 0; i < shape.cols; ++i) {
      c.softmax_dx.push_back(
          expect<T>(softmax_dx[i], softmax_backward_tolerance<T>(y[i], dy[i], sum_abs_y_dy)));
      c.log_softmax_dx.push_back(expect<T>(
          log_softmax_dx[i], log_softmax_backward_tolerance<T>(log_y[i], dy[i], sum_abs_dy)));
      c.logsumexp_dx.push_back(
          expect<T>(logsumexp_dx[i],
                    logsumexp_backward_tolerance<T>(logsumexp_dx[i], Real(x[i]) - Real(c.lse[r]))));
    }
  }
  return c;
}

enum class Alias { none, dx_is_dy, dx_is_first_input };

const char* alias_name(Alias alias) {
  switch (alias) {
    case Alias::none:
      return "separate dx";
    case Alias::dx_is_dy:
      return "dx aliasing dy";
    case Alias::dx_is_first_input:
      return "dx aliasing the first input";
  }
  return "";
}

// Runs softmax_backward or log_softmax_backward(first, dy) -> dx with the given aliasing and
// returns the buffer holding dx.
template <class T, class Kernel>
GuardedMatrix<T> run_backward(const BackwardCase<T>& c, const std::vector<T>& first, Alias alias,
                              const Kernel& kernel) {
  GuardedMatrix<T> a(c.shape, c.misalign, first);
  GuardedMatrix<T> dy(c.shape, c.misalign, c.dy);
  if (alias == Alias::dx_is_dy) {
    kernel(a.cspan(), dy.cspan(), dy.span());
    return dy;
  }
  if (alias == Alias::dx_is_first_input) {
    kernel(a.cspan(), dy.cspan(), a.span());
    return a;
  }
  GuardedMatrix<T> dx(c.shape, c.misalign);
  const GuardedMatrix<T> a_before(a), dy_before(dy);
  kernel(a.cspan(), dy.cspan(), dx.span());
  SIMDIFF_CHECK(a.bitwise_equal(a_before), "an input was modified");
  SIMDIFF_CHECK(dy.bitwise_equal(dy_before), "dy was modified");
  return dx;
}

template <class T>
void check_gradient(const BackwardCase<T>& c, const GuardedMatrix<T>& dx,
                    const std::vector<Expected>& expected, const std::string& what,
                    const std::vector<T>& first_input, const char* first_name) {
  Comparison comparison(what);
  for (std::size_t r = 0; r < c.shape.rows; ++r) {
    for (std::size_t col = 0; col < c.shape.cols; ++col) {
      comparison.check(expected[r * c.shape.cols + col], dx.at(r, col), [&] {
        return "row " + std::to_string(r) + ", column " + std::to_string(col) + ", " + first_name +
               " " + describe_row(c.row(first_input, r), col) + ", dy " +
               describe_row(c.row(c.dy, r), col) + ", lse " + describe_value(c.lse[r]) + ", dlse " +
               describe_value(c.dlse[r]);
      });
    }
  }
  comparison.report();
  check_sentinels(dx, what + " dx");
}

template <class T>
void check_backward_kernels(const BackwardCase<T>& c) {
  const std::string type = type_name<T>();
  const simdiff::MatrixShape shape = c.shape;
  auto softmax_backward = [&](auto y, auto dy, auto dx) {
    simdiff::softmax_backward(y, dy, shape, dx);
  };
  auto log_softmax_backward = [&](auto y, auto dy, auto dx) {
    simdiff::log_softmax_backward(y, dy, shape, dx);
  };
  // Separate dx first; a result with dx aliasing an input must be identical, or else within the
  // bounds on its own.
  const auto softmax_dx = run_backward(c, c.probabilities, Alias::none, softmax_backward);
  check_gradient(c, softmax_dx, c.softmax_dx, "softmax_backward " + type, c.probabilities, "y");
  const auto log_softmax_dx =
      run_backward(c, c.log_probabilities, Alias::none, log_softmax_backward);
  check_gradient(c, log_softmax_dx, c.log_softmax_dx, "log_softmax_backward " + type,
                 c.log_probabilities, "y");
  for (const Alias alias : {Alias::dx_is_dy, Alias::dx_is_first_input}) {
    BOOST_TEST_CONTEXT(alias_name(alias)) {
      const auto aliased = run_backward(c, c.probabilities, alias, softmax_backward);
      if (!aliased.bitwise_equal(softmax_dx)) {
        check_gradient(c, aliased, c.softmax_dx, "softmax_backward " + type, c.probabilities, "y");
      }
      const auto log_aliased = run_backward(c, c.log_probabilities, alias, log_softmax_backward);
      if (!log_aliased.bitwise_equal(log_softmax_dx)) {
        check_gradient(c, log_aliased, c.log_softmax_dx, "log_softmax_backward " + type,
                       c.log_probabilities, "y");
      }
    }
  }
  // logsumexp_backward(x, lse, dlse) -> dx; dx may alias x.
  const GuardedMatrix<T> lse({1, shape.rows, 0}, 0, c.lse);
  const GuardedMatrix<T> dlse({1, shape.rows, 0}, 0, c.dlse);
  const GuardedMatrix<T> x(shape, c.misalign, c.x);
  GuardedMatrix<T> dx(shape, c.misalign);
  simdiff::logsumexp_backward(x.cspan(), lse.cspan(), dlse.cspan(), shape, dx.span());
  check_gradient(c, dx, c.logsumexp_dx, "logsumexp_backward " + type, c.x, "x");
  BOOST_TEST_CONTEXT("dx aliasing x") {
    GuardedMatrix<T> in_place(x);
    simdiff::logsumexp_backward(in_place.cspan(), lse.cspan(), dlse.cspan(), shape,
                                in_place.span());
    if (!in_place.bitwise_equal(dx)) {
      check_gradient(c, in_place, c.logsumexp_dx, "logsumexp_backward " + type, c.x, "x");
    }
  }
  check_sentinels(lse, "logsumexp_backward lse");
  check_sentinels(dlse, "logsumexp_backward dlse");
}

template <class T>
void sweep(const std::vector<Dataset>& datasets, const std::vector<std::size_t>& lengths,
           const std::vector<Layout>& layouts) {
  for (const Dataset& dataset : datasets) {
    for (const std::size_t cols : lengths) {
      for (std::size_t l = 0; l < layouts.size(); ++l) {
        const Layout& layout = layouts[l];
        const simdiff::MatrixShape shape = shape_of(layout, cols);
        BOOST_TEST_CONTEXT(dataset.name << ", shape " << describe(shape) << ", " << layout.name) {
          const auto c = make_backward_case<T>(dataset, shape, layout.misalign,
                                               seed_of(dataset.name, cols, l + 100));
          for_each_target([&](const TargetUnderTest&) { check_backward_kernels(c); });
        }
      }
    }
  }
}

// Datasets for the backward kernels: scale 1 (every probability matters), the whole exp range
// (probabilities over many binades) and scale 1e3 (almost one-hot).
template <class T>
std::vector<Dataset> backward_datasets() {
  const RowDatasets<T> datasets;
  return {datasets.normal_1, datasets.exp_range, datasets.normal_1e3};
}

// f(x) = sum_r <dy_r, F(x_r)> for a forward kernel F, and its gradient from the backward kernel;
// the gradient must match central differences of f.
struct FiniteDifferenceCase {
  std::string kernel;
  // Computes f at x (the forward kernel on the selected target, summed against the cotangent).
  std::function<double(const std::vector<double>&)> objective;
  // The gradient of f at x from the backward kernel.
  std::function<std::vector<double>(const std::vector<double>&)> gradient;
};

std::vector<FiniteDifferenceCase> finite_difference_cases(simdiff::MatrixShape shape,
                                                          const std::vector<double>& dy,
                                                          const std::vector<double>& dlse) {
  const std::size_t n = shape.rows * shape.cols;
  auto dot = [](const std::vector<double>& a, const std::vector<double>& b) {
    Real sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) sum += Real(a[i]) * b[i];
    return static_cast<double>(sum);
  };
  std::vector<FiniteDifferenceCase> cases;
  cases.push_back({"softmax_backward",
                   [=](const std::vector<double>& x) {
                     std::vector<double> y(n);
                     simdiff::softmax(std::span<const double>(x), shape, std::span<double>(y));
                     return dot(dy, y);
                   },
                   [=](const std::vector<double>& x) {
                     std::vector<double> y(n), dx(n);
                     simdiff::softmax(std::span<const double>(x), shape, std::span<double>(y));
                     simdiff::softmax_backward(std::span<const double>(y),
                                               std::span<const double>(dy), shape,
                                               std::span<double>(dx));
                     return dx;
                   }});
  cases.push_back({"log_softmax_backward",
                   [=](const std::vector<double>& x) {
                     std::vector<double> y(n);
                     simdiff::log_softmax(std::span<const double>(x), shape, std::span<double>(y));
                     return dot(dy, y);
                   },
                   [=](const std::vector<double>& x) {
                     std::vector<double> y(n), dx(n);
                     simdiff::log_softmax(std::span<const double>(x), shape, std::span<double>(y));
                     simdiff::log_softmax_backward(std::span<const double>(y),
                                                   std::span<const double>(dy), shape,
                                                   std::span<double>(dx));
                     return dx;
                   }});
  cases.push_back({"logsumexp_backward",
                   [=](const std::vector<double>& x) {
                     std::vector<double> lse(shape.rows);
                     simdiff::logsumexp(std::span<const double>(x), shape, std::span<double>(lse));
                     return dot(dlse, lse);
                   },
                   [=](const std::vector<double>& x) {
                     std::vector<double> lse(shape.rows), dx(n);
                     simdiff::logsumexp(std::span<const double>(x), shape, std::span<double>(lse));
                     simdiff::logsumexp_backward(
                         std::span<const double>(x), std::span<const double>(lse),
                         std::span<const double>(dlse), shape, std::span<double>(dx));
                     return dx;
                   }});
  return cases;
}

BOOST_FIXTURE_TEST_SUITE(backward, ChecksResults)

BOOST_AUTO_TEST_CASE(short_rows_match_closed_form) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    sweep<T>(backward_datasets<T>(), short_lengths(), sweep_layouts());
  });
}

BOOST_AUTO_TEST_CASE(long_rows_match_closed_form) {
  const std::vector<Layout> layouts = {{"2 rows, stride cols + 5, misaligned by 1", 2, 5, 1}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    const auto datasets = backward_datasets<T>();
    sweep<T>(datasets, long_lengths(), layouts);
  });
}

// Central differences (f(x + h e_i) - f(x - h e_i)) / 2h have error O(h^2) + O(eps / h); with
// h = 1e-5 on inputs of scale 1 both are near 1e-11 (measured: at most 1.2e-10), so 1e-9 relative
// to the gradient scale leaves margin while catching any wrong term of a gradient.
BOOST_AUTO_TEST_CASE(gradients_match_finite_differences) {
  constexpr double kStep = 1e-5;
  constexpr double kTolerance = 1e-9;
  for (const std::size_t cols : {1, 2, 3, 5, 8, 13, 17, 33}) {
    const simdiff::MatrixShape shape{2, cols, 0};
    const std::size_t n = shape.rows * cols;
    const Dataset normal{"normal(0, 1)", Distribution::normal, 0, 1};
    const auto x = random_values<double>(normal, n, seed_of("finite differences x", cols));
    const auto dy = random_values<double>(normal, n, seed_of("finite differences dy", cols));
    const auto dlse = random_values<double>(normal, shape.rows, seed_of("dlse", cols));
    for (const FiniteDifferenceCase& fd : finite_difference_cases(shape, dy, dlse)) {
      BOOST_TEST_CONTEXT(fd.kernel << ", shape " << describe(shape)) {
        for_each_target([&](const TargetUnderTest&) {
          const std::vector<double> gradient = fd.gradient(x);
          double scale = 0;
          for (const double g : gradient) scale = std::max(scale, std::fabs(g));
          Comparison comparison(fd.kernel + " double vs finite differences");
          for (std::size_t i = 0; i < n; ++i) {
            std::vector<double> forward = x, backward = x;
            forward[i] += kStep;
            backward[i] -= kStep;
            // The steps actually taken (x + h is rounded).
            const Real step = Real(forward[i]) - Real(backward[i]);
            const Real difference = (Real(fd.objective(forward)) - fd.objective(backward)) / step;
            comparison.check(expect<double>(difference, kTolerance * (1 + scale)), gradient[i],
                             [&] {
                               return "element " + std::to_string(i) + " of x " +
                                      describe_row(std::span<const double>(x), i);
                             });
          }
          comparison.report();
        });
      }
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
