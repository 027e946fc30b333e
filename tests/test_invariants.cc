// Relations the row kernels must satisfy among themselves, on every backend and target: softmax
// rows sum to 1, log_softmax == x - logsumexp, shifting a row by a constant changes neither
// softmax nor log_softmax and shifts logsumexp by it, and ties in argmax go to the first index.
#include <cmath>
#include <string>
#include <vector>

#include "error_bounds.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

template <class T>
std::vector<T> run_softmax(const std::vector<T>& x, simdiff::MatrixShape shape) {
  std::vector<T> y(x.size());
  simdiff::softmax(std::span<const T>(x), shape, std::span<T>(y));
  return y;
}

template <class T>
std::vector<T> run_log_softmax(const std::vector<T>& x, simdiff::MatrixShape shape) {
  std::vector<T> y(x.size());
  simdiff::log_softmax(std::span<const T>(x), shape, std::span<T>(y));
  return y;
}

template <class T>
std::vector<T> run_logsumexp(const std::vector<T>& x, simdiff::MatrixShape shape) {
  std::vector<T> out(shape.rows);
  simdiff::logsumexp(std::span<const T>(x), shape, std::span<T>(out));
  return out;
}

std::vector<std::size_t> invariant_lengths() {
  std::vector<std::size_t> lengths = short_lengths();
  lengths.push_back(1000);
  return lengths;
}

BOOST_FIXTURE_TEST_SUITE(invariants, ChecksResults)

// |sum_c y_c - 1| is at most the sum of the elements' bounds (computed from the reference).
BOOST_AUTO_TEST_CASE(softmax_rows_sum_to_one) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const RowDatasets<T> d;
    // Scale 1, the whole exp range, and a spread where x - max overflows.
    for (const Dataset& dataset : {d.normal_1, d.exp_range, d.huge_spread}) {
      for (const std::size_t cols : invariant_lengths()) {
        const simdiff::MatrixShape shape{2, cols, 0};
        const auto x = random_rows<T>(dataset, shape.rows, cols, seed_of("sum", cols));
        std::vector<Expected> sums;
        for (std::size_t r = 0; r < shape.rows; ++r) {
          const std::span<const T> row(x.data() + r * cols, cols);
          const RowReference ref = reference_row(row);
          Real allowed = 0;
          for (std::size_t c = 0; c < cols; ++c) {
            allowed += softmax_tolerance<T>(ref.softmax[c], Real(row[c]) - ref.max);
          }
          sums.push_back(expect<T>(1, allowed));
        }
        BOOST_TEST_CONTEXT(dataset.name << ", shape " << describe(shape)) {
          for_each_target([&](const TargetUnderTest&) {
            const std::vector<T> y = run_softmax(x, shape);
            Comparison comparison(std::string("softmax row sum ") + type_name<T>());
            for (std::size_t r = 0; r < shape.rows; ++r) {
              Real sum = 0;
              for (std::size_t c = 0; c < cols; ++c) sum += y[r * cols + c];
              comparison.check(sums[r], static_cast<double>(sum), [&] {
                return "row " + std::to_string(r) + ": " +
                       describe_row(std::span<const T>(x).subspan(r * cols, cols));
              });
            }
          });
        }
      }
    }
  });
}

// log_softmax(x)_c and x_c - logsumexp(x), both from the kernels, agree within the sum of their
// bounds.
BOOST_AUTO_TEST_CASE(log_softmax_is_x_minus_logsumexp) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const RowDatasets<T> d;
    // Scale 1e-3 (logsumexp near log(cols)), the whole exp range, inputs in [90, 100], logsumexp
    // near 0 (absolute errors only), and a spread where x - max overflows.
    for (const Dataset& dataset :
         {d.normal_1e_3, d.exp_range, d.near_100, d.zero_logsumexp, d.huge_spread}) {
      for (const std::size_t cols : invariant_lengths()) {
        const simdiff::MatrixShape shape{2, cols, 0};
        const auto x = random_rows<T>(dataset, shape.rows, cols, seed_of("lse", cols));
        BOOST_TEST_CONTEXT(dataset.name << ", shape " << describe(shape)) {
          for_each_target([&](const TargetUnderTest&) {
            const std::vector<T> log_p = run_log_softmax(x, shape);
            const std::vector<T> lse = run_logsumexp(x, shape);
            Comparison comparison(std::string("log_softmax vs x - logsumexp ") + type_name<T>());
            for (std::size_t r = 0; r < shape.rows; ++r) {
              for (std::size_t c = 0; c < cols; ++c) {
                const Real difference = Real(x[r * cols + c]) - Real(lse[r]);
                const Real allowed =
                    log_softmax_tolerance<T>(difference) + logsumexp_tolerance<T>(lse[r]);
                comparison.check(expect<T>(difference, allowed), log_p[r * cols + c], [&] {
                  return "row " + std::to_string(r) + ", column " + std::to_string(c) +
                         ", logsumexp " + describe_value(lse[r]) + ", x " +
                         describe_row(std::span<const T>(x).subspan(r * cols, cols), c);
                });
              }
            }
          });
        }
      }
    }
  });
}

