// NaN, infinities, huge and tiny numbers, on every backend and target. Row kernels follow
// PyTorch: the table below was produced with torch 1.13 (logsumexp, softmax, log_softmax, max,
// argmax on float32 rows). A SIMD maximum can drop a NaN (x86's max returns its second operand),
// so NaN and infinities are also placed at every position of rows around the lane counts.
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "elementwise_functions.h"
#include "error_bounds.h"
#include "forward_case.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

constexpr double kInfD = std::numeric_limits<double>::infinity();
constexpr double kNaND = std::numeric_limits<double>::quiet_NaN();

// One row and what PyTorch returns for it; "max" stands for the type's largest finite number.
struct PyTorchRow {
  std::string name;
  std::vector<double> x;
  double logsumexp;
  std::vector<double> softmax;
  std::vector<double> log_softmax;
  double max;
  std::size_t argmax;
};

template <class T>
std::vector<PyTorchRow> pytorch_rows() {
  const double big = static_cast<double>(std::numeric_limits<T>::max());
  const double ln2 = std::log(2.0);
  return {
      {"[inf, 1, 2]", {kInfD, 1, 2}, kInfD, {kNaND, kNaND, kNaND}, {kNaND, kNaND, kNaND}, kInfD, 0},
      {"[-inf, -inf]", {-kInfD, -kInfD}, -kInfD, {kNaND, kNaND}, {kNaND, kNaND}, -kInfD, 0},
      {"[-inf, 1]", {-kInfD, 1}, 1, {0, 1}, {-kInfD, 0}, 1, 1},
      {"[nan, 1]", {kNaND, 1}, kNaND, {kNaND, kNaND}, {kNaND, kNaND}, kNaND, 0},
      {"[inf, nan]", {kInfD, kNaND}, kNaND, {kNaND, kNaND}, {kNaND, kNaND}, kNaND, 1},
      {"[1, nan, inf]",
       {1, kNaND, kInfD},
       kNaND,
       {kNaND, kNaND, kNaND},
       {kNaND, kNaND, kNaND},
       kNaND,
       1},
      {"[-inf, nan]", {-kInfD, kNaND}, kNaND, {kNaND, kNaND}, {kNaND, kNaND}, kNaND, 1},
      {"[nan, -inf, nan]",
       {kNaND, -kInfD, kNaND},
       kNaND,
       {kNaND, kNaND, kNaND},
       {kNaND, kNaND, kNaND},
       kNaND,
       0},
      {"[inf, inf]", {kInfD, kInfD}, kInfD, {kNaND, kNaND}, {kNaND, kNaND}, kInfD, 0},
      {"[-inf, inf]", {-kInfD, kInfD}, kInfD, {kNaND, kNaND}, {kNaND, kNaND}, kInfD, 1},
      {"[-inf]", {-kInfD}, -kInfD, {kNaND}, {kNaND}, -kInfD, 0},
      {"[nan]", {kNaND}, kNaND, {kNaND}, {kNaND}, kNaND, 0},
      {"[inf]", {kInfD}, kInfD, {kNaND}, {kNaND}, kInfD, 0},
      {"[0]", {0}, 0, {1}, {0}, 0, 0},
      {"[1, 1]", {1, 1}, 1 + ln2, {0.5, 0.5}, {-ln2, -ln2}, 1, 0},
      // x - max overflows to -inf; the results stay exact.
      {"[0.9 max, -0.9 max]",
       {0.9 * big, -0.9 * big},
       0.9 * big,
       {1, 0},
       {0, -kInfD},
       0.9 * big,
       0},
      // max + ln 2 rounds to max: no overflow.
      {"[max, max]", {big, big}, big, {0.5, 0.5}, {-ln2, -ln2}, big, 0},
      {"[-max, -max]", {-big, -big}, -big, {0.5, 0.5}, {-ln2, -ln2}, -big, 0},
  };
}

