// The element-wise functions (exp, log, log1p, sigmoid, softplus, log_sigmoid) against the long
// double reference within the ulp bound of include/simdiff/elementwise.h, on random inputs over
// each function's whole domain, the overflow and underflow edges, every short length (tails),
// misaligned and in place, on every backend and target.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "elementwise_functions.h"
#include "error_bounds.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

struct Inputs {
  std::string name;
  std::vector<double> values;  // converted to T by the test
};

template <class T>
std::vector<T> to(const std::vector<double>& values) {
  return std::vector<T>(values.begin(), values.end());
}

template <class T>
std::vector<double> from(const std::vector<T>& values) {
  return std::vector<double>(values.begin(), values.end());
}

constexpr std::size_t kCount = 2048;

// Every T number in [center - count/2 ulp, center + count/2 ulp].
template <class T>
std::vector<double> consecutive_around(T center, std::size_t count) {
  std::vector<double> out;
  T v = center;
  for (std::size_t i = 0; i < count / 2; ++i)
    v = std::nextafter(v, -std::numeric_limits<T>::infinity());
  for (std::size_t i = 0; i < count;
       ++i, v = std::nextafter(v, std::numeric_limits<T>::infinity())) {
    out.push_back(v);
  }
  return out;
}

std::vector<double> negated(std::vector<double> values) {
  for (double& v : values) v = -v;
  return values;
}

std::vector<double> with_random_signs(std::vector<double> values, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  for (double& v : values) v = (engine() & 1) ? -v : v;
  return values;
}

// Inputs of each function, in the order of elementwise_functions().
template <class T>
std::vector<std::vector<Inputs>> inputs_of_each_function() {
  using L = std::numeric_limits<T>;
  const T ln_max = std::log(L::max());
  const T ln_min_normal = std::log(L::min());
  const T ln_denorm_min = std::log(L::denorm_min());
  auto uniform = [](double low, double high, const char* seed) {
    return random_uniform<double>(low, high, kCount, seed_of(seed, 0));
  };
  auto normal = [](double scale, const char* seed) {
    return random_values<double>({"", Distribution::normal, 0, scale}, kCount, seed_of(seed, 1));
  };
  const auto all_positive = from(random_positive_over_all_exponents<T>(kCount, seed_of("all", 2)));
  const double wide = -static_cast<double>(ln_denorm_min) + 10;  // sigmoid & co. reach 0 there
  return {
      // exp
      {{"uniform over the whole range", uniform(ln_denorm_min - 5, ln_max + 5, "exp")},
       {"normal(0, 1e-3)", normal(1e-3, "exp small")},
       {"normal(0, 1)", normal(1, "exp 1")},
       {"normal(0, 1e3)", normal(1e3, "exp big")},
       {"every number around ln(max)", consecutive_around<T>(ln_max, kCount)},
       {"the subnormal results", uniform(ln_denorm_min - 1, ln_min_normal + 1, "exp subnormal")},
       {"every number around ln(smallest subnormal / 2)",
        consecutive_around<T>(static_cast<T>(ln_denorm_min - std::log(2.0)), kCount)}},
      // log
      {{"positive over all exponents", all_positive},
       {"uniform(0.5, 2)", uniform(0.5, 2, "log near 1")},
       {"uniform(1 - 1e-3, 1 + 1e-3)", uniform(1 - 1e-3, 1 + 1e-3, "log very near 1")},
       {"negative over all exponents", negated(all_positive)}},
      // log1p
      {{"uniform(-1, 1)", uniform(-1, 1, "log1p")},
       {"uniform(-1e-3, 1e-3)", uniform(-1e-3, 1e-3, "log1p small")},
       {"uniform(-1, -0.999)", uniform(-1, -0.999, "log1p near -1")},
       {"positive over all exponents", all_positive},
       {"uniform(-2, -1)", uniform(-2, -1, "log1p below -1")}},
      // sigmoid
      {{"uniform(-wide, wide)", uniform(-wide, wide, "sigmoid")},
       {"normal(0, 1)", normal(1, "sigmoid 1")},
       {"both signs over all exponents", with_random_signs(all_positive, 3)}},
      // softplus
      {{"uniform(-wide, wide)", uniform(-wide, wide, "softplus")},
       {"normal(0, 1)", normal(1, "softplus 1")},
       {"both signs over all exponents", with_random_signs(all_positive, 4)}},
      // log_sigmoid
      {{"uniform(-wide, wide)", uniform(-wide, wide, "log_sigmoid")},
       {"normal(0, 1)", normal(1, "log_sigmoid 1")},
       {"both signs over all exponents", with_random_signs(all_positive, 5)}},
  };
}

