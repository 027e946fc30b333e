#include "test_support.h"

#include <cstdlib>
#include <iomanip>
#include <map>
#include <utility>

namespace simdiff_test {
namespace {

const TargetUnderTest* g_current_target = nullptr;
std::size_t g_results_checked = 0;

struct WorstError {
  double value = 0;
  std::string unit;
  std::string target;
  std::string where;
};

std::map<std::string, WorstError>& worst_errors() {
  static std::map<std::string, WorstError> errors;
  return errors;
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const TargetUnderTest& target) {
  return out << simdiff::to_string(target.backend) << ':' << target.target;
}

const std::vector<TargetUnderTest>& targets_under_test() {
  static const std::vector<TargetUnderTest> targets = [] {
    std::vector<TargetUnderTest> all;
    for (const auto backend :
         {simdiff::Backend::highway, simdiff::Backend::xsimd, simdiff::Backend::scalar}) {
      for (const std::string& target : simdiff::supported_targets(backend)) {
        all.push_back({backend, target});
      }
    }
    return all;
  }();
  return targets;
}

std::string describe_targets_under_test() {
  std::string out;
  for (const auto backend :
       {simdiff::Backend::highway, simdiff::Backend::xsimd, simdiff::Backend::scalar}) {
    const auto targets = simdiff::supported_targets(backend);
    out += out.empty() ? "" : "; ";
    out += std::string(simdiff::to_string(backend)) + ": ";
    if (targets.empty()) out += "(no targets)";
    for (std::size_t i = 0; i < targets.size(); ++i) out += (i > 0 ? ", " : "") + targets[i];
  }
  return out;
}

CurrentTarget::CurrentTarget(const TargetUnderTest& target) { g_current_target = &target; }
CurrentTarget::~CurrentTarget() { g_current_target = nullptr; }

std::string current_target_name() {
  if (g_current_target == nullptr) return {};
  std::ostringstream out;
  out << *g_current_target;
  return out.str();
}

bool large_tests_enabled() {
  const char* value = std::getenv("SIMDIFF_TEST_LARGE");
  return value == nullptr || std::string_view(value) != "0";
}

boost::test_tools::assertion_result large_tests_requested(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(large_tests_enabled());
  result.message() << "SIMDIFF_TEST_LARGE=0";
  return result;
}

std::vector<std::size_t> short_lengths() {
  std::vector<std::size_t> lengths;
  for (std::size_t n = 1; n <= 64; ++n) lengths.push_back(n);
  for (const std::size_t lanes : {2, 4, 8, 16}) {
    for (const std::size_t n : {lanes - 1, lanes, lanes + 1, 3 * lanes, 8 * lanes + 2}) {
      if (n > 64) lengths.push_back(n);
    }
  }
  for (const std::size_t n : {255, 256, 257, 513}) lengths.push_back(n);
  return lengths;
}

std::vector<std::size_t> long_lengths() { return {1000, 4099}; }

template <class T>
std::vector<T> random_positive_over_all_exponents(std::size_t count, std::uint64_t seed) {
  using Bits = std::conditional_t<std::is_same_v<T, float>, std::uint32_t, std::uint64_t>;
  const T low = std::numeric_limits<T>::denorm_min();
  const T high = std::numeric_limits<T>::max();
  Bits low_bits;
  Bits high_bits;
  std::memcpy(&low_bits, &low, sizeof low);
  std::memcpy(&high_bits, &high, sizeof high);
  // Positive floating-point numbers are ordered like their bit patterns: uniform bits give every
  // binade the same share.
  std::mt19937_64 engine(seed);
  std::uniform_int_distribution<Bits> distribution(low_bits, high_bits);
  std::vector<T> values(count);
  for (T& v : values) {
    const Bits bits = distribution(engine);
    std::memcpy(&v, &bits, sizeof v);
  }
  return values;
}
template std::vector<float> random_positive_over_all_exponents<float>(std::size_t, std::uint64_t);
template std::vector<double> random_positive_over_all_exponents<double>(std::size_t, std::uint64_t);

template <class T>
std::vector<T> random_rows(const Dataset& dataset, std::size_t rows, std::size_t cols,
                           std::uint64_t seed) {
  std::vector<T> values = random_values<T>(dataset, rows * cols, seed);
  if (dataset.zero_logsumexp) {
    for (std::size_t r = 0; r < rows; ++r) {
      const std::span<T> row(values.data() + r * cols, cols);
      const Real lse = reference_row<T>(row).logsumexp;
      for (T& v : row) v = static_cast<T>(v - lse);
    }
  }
  return values;
}
template std::vector<float> random_rows<float>(const Dataset&, std::size_t, std::size_t,
                                               std::uint64_t);
template std::vector<double> random_rows<double>(const Dataset&, std::size_t, std::size_t,
                                                 std::uint64_t);

std::uint64_t seed_of(std::string_view name, std::size_t a, std::size_t b) {
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a
  auto mix = [&hash](std::uint64_t byte) { hash = (hash ^ byte) * 1099511628211ull; };
  for (const char c : name) mix(static_cast<unsigned char>(c));
  for (int shift = 0; shift < 64; shift += 8) mix((a >> shift) & 0xff);
  for (int shift = 0; shift < 64; shift += 8) mix((b >> shift) & 0xff);
  return hash;
}

std::vector<Layout> sweep_layouts() {
  return {{"1 dense aligned row", 1, 0, 0}, {"2 rows, stride cols + 3, misaligned by 1", 2, 3, 1}};
}

std::string describe(simdiff::MatrixShape shape) {
  return std::to_string(shape.rows) + " x " + std::to_string(shape.cols) + " (stride " +
         std::to_string(shape.row_stride()) + ")";
}

Comparison::Comparison(std::string what, std::string unit, double units_per_ratio)
    : what_(std::move(what)),
      unit_(std::move(unit)),
      units_per_ratio_(units_per_ratio),
      describe_above_(std::max(0.5, worst_error_so_far(what_) / units_per_ratio)) {}

Comparison::~Comparison() {
  // A comparison that never reports would make its checks silent.
  if (!reported_) report();
}

std::string Comparison::describe_failure(const std::string& where, const Expected& expected,
                                         double got, double error) {
  std::ostringstream message;
  message << std::setprecision(std::numeric_limits<double>::max_digits10) << where << ": expected "
          << expected.value << ", got " << got;
  if (std::isfinite(expected.value)) {
    message << " (error " << error << ", allowed " << expected.tolerance << ")";
  }
  return message.str();
}

void Comparison::report() {
  reported_ = true;
  g_results_checked += checked_;
  SIMDIFF_CHECK(failures_ == 0, what_ << ": " << failures_ << " of " << checked_
                                      << " results wrong; first: " << first_failure_);
  if (checked_ > 0) record_worst_error(what_, worst_ * units_per_ratio_, unit_, worst_where_);
  failures_ = 0;
  checked_ = 0;
  worst_ = 0;
  worst_where_.clear();
}

ChecksResults::ChecksResults() : before(g_results_checked) {}
ChecksResults::~ChecksResults() {
  BOOST_TEST(g_results_checked > before, "the test case checked no result");
}

void record_worst_error(const std::string& key, double value, const std::string& unit,
                        const std::string& where) {
  WorstError& entry = worst_errors()[key];
  if (entry.unit.empty() || value > entry.value) {
    entry.value = value;
    entry.unit = unit;
    entry.target = current_target_name();
    entry.where = where;
  }
}

double worst_error_so_far(const std::string& key) {
  const auto found = worst_errors().find(key);
  return found == worst_errors().end() ? 0 : found->second.value;
}

std::string worst_error_summary() {
  std::ostringstream out;
  out << "largest errors seen (kernel, type: error, target):";
  for (const auto& [key, entry] : worst_errors()) {
    out << "\n  " << key << ": " << std::setprecision(3) << entry.value << ' ' << entry.unit << " ("
        << entry.target << ')';
    if (!entry.where.empty()) out << "\n      at " << entry.where;
  }
  return out.str();
}

}  // namespace simdiff_test
