// Outputs larger than the caches: the Highway row kernels write them with streaming stores
// (lib/highway/rowwise-inl.h, kStreamingBytes = 8 MiB), a different code path from the one that
// small outputs take. Its results must be the same bits as the ordinary path's, which the other
// suites test against long double references: every row of a 8.6 MB matrix is compared with the
// same kernel run on that row alone (a call far below the threshold), on every backend and
// target. Rows start at every alignment (stride = cols + 3, misaligned by one element), so the
// unaligned head, the streamed middle and the tail all occur; the gaps between rows must stay
// untouched, and the label of the sparse loss, which the streamed pass writes specially, sits at
// the first, the last and random columns.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include "lib/kernel_table.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

template <class T>
const simdiff::detail::TypedKernels<T>& kernels() {
  return simdiff::detail::active_kernels().of<T>();
}

// A matrix of 2100 rows whose span exceeds 8 MiB, with rows short enough (<= 16 KiB) for the
// streaming path: 1021 floats or 509 doubles per row.
template <class T>
struct BigLayout {
  static constexpr std::size_t rows = 2100;
  static constexpr std::size_t cols = sizeof(T) == 4 ? 1021 : 509;
  static constexpr std::size_t stride = cols + 3;
  static constexpr std::size_t misalign = 1;
  static constexpr std::size_t size = misalign + rows * stride;
};

constexpr double kSentinel = -12345.0;

template <class T>
bool same_bits(T a, T b) {
  return std::memcmp(&a, &b, sizeof(T)) == 0;
}

template <class T>
std::vector<T> random_values(std::size_t n, std::uint64_t seed, T low, T high) {
  std::vector<T> v(n);
  std::uint64_t bits = seed;
  for (T& x : v) {
    bits ^= bits << 13, bits ^= bits >> 7, bits ^= bits << 17;
    x = low + (high - low) * static_cast<T>(static_cast<double>(bits >> 11) * 0x1.0p-53);
  }
  return v;
}

// The row r of a big matrix stored at `data` (the layout's misalignment included).
template <class T>
T* row_of(std::vector<T>& data, std::size_t r) {
  return data.data() + BigLayout<T>::misalign + r * BigLayout<T>::stride;
}
template <class T>
const T* row_of(const std::vector<T>& data, std::size_t r) {
  return data.data() + BigLayout<T>::misalign + r * BigLayout<T>::stride;
}

// Every row of `big` equals `expected_row(r)` bit for bit, and every element outside the rows
// still holds the sentinel.
template <class T, class F>
void check_rows(const std::vector<T>& big, const F& expected_row, const char* what) {
  using L = BigLayout<T>;
  std::size_t mismatches = 0, first_mismatch = 0;
  for (std::size_t r = 0; r < L::rows; ++r) {
    const std::vector<T> expected = expected_row(r);
    const T* row = row_of(big, r);
    for (std::size_t c = 0; c < L::cols; ++c) {
      if (!same_bits(row[c], expected[c])) {
        if (mismatches++ == 0) first_mismatch = r * L::cols + c;
      }
    }
  }
  BOOST_TEST(mismatches == 0u, what << ": " << mismatches << " elements differ from the row-by-row "
                                    << "results, the first at row " << first_mismatch / L::cols
                                    << ", column " << first_mismatch % L::cols);
  std::size_t overwritten = 0;
  for (std::size_t i = 0; i < L::size; ++i) {
    const std::size_t offset = i < L::misalign ? L::stride : (i - L::misalign) % L::stride;
    if (offset >= L::cols && big[i] != static_cast<T>(kSentinel)) ++overwritten;
  }
  BOOST_TEST(overwritten == 0u, what << ": " << overwritten << " elements between rows written");
}

template <class T>
void check_row_kernels() {
  using L = BigLayout<T>;
  const std::vector<T> x = random_values<T>(L::size, 0x5eedULL + sizeof(T), T(-8), T(8));
  for (const auto kernel : {kernels<T>().softmax, kernels<T>().log_softmax}) {
    const char* what = kernel == kernels<T>().softmax ? "softmax" : "log_softmax";
    std::vector<T> y(L::size, static_cast<T>(kSentinel));
    kernel(row_of(x, 0), row_of(y, 0), L::rows, L::cols, L::stride);
    const auto expected_row = [&](std::size_t r) {
      std::vector<T> expected(L::cols);
      kernel(row_of(x, r), expected.data(), 1, L::cols, L::cols);
      return expected;
    };
    check_rows(y, expected_row, what);
    // In place: y = x.
    std::vector<T> z = x;
    for (std::size_t i = 0; i < L::size; ++i) {
      const std::size_t offset = i < L::misalign ? L::stride : (i - L::misalign) % L::stride;
      if (offset >= L::cols) z[i] = static_cast<T>(kSentinel);
    }
    kernel(row_of(z, 0), row_of(z, 0), L::rows, L::cols, L::stride);
    check_rows(z, expected_row, what);
  }
}

