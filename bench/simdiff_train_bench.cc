// Google Benchmark: one full training step (forward, loss and its gradient, backward, optimizer
// update) of a Sequential model through Sequential::train_on_batch, on every backend and target
// this CPU runs. Models: 64-32-10 at batch 32 (the digits classifier) and 784-256-10 at batch 128
// (MNIST-sized), relu hidden layers, softmax + sparse categorical cross-entropy, Adam.
//
// Names: TrainStep/<backend>:<target>/<layers>x<batch>, and .../threads:<n> for the best Highway
// target on 1 and 2 threads (real time; --benchmark_filter=threads runs only those). Compare
// ratios within one run:
//
//   simdiff_train_bench --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//                       --benchmark_report_aggregates_only=true --benchmark_min_time=0.2
//
// Built as simdiff_train_bench_compare (cmake -DSIMDIFF_BENCH_COMPARE=ON with libtorch-dev
// installed), the same steps also run in libtorch (TrainStep/libtorch/...: torch::nn Linear and
// ReLU layers, cross_entropy on the logits, torch::optim::Adam, one thread; run it with
// OMP_NUM_THREADS=1), so that the ratio comes from one process.
//
// items_per_second counts training samples per second; flops_per_second the floating-point
// operations of the matrix products: 2 in units batch each for the forward product and the
// kernel gradient of every layer, and for the input gradient of every layer but the first (the
// data needs none).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <string>
#include <vector>

#include "simdiff/simdiff.h"

#ifdef SIMDIFF_COMPARE_TORCH
#include <torch/torch.h>
#endif

namespace {

struct ModelShape {
  std::vector<std::size_t> layers;  // input, hidden..., classes
  std::size_t batch;
};

void train_step(benchmark::State& state, simdiff::Backend backend, const std::string& target,
                const ModelShape& shape, std::size_t threads = 1) {
  const simdiff::ScopedBackend selected(backend, target);
  const simdiff::ScopedNumThreads thread_count(threads);
  simdiff::Sequential model(1);
  for (std::size_t l = 1; l < shape.layers.size(); ++l) {
    const bool last = l + 1 == shape.layers.size();
    model.add(simdiff::Dense{.units = shape.layers[l],
                             .activation = last ? "softmax" : "relu",
                             .input_dim = l == 1 ? shape.layers[0] : 0});
  }
  model.compile({.optimizer = simdiff::Adam{}, .loss = "sparse_categorical_crossentropy"});
  const std::size_t features = shape.layers.front(), classes = shape.layers.back();
  std::vector<float> x(shape.batch * features), y(shape.batch);
  std::uint64_t bits = 88172645463325252ULL;
  for (float& v : x) {
    bits ^= bits << 13, bits ^= bits >> 7, bits ^= bits << 17;
    v = static_cast<float>(bits >> 40) * 0x1.0p-24f * 2 - 1;
  }
  for (std::size_t r = 0; r < shape.batch; ++r) y[r] = static_cast<float>(r % classes);
  model.train_on_batch(x, y, shape.batch);  // warm: workspace and optimizer slots allocated
  for (auto _ : state) {
    benchmark::DoNotOptimize(model.train_on_batch(x, y, shape.batch));
  }
  const double samples = static_cast<double>(state.iterations() * shape.batch);
  double flops_per_sample = 0;
  for (std::size_t l = 1; l < shape.layers.size(); ++l) {
    const double products = l == 1 ? 2 : 3;
    flops_per_sample += products * 2.0 * double(shape.layers[l - 1] * shape.layers[l]);
  }
  state.counters["items_per_second"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["flops_per_second"] =
      benchmark::Counter(flops_per_sample * samples, benchmark::Counter::kIsRate);
}

#ifdef SIMDIFF_COMPARE_TORCH
void torch_train_step(benchmark::State& state, const ModelShape& shape) {
  torch::set_num_threads(1);
  torch::manual_seed(1);
  torch::nn::Sequential model;
  for (std::size_t l = 1; l < shape.layers.size(); ++l) {
    model->push_back(torch::nn::Linear(static_cast<std::int64_t>(shape.layers[l - 1]),
                                       static_cast<std::int64_t>(shape.layers[l])));
    if (l + 1 < shape.layers.size()) model->push_back(torch::nn::ReLU());
  }
  torch::optim::Adam optimizer(model->parameters(), torch::optim::AdamOptions(1e-3).eps(1e-7));
  const auto batch = static_cast<std::int64_t>(shape.batch);
  const torch::Tensor x =
      torch::rand({batch, static_cast<std::int64_t>(shape.layers.front())}) * 2 - 1;
  const torch::Tensor y =
      torch::arange(batch, torch::kLong).remainder(static_cast<std::int64_t>(shape.layers.back()));
  const auto step = [&] {
    optimizer.zero_grad();
    torch::Tensor loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    optimizer.step();
    return loss.item<float>();
  };
  step();
  for (auto _ : state) benchmark::DoNotOptimize(step());
  state.counters["items_per_second"] = benchmark::Counter(
      static_cast<double>(state.iterations() * shape.batch), benchmark::Counter::kIsRate);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::pair<std::string, ModelShape>> shapes = {
      {"64-32-10x32", {{64, 32, 10}, 32}}, {"784-256-10x128", {{784, 256, 10}, 128}}};
  for (const auto& [name, shape] : shapes) {
#ifdef SIMDIFF_COMPARE_TORCH
    benchmark::RegisterBenchmark(
        ("TrainStep/libtorch/" + name).c_str(),
        [shape = shape](benchmark::State& state) { torch_train_step(state, shape); })
        ->Unit(benchmark::kMicrosecond);
#endif
    for (const simdiff::Backend backend :
         {simdiff::Backend::highway, simdiff::Backend::xsimd, simdiff::Backend::scalar}) {
      for (const std::string& target : simdiff::supported_targets(backend)) {
        benchmark::RegisterBenchmark(
            ("TrainStep/" + std::string(simdiff::to_string(backend)) + ":" + target + "/" + name)
                .c_str(),
            [backend, target, shape = shape](benchmark::State& state) {
              train_step(state, backend, target, shape);
            })
            ->Unit(benchmark::kMicrosecond);
      }
    }
    // The same step on the best Highway target on 1 and 2 threads (ScopedNumThreads), timed in
    // wall-clock time: the workers' CPU time is not the calling thread's.
    const std::string best = simdiff::supported_targets(simdiff::Backend::highway).front();
    for (const std::size_t threads : {1, 2}) {
      benchmark::RegisterBenchmark(
          ("TrainStep/highway:" + best + "/" + name + "/threads:" + std::to_string(threads))
              .c_str(),
          [best, threads, shape = shape](benchmark::State& state) {
            train_step(state, simdiff::Backend::highway, best, shape, threads);
          })
          ->Unit(benchmark::kMicrosecond)
          ->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
