// Google Benchmark suite: every row-wise primitive and a few element-wise ones, on every backend
// and every target of it that this CPU runs, at shapes from a small classifier (32x10) to a large
// vocabulary (64x32000) and one long row (1x1048576); next to them the plain scalar baselines and
// the memory-bandwidth references they are judged against.
//
// Names follow XNNPACK: operation/backend:target/shape, e.g. `Softmax/highway:AVX2/256x1000`,
// `Softmax/baseline:std_exp/256x1000` (bench/reference_kernels.h), `MemoryCopy/256MiB`; double
// precision variants are named `Softmax_f64/...`. Counters: items_per_second is elements per
// second (1G/s = 1 element/ns); bytes_per_second counts the compulsory memory traffic (each input
// read once, each output written once); bw_percent is bytes_per_second as a percentage of this
// process's streaming bandwidth, measured at startup (read-only for LogSumExp, copy for the rest).
// Shapes that fit in the caches can exceed 100%. (The console prints bw_percent with a "/s", as
// it does for every rate counter: the percentage is the number in front.)
//
// This machine is noisy: compare ratios measured in one process, with the runs interleaved:
//
//   simdiff_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//                 --benchmark_report_aggregates_only=true --benchmark_min_time=0.2
//
// narrowed, for instance to the forward kernels at three shapes, with
//   --benchmark_filter='^(Softmax|LogSoftmax|LogSumExp)/.*/(32x10|256x1000|4096x4096)$|^Memory'
// (the whole suite takes about ten minutes; the filter above about two). Random interleaving
// shuffles the printed order: add --benchmark_out=results.json --benchmark_out_format=json and
// run bench/summarize.py results.json for one sorted table with the speed-ups over the baseline.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/benchmark_support.h"
#include "bench/reference_kernels.h"
#include "simdiff/simdiff.h"