template <class T>
void check_loss_kernels(T smoothing) {
  using L = BigLayout<T>;
  const std::vector<T> x = random_values<T>(L::size, 0xab1eULL + sizeof(T), T(-8), T(8));
  const std::vector<T> targets = random_values<T>(L::size, 0x7a29ULL, T(0), T(1));
  const std::vector<T> scale = random_values<T>(L::rows, 0x5ca1eULL, T(0.5), T(2));
  std::vector<std::int64_t> labels(L::rows);
  for (std::size_t r = 0; r < L::rows; ++r) {
    // First and last columns, ignored rows, and columns spread over the row.
    labels[r] = r % 5 == 0   ? 0
                : r % 5 == 1 ? static_cast<std::int64_t>(L::cols - 1)
                : r % 5 == 2 ? -1
                             : static_cast<std::int64_t>((r * 7919) % L::cols);
  }
  std::vector<T> loss(L::rows), row_loss(1);

  std::vector<T> grad(L::size, static_cast<T>(kSentinel));
  kernels<T>().sparse_softmax_cross_entropy(row_of(x, 0), labels.data(), scale.data(), smoothing,
                                            loss.data(), row_of(grad, 0), L::rows, L::cols,
                                            L::stride);
  std::size_t loss_mismatches = 0;
  check_rows(
      grad,
      [&](std::size_t r) {
        std::vector<T> expected(L::cols);
        kernels<T>().sparse_softmax_cross_entropy(row_of(x, r), &labels[r], &scale[r], smoothing,
                                                  row_loss.data(), expected.data(), 1, L::cols,
                                                  L::cols);
        if (!same_bits(row_loss[0], loss[r])) ++loss_mismatches;
        return expected;
      },
      "sparse_softmax_cross_entropy gradient");
  BOOST_TEST(loss_mismatches == 0u,
             "sparse_softmax_cross_entropy: " << loss_mismatches << " row losses differ");

  std::fill(grad.begin(), grad.end(), static_cast<T>(kSentinel));
  kernels<T>().softmax_cross_entropy(row_of(x, 0), row_of(targets, 0), scale.data(), smoothing,
                                     loss.data(), row_of(grad, 0), L::rows, L::cols, L::stride);
  loss_mismatches = 0;
  check_rows(
      grad,
      [&](std::size_t r) {
        std::vector<T> expected(L::cols);
        kernels<T>().softmax_cross_entropy(row_of(x, r), row_of(targets, r), &scale[r], smoothing,
                                           row_loss.data(), expected.data(), 1, L::cols, L::cols);
        if (!same_bits(row_loss[0], loss[r])) ++loss_mismatches;
        return expected;
      },
      "softmax_cross_entropy gradient");
  BOOST_TEST(loss_mismatches == 0u,
             "softmax_cross_entropy: " << loss_mismatches << " row losses differ");
}

// Only the Highway backend streams; the others would repeat the ordinary path (tested elsewhere)
// at a cost that matters under emulation.
template <class F>
void for_each_highway_target(F&& f) {
  for_each_target([&](const TargetUnderTest& target) {
    if (target.backend == simdiff::Backend::highway) f();
  });
}

BOOST_AUTO_TEST_SUITE(streaming_outputs)

BOOST_AUTO_TEST_CASE(large_row_outputs_equal_row_by_row_results) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for_each_highway_target([] { check_row_kernels<T>(); });
  });
}

// With label smoothing, so that the exp pass also sums the uniform targets' terms.
BOOST_AUTO_TEST_CASE(large_loss_gradients_equal_row_by_row_results) {
  for_each_type([](auto tag) {
    using T = decltype(tag);
    for_each_highway_target([] { check_loss_kernels<T>(T(0.1)); });
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
