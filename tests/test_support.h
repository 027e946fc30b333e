// What every test file shares: the (backend, target) pairs to run, random inputs, matrix buffers
// whose gaps and surroundings hold sentinels, and the comparison of results against a reference
// with a tolerance, reported once per batch with the first failing element spelled out.
#pragma once

#include <simdiff/simdiff.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <ostream>
#include <random>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "reference.h"

/// Fails the current test case with `message` (a stream expression) unless `ok`. Unlike
/// BOOST_TEST, a passing check costs nothing: the suite makes millions of checks, also under
/// emulation, and Boost's bookkeeping per assertion would dominate its run time.
#define SIMDIFF_CHECK(ok, message)   \
  do {                               \
    if (!(ok)) BOOST_ERROR(message); \
  } while (false)

namespace simdiff_test {

// ---------------------------------------------------------------------------------------------
// Backends and targets

struct TargetUnderTest {
  simdiff::Backend backend;
  std::string target;
};

std::ostream& operator<<(std::ostream& out, const TargetUnderTest& target);

/// Every (backend, target) pair this build and CPU run, best target of each backend first.
const std::vector<TargetUnderTest>& targets_under_test();

/// "highway: AVX3, AVX2, ...; xsimd: (none); scalar: scalar".
std::string describe_targets_under_test();

/// Marks the target under test while it is alive (for the error summary).
class CurrentTarget {
 public:
  explicit CurrentTarget(const TargetUnderTest& target);
  ~CurrentTarget();
  CurrentTarget(const CurrentTarget&) = delete;
  CurrentTarget& operator=(const CurrentTarget&) = delete;
};

/// Runs `f(target)` once per target under test with that target selected; assertions inside name
/// the backend and target.
template <class F>
void for_each_target(F&& f) {
  for (const TargetUnderTest& target : targets_under_test()) {
    const simdiff::ScopedBackend selected(target.backend, target.target);
    const CurrentTarget current(target);
    BOOST_TEST_CONTEXT("backend " << target) { f(target); }
  }
}

/// Runs `f(T{})` for T = float, then double; assertions inside name the type.
template <class F>
void for_each_type(F&& f) {
  BOOST_TEST_CONTEXT("type float") { f(float{}); }
  BOOST_TEST_CONTEXT("type double") { f(double{}); }
}

template <class T>
constexpr const char* type_name() {
  return std::is_same_v<T, float> ? "float" : "double";
}

/// Whether the 2^20-column cases run (SIMDIFF_TEST_LARGE=0 skips them under slow emulators).
bool large_tests_enabled();

/// large_tests_enabled() as a Boost.Test precondition: the test is reported as skipped if not.
boost::test_tools::assertion_result large_tests_requested(boost::unit_test::test_unit_id);

// ---------------------------------------------------------------------------------------------
// Row lengths

/// Every length 1..64; N-1, N, N+1, 3N, 8N+2 for the lane counts N in {2, 4, 8, 16}; the edges of
/// the Highway kernels' 16-vector summation blocks (256 floats on AVX-512).
std::vector<std::size_t> short_lengths();

/// 1000 and 4099: many summation blocks and odd tails.
std::vector<std::size_t> long_lengths();

/// Many blocks in a row; run on fewer inputs (its reference takes long where long double is
/// emulated).
inline constexpr std::size_t kVeryLongLength = 65537;

inline constexpr std::size_t kHugeLength = std::size_t{1} << 20;

// ---------------------------------------------------------------------------------------------
// Random inputs (fixed seeds: every run sees the same numbers)

enum class Distribution { normal, uniform };

struct Dataset {
  std::string name;
  Distribution distribution;
  double center;
  double scale;  ///< standard deviation (normal) or half width (uniform)
  /// Shift each row so that its log-sum-exp is 0 (where only absolute errors are meaningful).
  bool zero_logsumexp = false;
};

/// Random rows of every scale the kernels must handle.
template <class T>
struct RowDatasets {
  Dataset normal_1e_3{"normal(0, 1e-3)", Distribution::normal, 0, 1e-3};
  Dataset normal_1{"normal(0, 1)", Distribution::normal, 0, 1};
  Dataset normal_1e3{"normal(0, 1e3)", Distribution::normal, 0, 1e3};
  Dataset uniform_1e_3{"uniform(-1e-3, 1e-3)", Distribution::uniform, 0, 1e-3};
  Dataset uniform_1{"uniform(-1, 1)", Distribution::uniform, 0, 1};
  Dataset uniform_1e3{"uniform(-1e3, 1e3)", Distribution::uniform, 0, 1e3};
  /// float's exp(x) overflows, exp(x - max) does not.
  Dataset near_100{"uniform(90, 100)", Distribution::uniform, 95, 5};
  /// x - max reaches -ln(max), where the rounding of x - max matters most.
  Dataset exp_range{"uniform(-ln(max) / 2, ln(max) / 2)", Distribution::uniform, 0,
                    std::log(static_cast<double>(std::numeric_limits<T>::max())) / 2};
  /// Log-sum-exp near 0, where only absolute errors are meaningful.
  Dataset zero_logsumexp{"normal(0, 1) shifted to logsumexp 0", Distribution::normal, 0, 1, true};
  /// x - max overflows to -inf.
  Dataset huge_spread{"uniform(-0.9 max, 0.9 max)", Distribution::uniform, 0,
                      0.9 * static_cast<double>(std::numeric_limits<T>::max())};