namespace simdiff::bench {
namespace {

const std::vector<Shape> kDoubleShapes = {{256, 1000}, {4096, 4096}};
// Backward kernels: a cache-resident and a memory-bound shape.
const std::vector<Shape> kBackwardShapes = {{256, 1000}, {4096, 4096}};
// Element-wise functions: 32 KiB of data (L1/L2) and 128 MiB (memory).
const std::vector<std::size_t> kElementwiseSizes = {4096, std::size_t{1} << 24};

template <class T>
void register_forward(const std::string& suffix, const std::vector<Shape>& shapes,
                      const std::vector<Selection>& selections) {
  for (const Shape& shape : shapes) {
    // nullptr: the baseline row, registered first so that it heads each shape's group.
    std::vector<const Selection*> rows = {nullptr};
    for (const auto& selection : selections) rows.push_back(&selection);
    for (const Selection* selection : rows) {
      const std::string where = selection ? selection->name() : "baseline:std_exp";
      const auto name = [&](std::string op) {
        return benchmark_name(op.append(suffix), where, shape.name());
      };
      const bool baseline = selection == nullptr;
      register_benchmark<T>(name("Softmax"), selection, shape, 2, Bound::copy,
                            [baseline](Workspace<T>& w, MatrixShape m) {
                              return [x = w.x(), y = w.y(), m, baseline] {
                                if (baseline) {
                                  baseline_softmax(x.data(), y.data(), m.rows, m.cols);
                                } else {
                                  simdiff::softmax(std::span<const T>(x), m, y);
                                }
                              };
                            });
      register_benchmark<T>(name("LogSoftmax"), selection, shape, 2, Bound::copy,
                            [baseline](Workspace<T>& w, MatrixShape m) {
                              return [x = w.x(), y = w.y(), m, baseline] {
                                if (baseline) {
                                  baseline_log_softmax(x.data(), y.data(), m.rows, m.cols);
                                } else {
                                  simdiff::log_softmax(std::span<const T>(x), m, y);
                                }
                              };
                            });
      register_benchmark<T>(name("LogSumExp"), selection, shape, 1, Bound::read,
                            [baseline](Workspace<T>& w, MatrixShape m) {
                              return [x = w.x(), out = w.per_row(), m, baseline] {
                                if (baseline) {
                                  baseline_logsumexp(x.data(), out.data(), m.rows, m.cols);
                                } else {
                                  simdiff::logsumexp(std::span<const T>(x), m, out);
                                }
                              };
                            });
    }
  }
}

void register_backward(const std::vector<Selection>& selections) {
  for (const Shape& shape : kBackwardShapes) {
    for (const auto& selection : selections) {
      const auto name = [&](std::string_view op) {
        return benchmark_name(op, selection.name(), shape.name());
      };
      // Reads y and dy, writes dx.
      register_benchmark<float>(name("SoftmaxBackward"), &selection, shape, 3, Bound::copy,
                                [](Workspace<float>& w, MatrixShape m) {
                                  return [y = w.probabilities(), dy = w.dy(), dx = w.y(), m] {
                                    simdiff::softmax_backward(std::span<const float>(y), dy, m, dx);
                                  };
                                });
      register_benchmark<float>(name("LogSoftmaxBackward"), &selection, shape, 3, Bound::copy,
                                [](Workspace<float>& w, MatrixShape m) {
                                  return [y = w.log_probabilities(), dy = w.dy(), dx = w.y(), m] {
                                    simdiff::log_softmax_backward(std::span<const float>(y), dy, m,
                                                                  dx);
                                  };
                                });
    }
  }
}

void register_elementwise(const std::vector<Selection>& selections) {
  for (const std::size_t size : kElementwiseSizes) {
    const Shape shape{1, size};
    for (const auto& selection : selections) {
      const auto name = [&](std::string_view op) {
        return benchmark_name(op, selection.name(), std::to_string(size));
      };
      register_benchmark<float>(
          name("Exp"), &selection, shape, 2, Bound::copy, [](Workspace<float>& w, MatrixShape) {
            return [x = w.x(), y = w.y()] { simdiff::exp(std::span<const float>(x), y); };
          });
      register_benchmark<float>(
          name("Sigmoid"), &selection, shape, 2, Bound::copy, [](Workspace<float>& w, MatrixShape) {
            return [x = w.x(), y = w.y()] { simdiff::sigmoid(std::span<const float>(x), y); };
          });
    }
  }
}

/// The references for bw_percent, measured the same way as at startup: a benchmark run of them
/// reads close to 100% when the machine is quiet.
void register_memory_references() {
  constexpr std::size_t words = kBandwidthBytes / sizeof(std::uint64_t);
  // Shared by both benchmarks and kept for the run, like the workspaces.
  static AlignedBuffer<std::uint64_t> source;
  static AlignedBuffer<std::uint64_t> destination;
  const auto buffers = [] {
    if (source.size() == 0) {
      source = AlignedBuffer<std::uint64_t>(words);
      destination = AlignedBuffer<std::uint64_t>(words);
      for (std::size_t i = 0; i < words; ++i) source.data()[i] = i;
    }
  };
  benchmark::RegisterBenchmark("MemoryRead/256MiB", [buffers](benchmark::State& state) {
    buffers();
    for (auto _ : state) {
      benchmark::DoNotOptimize(stream_read(source.span()));
    }
    report(state, words, kBandwidthBytes, Bound::read);
  });
  benchmark::RegisterBenchmark("MemoryCopy/256MiB", [buffers](benchmark::State& state) {
    buffers();
    for (auto _ : state) {
      stream_copy(source.span(), destination.span());
      benchmark::ClobberMemory();
    }
    report(state, words, 2 * kBandwidthBytes, Bound::copy);
  });
}

}  // namespace
}  // namespace simdiff::bench

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  using namespace simdiff::bench;
  measure_bandwidth_once();
  benchmark::AddCustomContext("simdiff_version", simdiff::version_string);

  const std::vector<Selection> selections = all_selections();
  register_forward<float>("", kFloatShapes, selections);
  register_forward<double>("_f64", kDoubleShapes, selections);
  register_backward(selections);
  register_elementwise(selections);
  register_memory_references();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
