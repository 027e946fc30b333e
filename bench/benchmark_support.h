// Pieces shared by the benchmark programs (simdiff_bench, simdiff_bench_compare): shapes, the
// buffers each shape is measured on, naming, the throughput counters and the registration of one
// benchmark.
#pragma once

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/reference_kernels.h"
#include "simdiff/simdiff.h"

namespace simdiff::bench {

struct Shape {
  std::size_t rows;
  std::size_t cols;

  [[nodiscard]] std::size_t elements() const { return rows * cols; }
  [[nodiscard]] std::string name() const {
    return std::to_string(rows) + "x" + std::to_string(cols);
  }
  [[nodiscard]] MatrixShape matrix() const { return {rows, cols, 0}; }
  bool operator<(const Shape& other) const {
    return std::pair(rows, cols) < std::pair(other.rows, other.cols);
  }
};

/// The shapes of the row-wise benchmarks: a small classifier batch, a cache-resident batch, a
/// large vocabulary, one long row, and a matrix larger than the last-level cache.
inline const std::vector<Shape> kFloatShapes = {
    {32, 10}, {256, 1000}, {64, 32000}, {1, 1048576}, {4096, 4096}};

/// The bounds the bw_percent counters divide by, measured by measure_bandwidth_once().
inline MemoryBandwidth g_bandwidth;

/// Measures g_bandwidth (about a second) and records it in the benchmark context, which every
/// report (console, JSON) carries.
inline void measure_bandwidth_once() {
  g_bandwidth = measure_memory_bandwidth();
  char text[64];
  std::snprintf(text, sizeof text, "%.1f GB/s", g_bandwidth.read / 1e9);
  benchmark::AddCustomContext("memory_read_bandwidth", text);
  std::snprintf(text, sizeof text, "%.1f GB/s (read + write)", g_bandwidth.copy / 1e9);
  benchmark::AddCustomContext("memory_copy_bandwidth", text);
}

/// Which streaming bandwidth bounds a kernel: read-only for reductions, copy for kernels that
/// write as much as they read.
enum class Bound { read, copy };

/// Buffers for one element type and shape, allocated on first use and kept for the whole run, so
/// that repetitions and interleaved runs neither allocate nor fill inside the benchmark. Inputs
/// are random logits; the probabilities the backward kernels take are computed from them.
template <class T>
class Workspace {
 public:
  explicit Workspace(Shape shape) : shape_(shape) {}

  /// The shared workspace of `shape`.
  static Workspace& of(Shape shape) {
    static std::map<Shape, std::unique_ptr<Workspace>> workspaces;
    auto& slot = workspaces[shape];
    if (!slot) slot = std::make_unique<Workspace>(shape);
    return *slot;
  }

  std::span<T> x() {
    return lazily(x_, [&](std::span<T> out) { fill(out, 1); });
  }
  std::span<T> dy() {
    return lazily(dy_, [&](std::span<T> out) { fill(out, 2); });
  }
  std::span<T> y() {
    return lazily(y_, [](std::span<T>) {});
  }
  std::span<T> per_row() {
    if (per_row_.size() == 0) per_row_ = AlignedBuffer<T>(shape_.rows);
    return per_row_.span();
  }
  std::span<T> probabilities() {
    return lazily(probabilities_, [&](std::span<T> out) {
      baseline_softmax(x().data(), out.data(), shape_.rows, shape_.cols);
    });
  }
  std::span<T> log_probabilities() {
    return lazily(log_probabilities_, [&](std::span<T> out) {
      baseline_log_softmax(x().data(), out.data(), shape_.rows, shape_.cols);
    });
  }

 private:
  template <class Init>
  std::span<T> lazily(AlignedBuffer<T>& buffer, Init init) {
    if (buffer.size() == 0) {
      buffer = AlignedBuffer<T>(shape_.elements());
      init(buffer.span());
    }
    return buffer.span();
  }
  static void fill(std::span<T> out, std::uint32_t seed) { fill_random_logits(out, seed); }

  Shape shape_;
  AlignedBuffer<T> x_, dy_, y_, probabilities_, log_probabilities_, per_row_;
};

/// Sets the throughput counters of a finished benchmark: `elements` and `bytes` are per call.
inline void report(benchmark::State& state, std::size_t elements, std::size_t bytes, Bound bound) {
  const auto calls = static_cast<std::int64_t>(state.iterations());
  state.SetItemsProcessed(calls * static_cast<std::int64_t>(elements));
  state.SetBytesProcessed(calls * static_cast<std::int64_t>(bytes));
  const double bandwidth = bound == Bound::read ? g_bandwidth.read : g_bandwidth.copy;
  // A rate counter divides by the elapsed time: (bytes per call / bandwidth) * calls / seconds is
  // the fraction of the bound reached.
  state.counters["bw_percent"] = benchmark::Counter(100.0 * static_cast<double>(bytes) / bandwidth,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

/// "op/where/shape". Built by appending: g++ 12 warns falsely (-Wrestrict) on "literal" + string.
inline std::string benchmark_name(std::string_view op, std::string_view where,
                                  std::string_view shape) {
  std::string name(op);
  name.append("/").append(where).append("/").append(shape);
  return name;
}

/// A backend and one of its targets, named "backend:target" in benchmark names.
struct Selection {
  Backend backend;
  std::string target;
  [[nodiscard]] std::string name() const { return std::string(to_string(backend)) + ":" + target; }
};

inline std::vector<Selection> all_selections() {
  std::vector<Selection> selections;
  for (const Backend backend : {Backend::highway, Backend::xsimd, Backend::scalar}) {
    for (auto& target : supported_targets(backend)) {
      selections.push_back({backend, std::move(target)});
    }
  }
  return selections;
}

/// Registers one benchmark. `bind` runs before timing, takes the workspace and returns the timed
/// call, so that buffer look-ups stay out of the loop. `selection` is the backend the call runs
/// on, or nullptr for code that calls no simdiff kernel (baselines, other libraries).
/// `bytes_per_element` counts the compulsory traffic in units of sizeof(T) (2 = one read and one
/// write).
template <class T, class Bind>
void register_benchmark(const std::string& name, const Selection* selection, Shape shape,
                        std::size_t bytes_per_element, Bound bound, Bind bind) {
  const std::optional<Selection> chosen =
      selection ? std::optional<Selection>(*selection) : std::nullopt;
  benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    // The selection is process-wide: set it again at every run, since runs are interleaved.
    if (chosen) set_backend(chosen->backend, chosen->target);
    auto call = bind(Workspace<T>::of(shape), shape.matrix());
    for (auto _ : state) {
      call();
      benchmark::ClobberMemory();
    }
    report(state, shape.elements(), shape.elements() * bytes_per_element * sizeof(T), bound);
  });
}

}  // namespace simdiff::bench