  std::vector<Dataset> all() const {
    return {normal_1e_3, normal_1, normal_1e3, uniform_1e_3,   uniform_1,
            uniform_1e3, near_100, exp_range,  zero_logsumexp, huge_spread};
  }
};

template <class T>
std::vector<T> random_values(const Dataset& dataset, std::size_t count, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<T> values(count);
  if (dataset.distribution == Distribution::normal) {
    std::normal_distribution<double> distribution(dataset.center, dataset.scale);
    for (T& v : values) v = static_cast<T>(distribution(engine));
  } else {
    std::uniform_real_distribution<double> distribution(-1, 1);
    for (T& v : values) v = static_cast<T>(dataset.center + dataset.scale * distribution(engine));
  }
  return values;
}

/// `rows x cols` random numbers drawn from `dataset`.
template <class T>
std::vector<T> random_rows(const Dataset& dataset, std::size_t rows, std::size_t cols,
                           std::uint64_t seed);

template <class T>
std::vector<T> random_uniform(T low, T high, std::size_t count, std::uint64_t seed) {
  return random_values<T>({"", Distribution::uniform, (double(low) + double(high)) / 2,
                           (double(high) - double(low)) / 2},
                          count, seed);
}

/// Finite positive numbers spread evenly over every binade, subnormals included.
template <class T>
std::vector<T> random_positive_over_all_exponents(std::size_t count, std::uint64_t seed);

/// A seed derived from the parameters of a case, so that every case draws different numbers.
std::uint64_t seed_of(std::string_view name, std::size_t a, std::size_t b = 0);

// ---------------------------------------------------------------------------------------------
// Buffers with sentinels

/// The value every unused element holds: for floating point a NaN with a payload no kernel
/// produces (a kernel that reads it gets NaN results; one that writes changes its bits); for
/// indices a number no row has.
template <class T>
T sentinel() {
  if constexpr (std::is_floating_point_v<T>) {
    T value;
    if constexpr (sizeof(T) == 4) {
      const std::uint32_t bits = 0x7fc5a5a5u;
      std::memcpy(&value, &bits, sizeof value);
    } else {
      const std::uint64_t bits = 0x7ff8a5a5a5a5a5a5ull;
      std::memcpy(&value, &bits, sizeof value);
    }
    return value;
  } else {
    return static_cast<T>(0xa5a5a5a5a5a5a5a5ull);
  }
}

/// A matrix (or vector: rows = 1) inside a larger buffer. Guard elements before and after it, and
/// the gaps between `cols` and `stride`, hold the sentinel. The first element sits `misalign`
/// elements past a 64-byte boundary.
template <class T>
class GuardedMatrix {
 public:
  static constexpr std::size_t kGuard = 64;  // elements on each side: more than a vector