template <class T>
Expected exact_or_close(double value, double tolerance) {
  return expect<T>(static_cast<T>(value), tolerance);
}

BOOST_FIXTURE_TEST_SUITE(special_values, ChecksResults)

BOOST_AUTO_TEST_CASE(rows_follow_pytorch) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for (const PyTorchRow& row : pytorch_rows<T>()) {
      const std::size_t cols = row.x.size();
      const simdiff::MatrixShape shape{1, cols, 0};
      std::vector<T> x;
      for (const double v : row.x) x.push_back(static_cast<T>(v));
      BOOST_TEST_CONTEXT("row " << row.name) {
        for_each_target([&](const TargetUnderTest&) {
          std::vector<T> lse(1), max(1), softmax(cols), log_softmax(cols);
          std::vector<std::size_t> argmax(1);
          simdiff::logsumexp(std::span<const T>(x), shape, std::span<T>(lse));
          simdiff::row_max(std::span<const T>(x), shape, std::span<T>(max));
          simdiff::row_argmax(std::span<const T>(x), shape, std::span<std::size_t>(argmax));
          simdiff::softmax(std::span<const T>(x), shape, std::span<T>(softmax));
          simdiff::log_softmax(std::span<const T>(x), shape, std::span<T>(log_softmax));
          Comparison comparison(std::string("PyTorch rows ") + type_name<T>());
          auto where = [&](const char* what) { return [what] { return std::string(what); }; };
          comparison.check(
              exact_or_close<T>(row.logsumexp, logsumexp_tolerance<T>(std::fabs(row.logsumexp))),
              lse[0], where("logsumexp"));
          comparison.check(exact_or_close<T>(row.max, 0), max[0], where("row_max"));
          comparison.check_equal(row.argmax, argmax[0], where("row_argmax"));
          for (std::size_t c = 0; c < cols; ++c) {
            const std::string column = "column " + std::to_string(c);
            comparison.check(
                exact_or_close<T>(row.softmax[c], softmax_tolerance<T>(row.softmax[c], 0)),
                softmax[c], [&] { return "softmax " + column; });
            comparison.check(
                exact_or_close<T>(row.log_softmax[c], log_softmax_tolerance<T>(row.log_softmax[c])),
                log_softmax[c], [&] { return "log_softmax " + column; });
          }
        });
      }
    }
  });
}

// Row lengths around the lane counts of every target (2 to 16 lanes, 4 accumulators: 64 floats
// per unrolled step on AVX-512) and the edge of the 16-vector summation blocks (256 floats).
std::vector<std::size_t> lengths_around_lanes() {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 1; n <= 17; ++n) lengths.push_back(n);
  for (const std::size_t n : {31, 32, 33, 63, 64, 65, 129, 256, 257}) lengths.push_back(n);
  return lengths;
}

// Every position in rows up to 65 (every lane of every accumulator); in longer rows the first and
// last 5 and both sides of every multiple of 32.
std::vector<std::size_t> positions(std::size_t cols) {
  std::vector<std::size_t> out;
  for (std::size_t p = 0; p < cols; ++p) {
    if (cols <= 65 || p < 5 || p + 5 >= cols || p % 32 == 31 || p % 32 == 0) out.push_back(p);
  }
  return out;
}

enum class Background { random, all_minus_inf, all_plus_inf };

const char* background_name(Background background) {
  switch (background) {
    case Background::random:
      return "normal(0, 1)";
    case Background::all_minus_inf:
      return "-inf";
    case Background::all_plus_inf:
      return "+inf";
  }
  return "";
}

