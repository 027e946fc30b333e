// What the simdiff kernels are measured against, shared by the Google Benchmark suite
// (bench/simdiff_bench.cc) and `simdiff bench` (tools/bench_command.cc):
// - 64-byte aligned buffers filled with reproducible random logits;
// - the plain scalar baselines: softmax, log-softmax and log-sum-exp written the way one would
//   write them without SIMD (a max pass, an exp + sum pass with std::exp, a scale pass), compiled
//   with the project's flags, so "x baseline" says what the SIMD kernels buy;
// - a clock of this thread's CPU time;
// - the streaming memory bandwidth of this process (read-only and copy over 256 MiB), the bound
//   that a kernel on data larger than the caches cannot beat.
// Header-only on purpose: it is measurement code, not part of the library.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <new>
#include <random>
#include <span>

#include <time.h>  // clock_gettime

namespace simdiff::bench {

/// A heap array of `T` whose first element sits on a 64-byte (cache line) boundary, so that every
/// kernel sees the same alignment whatever the allocator returns.
template <class T>
class AlignedBuffer {
 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t size) : size_(size) {
    // aligned_alloc wants a size that is a multiple of the alignment.
    const std::size_t bytes =
        (std::max<std::size_t>(size * sizeof(T), 1) + kAlignment - 1) / kAlignment * kAlignment;
    data_.reset(static_cast<T*>(std::aligned_alloc(kAlignment, bytes)));
    if (!data_) throw std::bad_alloc();
    // Touch every page now, so that page faults never land inside a timed region.
    std::memset(static_cast<void*>(data_.get()), 0, bytes);
  }

  [[nodiscard]] T* data() noexcept { return data_.get(); }
  [[nodiscard]] const T* data() const noexcept { return data_.get(); }
  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] std::span<T> span() noexcept { return {data_.get(), size_}; }
  [[nodiscard]] std::span<const T> span() const noexcept { return {data_.get(), size_}; }

 private:
  struct Free {
    void operator()(T* pointer) const noexcept { std::free(pointer); }
  };
  std::unique_ptr<T, Free> data_;
  std::size_t size_ = 0;
};

/// Uniform random logits in [-8, 8): a spread like real classifier outputs, where exp(x - max)
/// covers many binades but neither overflows nor goes subnormal (subnormals would slow some CPUs
/// and measure the wrong thing). Fixed seed: every run sees the same data.
template <class T>
void fill_random_logits(std::span<T> values, std::uint32_t seed = 42) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<T> distribution(T(-8), T(8));
  for (T& value : values) value = distribution(generator);
}

// ---- Scalar baselines --------------------------------------------------------------------------
// Plain loops over a dense row-major [rows x cols] matrix, one row at a time. They are what the
// SIMD kernels are compared with, so they stay naive on purpose: no blocking, no fused passes, the
// libm exp.

template <class T>
T baseline_row_max(const T* row, std::size_t cols) {
  T max = row[0];
  for (std::size_t c = 1; c < cols; ++c) max = std::max(max, row[c]);
  return max;
}

/// Three passes per row: max, y = exp(x - max) with the sum, y *= 1 / sum.
template <class T>
void baseline_softmax(const T* x, T* y, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    T* out = y + r * cols;
    const T max = baseline_row_max(row, cols);
    T sum = 0;
    for (std::size_t c = 0; c < cols; ++c) {
      out[c] = std::exp(row[c] - max);
      sum += out[c];
    }
    const T scale = T(1) / sum;
    for (std::size_t c = 0; c < cols; ++c) out[c] *= scale;
  }
}

/// Three passes per row: max, sum of exp(x - max), y = x - (max + log(sum)).
template <class T>
void baseline_log_softmax(const T* x, T* y, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    T* out = y + r * cols;
    const T max = baseline_row_max(row, cols);
    T sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += std::exp(row[c] - max);
    const T lse = max + std::log(sum);
    for (std::size_t c = 0; c < cols; ++c) out[c] = row[c] - lse;
  }
}