  GuardedMatrix(simdiff::MatrixShape shape, std::size_t misalign)
      : shape_(shape), extent_(extent_of(shape)), misalign_(misalign) {
    storage_.assign(2 * kGuard + extent_ + 64 / sizeof(T) + misalign, sentinel<T>());
    const auto base = reinterpret_cast<std::uintptr_t>(storage_.data());
    std::size_t offset = kGuard;
    while ((base + offset * sizeof(T)) % 64 != 0) ++offset;
    offset_ = offset + misalign;
  }

  /// A copy with the same alignment and contents (gaps included).
  GuardedMatrix(const GuardedMatrix& other) : GuardedMatrix(other.shape_, other.misalign_) {
    std::copy_n(other.storage_.data() + other.offset_ - kGuard, extent_ + 2 * kGuard,
                storage_.data() + offset_ - kGuard);
  }
  GuardedMatrix& operator=(const GuardedMatrix&) = delete;

  /// Fills the matrix from `values`, row-major `rows x cols`.
  GuardedMatrix(simdiff::MatrixShape shape, std::size_t misalign, std::span<const T> values)
      : GuardedMatrix(shape, misalign) {
    for (std::size_t r = 0; r < shape_.rows; ++r) {
      for (std::size_t c = 0; c < shape_.cols; ++c) at(r, c) = values[r * shape_.cols + c];
    }
  }

  static std::size_t extent_of(simdiff::MatrixShape shape) {
    return shape.rows == 0 ? 0 : (shape.rows - 1) * shape.row_stride() + shape.cols;
  }

  /// Exactly the elements the shape spans, as the kernels see them.
  std::span<T> span() { return {storage_.data() + offset_, extent_}; }
  std::span<const T> cspan() const { return {storage_.data() + offset_, extent_}; }

  T& at(std::size_t r, std::size_t c) { return storage_[offset_ + r * shape_.row_stride() + c]; }
  T at(std::size_t r, std::size_t c) const {
    return storage_[offset_ + r * shape_.row_stride() + c];
  }

  /// Empty if every guard and gap element still holds the sentinel; else names the first one that
  /// does not.
  std::string damaged_sentinels() const;

  /// Whether the matrix, its gaps and its guards have the same bits as in `other`.
  bool bitwise_equal(const GuardedMatrix& other) const {
    return extent_ == other.extent_ && std::memcmp(storage_.data() + offset_ - kGuard,
                                                   other.storage_.data() + other.offset_ - kGuard,
                                                   (extent_ + 2 * kGuard) * sizeof(T)) == 0;
  }

  simdiff::MatrixShape shape() const { return shape_; }