// Row p of the matrix holds `special` at position p (and `last`, if given, at the last position
// when p is not the last), the other elements are `background`. The forward kernels must match
// the reference.
template <class T>
void check_special_at_every_position(T special, Background background, std::optional<T> last,
                                     const char* description) {
  for (const std::size_t cols : lengths_around_lanes()) {
    const std::vector<std::size_t> where = positions(cols);
    const simdiff::MatrixShape shape{where.size(), cols, cols + 1};
    std::vector<T> values;
    if (background == Background::random) {
      values = random_values<T>({"", Distribution::normal, 0, 1}, where.size() * cols,
                                seed_of(description, cols));
    } else {
      const T inf = std::numeric_limits<T>::infinity();
      values.assign(where.size() * cols, background == Background::all_minus_inf ? -inf : inf);
    }
    for (std::size_t r = 0; r < where.size(); ++r) {
      values[r * cols + where[r]] = special;
      if (last && where[r] + 1 < cols) values[r * cols + cols - 1] = *last;
    }
    BOOST_TEST_CONTEXT(description << " in a background of " << background_name(background)
                                   << ", shape " << describe(shape)) {
      const auto c = make_forward_case(shape, 1, values);
      for_each_target([&](const TargetUnderTest&) { check_forward_kernels(c, Kernels::all); });
    }
  }
}

BOOST_AUTO_TEST_CASE(nan_at_every_position) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const T nan = std::numeric_limits<T>::quiet_NaN();
    const T inf = std::numeric_limits<T>::infinity();
    for (const Background background :
         {Background::random, Background::all_minus_inf, Background::all_plus_inf}) {
      check_special_at_every_position<T>(nan, background, {}, "NaN");
    }
    // A NaN and a later +inf or a later NaN: the first NaN is the argmax.
    check_special_at_every_position<T>(nan, Background::random, inf, "NaN, +inf last");
    check_special_at_every_position<T>(nan, Background::random, nan, "NaN, NaN last");
  });
}

BOOST_AUTO_TEST_CASE(infinities_at_every_position) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const T inf = std::numeric_limits<T>::infinity();
    check_special_at_every_position<T>(inf, Background::random, {}, "+inf");
    check_special_at_every_position<T>(-inf, Background::random, {}, "-inf");
    check_special_at_every_position<T>(inf, Background::all_minus_inf, {}, "+inf");
    check_special_at_every_position<T>(-inf, Background::all_plus_inf, {}, "-inf");
    // A finite maximum among -inf: softmax is one-hot, log_softmax -inf elsewhere.
    check_special_at_every_position<T>(T(3), Background::all_minus_inf, {}, "3");
  });
}

// Element-wise functions at their special points: the result must be exactly `exact` (NaN,
// infinities, 0, 1, x itself and the like) if given, else within the element-wise ulp bound of
// the reference at x (rounded to T).
struct SpecialPoint {
  double x;
  std::optional<Real> exact;
};
const std::optional<Real> kNear;

