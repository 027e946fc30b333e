// Checks that an installed simdiff links and computes: softmax and log-sum-exp of a small batch,
// on every backend this CPU runs, against a direct evaluation in double. Exits 0 on success, 1 on
// a wrong result.
#include <simdiff/simdiff.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <string>

namespace {

constexpr std::size_t kRows = 2;
constexpr std::size_t kCols = 3;
constexpr std::size_t kSize = kRows * kCols;

// The second row would overflow a naive exp(x) in float.
constexpr std::array<float, kSize> kLogits = {1.0f, 2.0f, 3.0f, 100.0f, 101.0f, 99.0f};

bool check_current_backend() {
  const simdiff::MatrixShape shape{.rows = kRows, .cols = kCols};
  std::array<float, kSize> probabilities{};
  std::array<float, kRows> lse{};
  simdiff::softmax(kLogits, shape, probabilities);
  simdiff::logsumexp(kLogits, shape, lse);

  bool ok = true;
  for (std::size_t r = 0; r < kRows; ++r) {
    const float* row = kLogits.data() + r * kCols;
    const double max = std::fmax(std::fmax(row[0], row[1]), row[2]);
    double sum = 0.0;
    for (std::size_t c = 0; c < kCols; ++c) sum += std::exp(double{row[c]} - max);
    const double expected_lse = max + std::log(sum);
    if (std::fabs(lse[r] - expected_lse) > 1e-6 * std::fabs(expected_lse)) {
      std::printf("  logsumexp row %zu: got %.9g, expected %.9g\n", r, lse[r], expected_lse);
      ok = false;
    }
    for (std::size_t c = 0; c < kCols; ++c) {
      const double expected = std::exp(double{row[c]} - max) / sum;
      const float got = probabilities[r * kCols + c];
      if (std::fabs(got - expected) > 1e-6 * expected) {
        std::printf("  softmax [%zu, %zu]: got %.9g, expected %.9g\n", r, c, got, expected);
        ok = false;
      }
    }
  }
  return ok;
}

}  // namespace

int main() {
  std::printf("simdiff %s\n", simdiff::version_string);
  bool ok = true;
  for (const auto backend :
       {simdiff::Backend::highway, simdiff::Backend::xsimd, simdiff::Backend::scalar}) {
    const std::string name(simdiff::to_string(backend));
    if (simdiff::supported_targets(backend).empty()) {
      std::printf("%s: not built in\n", name.c_str());
      continue;
    }
    const simdiff::ScopedBackend scope(backend);
    const bool backend_ok = check_current_backend();
    std::printf("%s (%s): %s\n", name.c_str(), simdiff::backend_info().target.c_str(),
                backend_ok ? "ok" : "WRONG");
    ok = ok && backend_ok;
  }
  std::printf("%s\n", ok ? "consumer check passed" : "consumer check FAILED");
  return ok ? 0 : 1;
}