 private:
  simdiff::MatrixShape shape_;
  std::size_t extent_;
  std::size_t misalign_;
  std::size_t offset_ = 0;
  std::vector<T> storage_;
};

template <class T>
std::string GuardedMatrix<T>::damaged_sentinels() const {
  const T expected = sentinel<T>();
  auto damaged = [&](std::size_t index) {
    return std::memcmp(&storage_[index], &expected, sizeof(T)) != 0;
  };
  std::ostringstream out;
  for (std::size_t i = 0; i < offset_; ++i) {
    if (damaged(i)) {
      out << "element " << offset_ - i << " before the buffer was overwritten with " << storage_[i];
      return out.str();
    }
  }
  for (std::size_t i = offset_ + extent_; i < storage_.size(); ++i) {
    if (damaged(i)) {
      out << "element " << i - offset_ - extent_
          << " after the end of the buffer was overwritten with " << storage_[i];
      return out.str();
    }
  }
  const std::size_t stride = shape_.row_stride();
  for (std::size_t r = 0; r + 1 < shape_.rows; ++r) {
    for (std::size_t c = shape_.cols; c < stride; ++c) {
      if (damaged(offset_ + r * stride + c)) {
        out << "gap element (row " << r << ", column " << c << ") beyond cols " << shape_.cols
            << " was overwritten with " << storage_[offset_ + r * stride + c];
        return out.str();
      }
    }
  }
  return {};
}

/// Asserts that the guards and gaps of `buffer` are intact.
template <class T>
void check_sentinels(const GuardedMatrix<T>& buffer, std::string_view name) {
  const std::string damage = buffer.damaged_sentinels();
  SIMDIFF_CHECK(damage.empty(), name << ": " << damage);
}

/// Shapes the sweeps use for one row length.
struct Layout {
  std::string name;
  std::size_t rows;
  std::size_t extra_stride;  ///< stride = cols + extra_stride (0: dense, stride given as 0)
  std::size_t misalign;      ///< elements past a 64-byte boundary
};

inline simdiff::MatrixShape shape_of(const Layout& layout, std::size_t cols) {
  return {layout.rows, cols, layout.extra_stride == 0 ? 0 : cols + layout.extra_stride};
}

/// A dense aligned single row, and two strided rows starting one element past alignment.
std::vector<Layout> sweep_layouts();

/// "3 x 17 (stride 20)".
std::string describe(simdiff::MatrixShape shape);

// ---------------------------------------------------------------------------------------------
// Comparison against a reference

/// Units in the last place of `value` in T: the spacing of T's numbers at |value|, and the
/// smallest subnormal below the normal range (so subnormal errors count in absolute terms).
template <class T>
double ulp_of(double value) {
  const double magnitude = std::fabs(value);
  if (!(magnitude >= static_cast<double>(std::numeric_limits<T>::min()))) {
    return static_cast<double>(std::numeric_limits<T>::denorm_min());
  }
  int exponent = 0;
  std::frexp(magnitude, &exponent);  // magnitude = f * 2^exponent, f in [0.5, 1)
  return std::ldexp(1.0, exponent - std::numeric_limits<T>::digits);
}

/// T's value nearest to `value`, with overflow giving +-inf as rounding does (a plain conversion
/// of an out-of-range number is undefined behaviour).
template <class T, class U>
T round_to(U value) {
  if constexpr (sizeof(U) <= sizeof(T)) return static_cast<T>(value);  // never out of range
  const U max = static_cast<U>(std::numeric_limits<T>::max());
  const U overflow = max + static_cast<U>(ulp_of<T>(static_cast<double>(max))) / 2;
  if (value >= overflow) return std::numeric_limits<T>::infinity();
  if (value <= -overflow) return -std::numeric_limits<T>::infinity();
  return static_cast<T>(value);
}

/// A reference result prepared for fast comparison (the tests compare millions of results on
/// every target, and long double arithmetic is slow where it is emulated, as on aarch64): the
/// long double value as a double plus its remainder, and the allowed error.
struct Expected {
  double value;      ///< NaN; +-inf if the reference rounds to +-inf in the result type; else hi
  double remainder;  ///< reference - value
  double tolerance;
  bool measured;  ///< whether the error counts for the summary of largest errors
};

template <class T>
Expected expect(Real reference, double tolerance, bool measured = true) {
  const auto value = round_to<double>(reference);
  if (std::isnan(value)) return {value, 0, 0, false};
  const T rounded = round_to<T>(value);
  if (std::isinf(rounded)) return {static_cast<double>(rounded), 0, 0, false};
  return {value, static_cast<double>(reference - Real(value)), tolerance, measured};
}

/// Collects the comparison of many results with their references and reports once: how many
/// failed, the first failure in full (where, input, expected, got, allowed), and the largest
/// error as a fraction of its tolerance (recorded for the summary printed at the end).
class Comparison {
 public:
  /// `what` names the kernel, type and output ("softmax float"). The summary shows the largest
  /// error / tolerance ratio times `units_per_ratio`, in `unit` (e.g. "ulp" and the ulp bound).
  explicit Comparison(std::string what, std::string unit = "of the bound",
                      double units_per_ratio = 1);