// Runs f on x (copied into a guarded buffer misaligned by `misalign`, in place or not) and
// compares every result.
template <class T>
void run_and_check(const ElementwiseFunction<T>& f, const std::vector<T>& x,
                   const std::vector<Expected>& expected, std::size_t misalign, bool in_place,
                   Comparison& comparison) {
  const simdiff::MatrixShape shape{1, x.size(), 0};
  GuardedMatrix<T> input(shape, misalign, x);
  GuardedMatrix<T> separate(shape, misalign);
  GuardedMatrix<T>& output = in_place ? input : separate;
  f.kernel(input.cspan(), output.span());
  for (std::size_t i = 0; i < x.size(); ++i) {
    comparison.check(expected[i], output.at(0, i), [&] {
      return "element " + std::to_string(i) + " of " + std::to_string(x.size()) +
             (in_place ? " in place" : "") + ", x = " + describe_value(x[i]);
    });
  }
  check_sentinels(output, f.name + " y");
}

template <class T>
std::vector<Expected> expected_results(const ElementwiseFunction<T>& f, const std::vector<T>& x) {
  std::vector<Expected> expected;
  for (const T v : x) {
    const Real reference = f.reference(v);
    expected.push_back(expect_elementwise<T>(reference));
  }
  return expected;
}

BOOST_FIXTURE_TEST_SUITE(elementwise, ChecksResults)

BOOST_AUTO_TEST_CASE(random_inputs_within_ulp_bound) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const auto functions = elementwise_functions<T>();
    const auto inputs = inputs_of_each_function<T>();
    for (std::size_t k = 0; k < functions.size(); ++k) {
      const ElementwiseFunction<T>& f = functions[k];
      for (const Inputs& set : inputs[k]) {
        const std::vector<T> x = to<T>(set.values);
        const std::vector<Expected> expected = expected_results(f, x);
        BOOST_TEST_CONTEXT(f.name << " of " << type_name<T>() << ", " << set.name) {
          for_each_target([&](const TargetUnderTest&) {
            Comparison comparison(f.name + " " + type_name<T>(), "ulp",
                                  static_cast<double>(Bounds<T>::elementwise_ulp));
            run_and_check(f, x, expected, 1, false, comparison);
          });
        }
      }
    }
  });
}

// Every short length (the tails of every target), aligned and misaligned, in place and not.
BOOST_AUTO_TEST_CASE(every_length_aligned_misaligned_and_in_place) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const auto functions = elementwise_functions<T>();
    const auto inputs = inputs_of_each_function<T>();
    for (std::size_t k = 0; k < functions.size(); ++k) {
      const ElementwiseFunction<T>& f = functions[k];
      const std::vector<T> all = to<T>(inputs[k][0].values);
      for (const std::size_t n : short_lengths()) {
        // A different window of the inputs for every length.
        const std::size_t start = (n * 37) % (all.size() - n);
        const std::vector<T> x(all.begin() + start, all.begin() + start + n);
        const std::vector<Expected> expected = expected_results(f, x);
        BOOST_TEST_CONTEXT(f.name << " of " << type_name<T>() << ", length " << n) {
          for_each_target([&](const TargetUnderTest&) {
            Comparison comparison(f.name + " " + type_name<T>(), "ulp",
                                  static_cast<double>(Bounds<T>::elementwise_ulp));
            for (const std::size_t misalign : {0, 1}) {
              for (const bool in_place : {false, true}) {
                run_and_check(f, x, expected, misalign, in_place, comparison);
              }
            }
          });
        }
      }
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