// The special points of each function, in the order of elementwise_functions().
template <class T>
std::vector<std::vector<SpecialPoint>> special_points() {
  using L = std::numeric_limits<T>;
  const double inf = kInfD;
  const double nan = kNaND;
  const double tiny = static_cast<double>(L::denorm_min());
  const double min_normal = static_cast<double>(L::min());
  const double big = static_cast<double>(L::max());
  // The thresholds of include/simdiff/elementwise.h.
  const double overflow = std::is_same_v<T, float> ? 88.72283 : 709.78271;
  const double underflow = std::is_same_v<T, float> ? -103.97208 : -745.13321;
  // x itself, where the result is the input (rounded to T).
  auto same = [](double v) { return Real(static_cast<T>(v)); };
  return {
      // exp
      {{inf, kInf},
       {-inf, 0},
       {nan, kNaN},
       {0, 1},
       {-0.0, 1},
       {1e-30, 1},
       {1e30, kInf},
       {-1e30, 0},
       {big, kInf},
       {-big, 0},
       {overflow + 0.01, kInf},
       {overflow - 0.01, kNear},
       {underflow - 0.01, 0},
       {underflow + 0.5, kNear},
       {1, kNear},
       {-1, kNear}},
      // log
      {{0, -kInf},
       {-0.0, -kInf},
       {-1, kNaN},
       {-tiny, kNaN},
       {-inf, kNaN},
       {inf, kInf},
       {nan, kNaN},
       {1, 0},
       {tiny, kNear},
       {min_normal, kNear},
       {big, kNear},
       {2, kNear},
       {0.5, kNear}},
      // log1p
      {{-1, -kInf},
       {-2, kNaN},
       {-inf, kNaN},
       {inf, kInf},
       {nan, kNaN},
       {0, 0},
       {1e-30, same(1e-30)},
       {-1e-30, same(-1e-30)},
       {tiny, same(tiny)},
       {-tiny, same(-tiny)},
       {min_normal, same(min_normal)},
       {1, kNear},
       {-0.5, kNear},
       {big, kNear}},
      // sigmoid
      {{inf, 1},
       {-inf, 0},
       {nan, kNaN},
       {1e30, 1},
       {-1e30, 0},
       {big, 1},
       {-big, 0},
       {0, 0.5},
       {1e-30, 0.5},
       {-1e-30, 0.5},
       {tiny, 0.5},
       {-100, kNear},
       {-700, kNear},
       {1, kNear}},
      // softplus
      {{inf, kInf},
       {-inf, 0},
       {nan, kNaN},
       {1e30, same(1e30)},
       {-1e30, 0},
       {big, same(big)},
       {-big, 0},
       {0, kNear},
       {tiny, kNear},
       {-100, kNear},
       {-700, kNear},
       {100, kNear},
       {1, kNear}},
      // log_sigmoid
      {{inf, 0},
       {-inf, -kInf},
       {nan, kNaN},
       {1e30, 0},
       {-1e30, same(-1e30)},
       {big, 0},
       {-big, same(-big)},
       {0, kNear},
       {100, kNear},
       {700, kNear},
       {-100, kNear},
       {-1, kNear}},
  };
}

// Each point runs alone (the tail path of every kernel) and all together, at an offset (the
// vector path).
BOOST_AUTO_TEST_CASE(elementwise_special_points) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    const auto functions = elementwise_functions<T>();
    const auto points = special_points<T>();
    for (std::size_t k = 0; k < functions.size(); ++k) {
      const ElementwiseFunction<T>& f = functions[k];
      std::vector<T> x;
      std::vector<Expected> expected;
      for (const SpecialPoint& point : points[k]) {
        x.push_back(static_cast<T>(point.x));
        const Real reference = f.reference(Real(x.back()));
        if (!point.exact) {
          expected.push_back(expect_elementwise<T>(reference));
          continue;
        }
        expected.push_back(expect<T>(*point.exact, 0));
        // The table must agree with the independent reference.
        const bool agree = std::isnan(reference)
                               ? std::isnan(*point.exact)
                               : round_to<T>(reference) == round_to<T>(*point.exact);
        BOOST_TEST(agree, f.name << "(" << point.x << "): table "
                                 << static_cast<double>(*point.exact) << ", reference "
                                 << static_cast<double>(reference));
      }
      BOOST_TEST_CONTEXT(f.name << " of " << type_name<T>()) {
        for_each_target([&](const TargetUnderTest&) {
          Comparison comparison(f.name + " special points " + type_name<T>());
          for (std::size_t i = 0; i < x.size(); ++i) {
            T y = sentinel<T>();
            f.kernel(std::span<const T>(&x[i], 1), std::span<T>(&y, 1));
            comparison.check(expected[i], y, [&] { return "alone, x = " + describe_value(x[i]); });
          }
          for (const std::size_t offset : {0, 1, 5}) {
            std::vector<T> padded(offset, T(0.25));
            padded.insert(padded.end(), x.begin(), x.end());
            std::vector<T> y(padded.size(), sentinel<T>());
            f.kernel(std::span<const T>(padded), std::span<T>(y));
            for (std::size_t i = 0; i < x.size(); ++i) {
              comparison.check(expected[i], y[offset + i], [&] {
                return "at index " + std::to_string(offset + i) + ", x = " + describe_value(x[i]);
              });
            }
          }
        });
      }
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