// Rows of multiples of 1/16 in [-6, 6] shifted by integers stay exact in float, so x + shift is
// the same row shifted exactly: its softmax and log_softmax must match those of x, and its
// logsumexp that of x plus the shift. The shift 90 puts float's exp(x) past overflow.
BOOST_AUTO_TEST_CASE(shifting_a_row_changes_only_logsumexp) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for (const std::size_t cols : invariant_lengths()) {
      const simdiff::MatrixShape shape{1, cols, 0};
      std::mt19937_64 engine(seed_of("shift", cols));
      std::uniform_int_distribution<int> sixteenths(-96, 96);
      std::vector<T> x(cols);
      for (T& v : x) v = static_cast<T>(sixteenths(engine)) / 16;
      const RowReference ref = reference_row(std::span<const T>(x));
      for (const int shift : {-1000, -30, 64, 90, 1000}) {
        std::vector<T> shifted(cols);
        for (std::size_t c = 0; c < cols; ++c) shifted[c] = x[c] + static_cast<T>(shift);
        BOOST_TEST_CONTEXT("shape " << describe(shape) << ", shift " << shift) {
          for_each_target([&](const TargetUnderTest&) {
            const std::vector<T> p = run_softmax(x, shape);
            const std::vector<T> p_shifted = run_softmax(shifted, shape);
            const std::vector<T> log_p = run_log_softmax(x, shape);
            const std::vector<T> log_p_shifted = run_log_softmax(shifted, shape);
            const T lse = run_logsumexp(x, shape)[0];
            const T lse_shifted = run_logsumexp(shifted, shape)[0];
            const std::string type = type_name<T>();
            Comparison softmax("softmax shift invariance " + type);
            Comparison log_softmax("log_softmax shift invariance " + type);
            for (std::size_t c = 0; c < cols; ++c) {
              auto where = [&] {
                return "column " + std::to_string(c) + " of " +
                       describe_row(std::span<const T>(x), c);
              };
              // Each result is within its bound of the reference, so they are within twice of
              // each other.
              const Real shift_from_max = Real(x[c]) - ref.max;
              softmax.check(
                  expect<T>(p[c], 2 * softmax_tolerance<T>(ref.softmax[c], shift_from_max)),
                  p_shifted[c], where);
              log_softmax.check(
                  expect<T>(log_p[c], 2 * log_softmax_tolerance<T>(ref.log_softmax[c])),
                  log_p_shifted[c], where);
            }
            Comparison logsumexp("logsumexp shift " + type);
            logsumexp.check(
                expect<T>(Real(lse) + shift, logsumexp_tolerance<T>(ref.logsumexp) +
                                                 logsumexp_tolerance<T>(ref.logsumexp + shift)),
                lse_shifted, [&] { return describe_row(std::span<const T>(x)); });
          });
        }
      }
    }
  });
}

// Rows drawn from {0, 1, 2, 3} have many tied maxima: argmax must be the first of them, and
// row_max the maximum, as a scalar scan finds.
BOOST_AUTO_TEST_CASE(argmax_picks_the_first_of_tied_maxima) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for (const std::size_t cols : invariant_lengths()) {
      const simdiff::MatrixShape shape{4, cols, 0};
      std::mt19937_64 engine(seed_of("ties", cols));
      std::uniform_int_distribution<int> small(0, 3);
      std::vector<T> x(shape.rows * cols);
      for (T& v : x) v = static_cast<T>(small(engine));
      std::vector<std::size_t> first_max(shape.rows, 0);
      std::vector<T> max(shape.rows);
      for (std::size_t r = 0; r < shape.rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) {
          if (x[r * cols + c] > x[r * cols + first_max[r]]) first_max[r] = c;
        }
        max[r] = x[r * cols + first_max[r]];
      }
      BOOST_TEST_CONTEXT("shape " << describe(shape)) {
        for_each_target([&](const TargetUnderTest&) {
          std::vector<std::size_t> argmax(shape.rows);
          std::vector<T> row_max(shape.rows);
          simdiff::row_argmax(std::span<const T>(x), shape, std::span<std::size_t>(argmax));
          simdiff::row_max(std::span<const T>(x), shape, std::span<T>(row_max));
          Comparison comparison(std::string("row_argmax ties ") + type_name<T>());
          for (std::size_t r = 0; r < shape.rows; ++r) {
            auto where = [&] {
              return "row " + std::to_string(r) + ": " +
                     describe_row(std::span<const T>(x).subspan(r * cols, cols));
            };
            comparison.check_equal(first_max[r], argmax[r], where);
            comparison.check_equal(max[r], row_max[r], where);
          }
        });
      }
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
