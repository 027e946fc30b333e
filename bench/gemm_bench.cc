// GEMM benchmarks: the products of dense layers (m x k x n = batch x inputs x outputs) on the
// Highway backend's targets and, when built with SIMDIFF_BENCH_OPENBLAS=ON, OpenBLAS's
// cblas_sgemm on one thread in the same run (the baseline the kernel is judged against).
//
// Names: `Gemm/<where>/<m>x<k>x<n>` for C = A B (float), `GemmBiasRelu/...` for the fused dense
// forward, `Gemm_TN/...`, `Gemm_NT/...` for the backward products dW = X^T dY and dX = dY W^T.
// Counter GFLOPs: 2 m n k per second (1e9/s), of CPU time except for the `threads:N` rows, which
// use wall-clock time (CPU time is the steadier measure on a shared machine; threads need the
// wall clock).
//
//   gemm_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//              --benchmark_enable_random_interleaving=true --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "simdiff/simdiff.h"

#ifdef SIMDIFF_BENCH_WITH_OPENBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int num_threads);
#endif

namespace {

struct Dims {
  std::size_t m, k, n;
  [[nodiscard]] std::string name() const {
    return std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
  }
};

const std::vector<Dims> kShapes = {
    {32, 64, 32}, {128, 784, 256}, {256, 256, 256}, {1024, 1024, 1024}};

struct Operands {
  std::vector<float> a, b, c, bias;
  explicit Operands(const Dims& d) : a(d.m * d.k), b(d.k * d.n), c(d.m * d.n), bias(d.n) {
    std::mt19937 engine(42);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto* v : {&a, &b, &c, &bias}) {
      for (float& x : *v) x = u(engine);
    }
  }
};

void report(benchmark::State& state, const Dims& d) {
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * d.m * d.n * d.k * 1e-9,
                                                benchmark::Counter::kIsIterationInvariantRate);
}

enum class Op { nn, bias_relu, tn, nt };

// threads == 0: the default setting (1 thread), CPU time; else that many threads, wall-clock time
// (the other threads' work is not on the measured thread's clock).
void register_simdiff(const Dims& d, simdiff::Backend backend, const std::string& target, Op op,
                      std::size_t threads = 0) {
  const char* names[] = {"Gemm", "GemmBiasRelu", "Gemm_TN", "Gemm_NT"};
  const std::string name = std::string(names[static_cast<int>(op)]) + "/" +
                           std::string(simdiff::to_string(backend)) + ":" + target + "/" +
                           (threads > 0 ? "threads:" + std::to_string(threads) + "/" : "") +
                           d.name();
  auto* registered = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    simdiff::set_backend(backend, target);
    const simdiff::ScopedNumThreads scoped(threads > 0 ? threads : 1);
    Operands o(d);
    using simdiff::Transpose;
    const auto N = Transpose::no, T = Transpose::yes;
    for (auto _ : state) {
      switch (op) {
        case Op::nn:
          simdiff::gemm(N, N, d.m, d.n, d.k, 1.f, o.a, d.k, o.b, d.n, 0.f, o.c, d.n);
          break;
        case Op::bias_relu:
          simdiff::gemm_bias_activation(N, N, d.m, d.n, d.k, 1.f, o.a, d.k, o.b, d.n, 0.f, o.bias,
                                        simdiff::Activation::relu, o.c, d.n);
          break;
        case Op::tn:  // A stored [k x m]
          simdiff::gemm(T, N, d.m, d.n, d.k, 1.f, o.a, d.m, o.b, d.n, 0.f, o.c, d.n);
          break;
        case Op::nt:  // B stored [n x k]
          simdiff::gemm(N, T, d.m, d.n, d.k, 1.f, o.a, d.k, o.b, d.k, 0.f, o.c, d.n);
          break;
      }
      benchmark::ClobberMemory();
    }
    report(state, d);
  });
  if (threads > 0) registered->UseRealTime();
}

#ifdef SIMDIFF_BENCH_WITH_OPENBLAS
void register_openblas(const Dims& d, Op op) {
  const char* names[] = {"Gemm", "GemmBiasRelu", "Gemm_TN", "Gemm_NT"};
  const std::string name = std::string(names[static_cast<int>(op)]) + "/openblas/" + d.name();
  auto* registered = benchmark::RegisterBenchmark(name.c_str(), [=](benchmark::State& state) {
    openblas_set_num_threads(1);
    Operands o(d);
    const int m = static_cast<int>(d.m), n = static_cast<int>(d.n), k = static_cast<int>(d.k);
    for (auto _ : state) {
      switch (op) {
        case Op::nn:
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, o.a.data(), k,
                      o.b.data(), n, 0.f, o.c.data(), n);
          break;
        case Op::bias_relu:
          // What a dense forward costs with BLAS: the product, then a pass for bias and relu.
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, o.a.data(), k,
                      o.b.data(), n, 0.f, o.c.data(), n);
          for (std::size_t i = 0; i < d.m; ++i) {
            float* row = o.c.data() + i * d.n;
            for (std::size_t j = 0; j < d.n; ++j) {
              const float v = row[j] + o.bias[j];
              row[j] = v < 0 ? 0 : v;
            }
          }
          break;
        case Op::tn:
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, m, n, k, 1.f, o.a.data(), m,
                      o.b.data(), n, 0.f, o.c.data(), n);
          break;
        case Op::nt:
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.f, o.a.data(), k,
                      o.b.data(), k, 0.f, o.c.data(), n);
          break;
      }
      benchmark::ClobberMemory();
    }
    report(state, d);
  });
  (void)registered;
}
#endif

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  const auto targets = simdiff::supported_targets(simdiff::Backend::highway);
  for (const Op op : {Op::nn, Op::bias_relu, Op::tn, Op::nt}) {
    for (const Dims& d : kShapes) {
#ifdef SIMDIFF_BENCH_WITH_OPENBLAS
      register_openblas(d, op);
#endif
      // The best target is what users get; the others (SSE4, ...) only for the plain product.
      for (std::size_t t = 0; t < (op == Op::nn ? targets.size() : 1); ++t) {
        if (targets[t] == "EMU128" || targets[t] == "SCALAR") continue;
        register_simdiff(d, simdiff::Backend::highway, targets[t], op);
      }
    }
  }
  // 1 and 2 threads on the best target, around the size where splitting starts to pay
  // (kMinMacsPerThread in lib/gemm/gemm.cc: 2^20 multiply-adds per thread).
  const std::vector<Dims> thread_shapes = {
      {64, 128, 64}, {128, 128, 128}, {128, 256, 128}, {128, 784, 256}, {1024, 1024, 1024}};
  for (const Dims& d : thread_shapes) {
    for (const std::size_t threads : {1, 2}) {
      register_simdiff(d, simdiff::Backend::highway, targets.front(), Op::nn, threads);
    }
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