  /// Checks `got`: NaN and infinities exactly, finite results within the tolerance. `describe`
  /// is called only on the first failure (and for the summary's largest errors), to say where
  /// and for which input.
  template <class T, class Describe>
  void check(const Expected& expected, T got, const Describe& describe) {
    ++checked_;
    bool ok = false;
    double error = 0;
    if (std::isnan(expected.value)) {
      ok = std::isnan(got);
    } else if (std::isinf(expected.value)) {
      ok = static_cast<double>(got) == expected.value;
    } else {
      error = std::fabs((static_cast<double>(got) - expected.value) - expected.remainder);
      ok = error <= expected.tolerance;  // false for NaN
      if (expected.measured && expected.tolerance > 0 && error > worst_ * expected.tolerance) {
        worst_ = error / expected.tolerance;
        // Where the largest errors occur is worth a look in the summary.
        if (worst_ > describe_above_) worst_where_ = describe();
      }
    }
    if (!ok) fail(describe, expected, static_cast<double>(got), error);
  }

  /// Checks an exact match (indices).
  template <class U, class Describe>
  void check_equal(U expected, U got, const Describe& describe) {
    ++checked_;
    if (!(expected == got) && failures_++ == 0) {
      std::ostringstream message;
      message << describe() << ": expected " << expected << ", got " << got;
      first_failure_ = message.str();
    }
  }

  /// Asserts that nothing failed; records the largest ratio for the summary.
  void report();

  ~Comparison();
  Comparison(const Comparison&) = delete;
  Comparison& operator=(const Comparison&) = delete;

 private:
  // Counts a failure; only the first is described (describing is slow, failures can be many).
  template <class Describe>
  void fail(const Describe& describe, const Expected& expected, double got, double error) {
    if (failures_++ == 0) first_failure_ = describe_failure(describe(), expected, got, error);
  }
  static std::string describe_failure(const std::string& where, const Expected& expected,
                                      double got, double error);

  std::string what_;
  std::string unit_;
  double units_per_ratio_;
  std::size_t checked_ = 0;
  std::size_t failures_ = 0;
  std::string first_failure_;
  double worst_ = 0;
  double describe_above_;  // the largest ratio recorded so far for `what_`, at least 0.5
  std::string worst_where_;
  bool reported_ = false;
};

/// Fixture of every test suite: fails a test case that checked no result at all (an empty target
/// list or sweep), which Boost would otherwise only mention as a message.
struct ChecksResults {
  ChecksResults();
  ~ChecksResults();
  std::size_t before;
};

/// The largest error seen per kernel, type and target, as a fraction of its bound (or in ulps),
/// printed at the end of the run.
void record_worst_error(const std::string& key, double value, const std::string& unit,
                        const std::string& where);
std::string worst_error_summary();
double worst_error_so_far(const std::string& key);

/// The backend and target under test ("highway:AVX2"), empty outside for_each_target.
std::string current_target_name();

template <class T>
std::string describe_value(T value) {
  std::ostringstream out;
  out.precision(std::numeric_limits<T>::max_digits10);
  out << value;
  return out.str();
}

/// "[a, b, c]" with full precision; long rows are shortened around `focus`.
template <class T>
std::string describe_row(std::span<const T> row, std::size_t focus = 0) {
  std::ostringstream out;
  out.precision(std::numeric_limits<T>::max_digits10);
  constexpr std::size_t kShown = 8;
  const std::size_t first = row.size() <= 2 * kShown || focus < kShown ? 0 : focus - kShown;
  const std::size_t last = std::min(row.size(), first + 2 * kShown);
  out << "row of " << row.size() << " [";
  if (first > 0) out << "... ";
  for (std::size_t i = first; i < last; ++i) out << (i > first ? ", " : "") << row[i];
  if (last < row.size()) out << ", ...";
  out << "]";
  return out.str();
}

}  // namespace simdiff_test