/// Two passes per row: max, then max + log(sum of exp(x - max)).
template <class T>
void baseline_logsumexp(const T* x, T* out, std::size_t rows, std::size_t cols) {
  for (std::size_t r = 0; r < rows; ++r) {
    const T* row = x + r * cols;
    const T max = baseline_row_max(row, cols);
    T sum = 0;
    for (std::size_t c = 0; c < cols; ++c) sum += std::exp(row[c] - max);
    out[r] = max + std::log(sum);
  }
}

// ---- Timing -----------------------------------------------------------------------------------

/// A std::chrono clock that counts the CPU time of the calling thread. The machines this project
/// is measured on run other work on their few cores: wall-clock time would count the slices the
/// thread spends descheduled, CPU time does not (time stalled on memory still counts, so
/// memory-bound kernels are measured fairly). Google Benchmark's rates use CPU time too.
struct ThreadCpuClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<ThreadCpuClock>;
  static constexpr bool is_steady = true;

  static time_point now() noexcept {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return time_point(std::chrono::seconds(now.tv_sec) + std::chrono::nanoseconds(now.tv_nsec));
  }
};

// ---- Memory bandwidth --------------------------------------------------------------------------

/// Size of the buffers the bandwidth is measured on: far larger than any cache, so every byte
/// comes from (and goes to) DRAM.
inline constexpr std::size_t kBandwidthBytes = std::size_t{256} << 20;

/// Reads every byte once. Summing 64-bit integers lets the compiler vectorize the loop without
/// reassociating floating-point additions, so the loop runs far faster than memory delivers and
/// the time measured is the memory's.
inline std::uint64_t stream_read(std::span<const std::uint64_t> words) noexcept {
  std::uint64_t sum = 0;
  for (const std::uint64_t word : words) sum += word;
  return sum;
}

/// Copies every byte once with the C library's memcpy, the fastest copy this process has (glibc
/// switches to non-temporal stores at this size, which saves the read of the destination).
inline void stream_copy(std::span<const std::uint64_t> from, std::span<std::uint64_t> to) noexcept {
  std::memcpy(to.data(), from.data(), from.size_bytes());
}

/// Streaming bandwidths of this process in bytes per second. `copy` counts the bytes read plus
/// the bytes written, the same way the kernels' traffic is counted.
struct MemoryBandwidth {
  double read = 0;
  double copy = 0;
};

/// Best of `repetitions` passes over kBandwidthBytes in CPU time (the best pass is the one least
/// disturbed by the other processes on the machine). Takes about 0.05 s per pass.
inline MemoryBandwidth measure_memory_bandwidth(int repetitions = 8) {
  using Clock = ThreadCpuClock;
  const std::size_t words = kBandwidthBytes / sizeof(std::uint64_t);
  AlignedBuffer<std::uint64_t> source(words);
  AlignedBuffer<std::uint64_t> destination(words);
  for (std::size_t i = 0; i < words; ++i) source.data()[i] = i;

  // The two passes alternate, so that a burst of load from other processes spoils both equally.
  double read_seconds = std::numeric_limits<double>::infinity();
  double copy_seconds = read_seconds;
  const auto seconds_of = [](auto&& pass) {
    const auto start = Clock::now();
    pass();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  volatile std::uint64_t sink = 0;  // volatile: the sum must be computed although nobody uses it
  for (int i = 0; i < repetitions; ++i) {
    read_seconds =
        std::min(read_seconds, seconds_of([&] { sink = sink + stream_read(source.span()); }));
    copy_seconds = std::min(copy_seconds, seconds_of([&] {
                              stream_copy(source.span(), destination.span());
                              sink = sink + destination.data()[words / 2];
                            }));
  }
  return {static_cast<double>(kBandwidthBytes) / read_seconds,
          2.0 * static_cast<double>(kBandwidthBytes) / copy_seconds};
}

}  // namespace simdiff::bench
