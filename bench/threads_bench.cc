// Google Benchmark: the cost of splitting a call over threads (lib/threads/chunks.h), the
// measurement behind the split thresholds there. ParallelFor/threads:2 is the round trip of one
// loop of two trivial indices (wake one worker, wait for it); the kernel rows time the public
// functions on the best Highway target at 1 and 2 threads (real time) for sizes around the
// thresholds, so that the per-element cost and the break-even size can be read off:
//
//   nice -n -19 threads_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//                             --benchmark_min_time=0.1
//
// Names: <Kernel>/<elements>/threads:<n>; the row kernels use rows of 10 columns (a classifier's
// logits; <elements> rounded down to whole rows), Adam updates <elements> parameters.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/threads/thread_pool.h"
#include "simdiff/simdiff.h"

namespace {

std::vector<float> uniform(std::size_t n, float low, float high) {
  std::vector<float> v(n);
  std::uint64_t bits = 88172645463325252ULL;
  for (float& x : v) {
    bits ^= bits << 13, bits ^= bits >> 7, bits ^= bits << 17;
    x = low + (high - low) * static_cast<float>(bits >> 40) * 0x1.0p-24f;
  }
  return v;
}

void parallel_for_round_trip(benchmark::State& state) {
  std::size_t sink[2] = {0, 0};
  auto task = [&](std::size_t i) { benchmark::DoNotOptimize(sink[i] += i); };
  simdiff::detail::parallel_for(2, 2, task);  // the worker is started
  for (auto _ : state) simdiff::detail::parallel_for(2, 2, task);
}

constexpr std::size_t kCols = 10;

void softmax_rows(benchmark::State& state, std::size_t elements) {
  elements = elements / kCols * kCols;
  const std::vector<float> x = uniform(elements, -5, 5);
  std::vector<float> y(elements);
  for (auto _ : state) {
    simdiff::softmax(std::span<const float>(x), {elements / kCols, kCols}, std::span<float>(y));
    benchmark::DoNotOptimize(y.data());
  }
}

void sparse_cross_entropy(benchmark::State& state, std::size_t elements) {
  const std::size_t rows = elements / kCols;
  elements = rows * kCols;
  const std::vector<float> x = uniform(elements, -5, 5);
  std::vector<float> labels(rows), grad(elements);
  for (std::size_t r = 0; r < rows; ++r) labels[r] = static_cast<float>(r % kCols);
  const simdiff::Loss loss(simdiff::SparseCategoricalCrossentropy{.from_logits = true});
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        loss.value_and_grad({.y_true = labels, .y_pred = x, .shape = {rows, kCols}}, grad));
  }
}

void exp_elements(benchmark::State& state, std::size_t elements) {
  const std::vector<float> x = uniform(elements, -5, 5);
  std::vector<float> y(elements);
  for (auto _ : state) {
    simdiff::exp(std::span<const float>(x), std::span<float>(y));
    benchmark::DoNotOptimize(y.data());
  }
}

void adam_update(benchmark::State& state, std::size_t elements) {
  std::vector<float> v = uniform(elements, -1, 1);
  std::vector<float> g = uniform(elements, -1, 1);
  simdiff::Optimizer adam(simdiff::Adam{});
  adam.apply(v, g);
  for (auto _ : state) {
    adam.apply(v, g);
    benchmark::DoNotOptimize(v.data());
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("ParallelFor/threads:2", parallel_for_round_trip)
      ->Unit(benchmark::kMicrosecond)
      ->UseRealTime();
  using Kernel = void (*)(benchmark::State&, std::size_t);
  const std::pair<const char*, Kernel> kernels[] = {{"Softmax", softmax_rows},
                                                    {"SparseCrossEntropy", sparse_cross_entropy},
                                                    {"Exp", exp_elements},
                                                    {"Adam", adam_update}};
  const std::string best = simdiff::supported_targets(simdiff::Backend::highway).front();
  for (const auto& [name, kernel] : kernels) {
    for (const std::size_t elements : {4096, 8192, 16384, 32768, 65536, 131072, 262144}) {
      for (const std::size_t threads : {1, 2}) {
        benchmark::RegisterBenchmark(
            (std::string(name) + "/" + std::to_string(elements) +
             "/threads:" + std::to_string(threads))
                .c_str(),
            [kernel = kernel, elements, threads, best](benchmark::State& state) {
              const simdiff::ScopedBackend selected(simdiff::Backend::highway, best);
              const simdiff::ScopedNumThreads thread_count(threads);
              kernel(state, elements);
              state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(elements));
            })
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
