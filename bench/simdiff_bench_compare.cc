// Comparison with other libraries, single-threaded, at the shapes of simdiff_bench: PyTorch's
// at::softmax_out, at::log_softmax_out and at::logsumexp_out (libtorch-dev) and oneDNN's softmax
// and log-softmax primitives (libdnnl-dev), next to simdiff's best Highway target and its AVX2
// target. Names: `Softmax/torch/256x1000`, `Softmax/onednn/256x1000`,
// `Softmax/highway:AVX2/256x1000`; counters as in simdiff_bench.cc.
//
// Built only with -DSIMDIFF_BENCH_COMPARE=ON, and only with the libraries that are installed
// (SIMDIFF_COMPARE_TORCH, SIMDIFF_COMPARE_ONEDNN), so that the main build never depends on them.
// Run it like simdiff_bench:
//
//   simdiff_bench_compare --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true
//                         --benchmark_report_aggregates_only=true --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <unistd.h>  // execv

#include "bench/benchmark_support.h"
#include "simdiff/simdiff.h"

#ifdef SIMDIFF_COMPARE_TORCH
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#endif
#ifdef SIMDIFF_COMPARE_ONEDNN
#include <oneapi/dnnl/dnnl.hpp>
#endif

namespace simdiff::bench {
namespace {

void register_simdiff(const Shape& shape) {
  // The best Highway target and AVX2, the target the performance goals are stated for.
  std::vector<Selection> selections;
  for (const auto& selection : all_selections()) {
    if (selection.backend == Backend::highway &&
        (selections.empty() || selection.target == "AVX2")) {
      selections.push_back(selection);
    }
  }
  for (const auto& selection : selections) {
    const auto name = [&](std::string_view op) {
      return benchmark_name(op, selection.name(), shape.name());
    };
    register_benchmark<float>(
        name("Softmax"), &selection, shape, 2, Bound::copy, [](Workspace<float>& w, MatrixShape m) {
          return [x = w.x(), y = w.y(), m] { simdiff::softmax(std::span<const float>(x), m, y); };
        });
    register_benchmark<float>(name("LogSoftmax"), &selection, shape, 2, Bound::copy,
                              [](Workspace<float>& w, MatrixShape m) {
                                return [x = w.x(), y = w.y(), m] {
                                  simdiff::log_softmax(std::span<const float>(x), m, y);
                                };
                              });
    register_benchmark<float>(name("LogSumExp"), &selection, shape, 1, Bound::read,
                              [](Workspace<float>& w, MatrixShape m) {
                                return [x = w.x(), out = w.per_row(), m] {
                                  simdiff::logsumexp(std::span<const float>(x), m, out);
                                };
                              });
  }
}

#ifdef SIMDIFF_COMPARE_TORCH
/// A tensor viewing `values` (no copy), so PyTorch reads and writes the workspace's buffers.
at::Tensor view(std::span<float> values, std::vector<std::int64_t> sizes) {
  return at::from_blob(values.data(), sizes, at::TensorOptions().dtype(at::kFloat));
}

void register_torch(const Shape& shape) {
  const auto name = [&](std::string_view op) { return benchmark_name(op, "torch", shape.name()); };
  const std::vector<std::int64_t> matrix = {static_cast<std::int64_t>(shape.rows),
                                            static_cast<std::int64_t>(shape.cols)};
  register_benchmark<float>(name("Softmax"), nullptr, shape, 2, Bound::copy,
                            [matrix](Workspace<float>& w, MatrixShape) {
                              return [x = view(w.x(), matrix), y = view(w.y(), matrix)]() mutable {
                                at::softmax_out(y, x, 1);
                              };
                            });
  register_benchmark<float>(name("LogSoftmax"), nullptr, shape, 2, Bound::copy,
                            [matrix](Workspace<float>& w, MatrixShape) {
                              return [x = view(w.x(), matrix), y = view(w.y(), matrix)]() mutable {
                                at::log_softmax_out(y, x, 1);
                              };
                            });
  register_benchmark<float>(name("LogSumExp"), nullptr, shape, 1, Bound::read,
                            [matrix](Workspace<float>& w, MatrixShape) {
                              return [x = view(w.x(), matrix),
                                      out = view(w.per_row(), {matrix[0]})]() mutable {
                                at::logsumexp_out(out, x, {1}, /*keepdim=*/false);
                              };
                            });
}
#endif

#ifdef SIMDIFF_COMPARE_ONEDNN
/// oneDNN's softmax or log-softmax primitive (`Primitive` is dnnl::softmax_forward or
/// dnnl::logsoftmax_forward) over the rows of the workspace, executed on one CPU stream.
template <class Primitive>
void register_onednn(const std::string& name, const Shape& shape) {
  register_benchmark<float>(
      name, nullptr, shape, 2, Bound::copy, [](Workspace<float>& w, MatrixShape m) {
        static const dnnl::engine engine(dnnl::engine::kind::cpu, 0);
        const dnnl::memory::desc layout(
            {static_cast<dnnl::memory::dim>(m.rows), static_cast<dnnl::memory::dim>(m.cols)},
            dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab);
        const typename Primitive::primitive_desc description(
            typename Primitive::desc(dnnl::prop_kind::forward_inference, layout, /*axis=*/1),
            engine);
        const std::unordered_map<int, dnnl::memory> arguments = {
            {DNNL_ARG_SRC, dnnl::memory(layout, engine, w.x().data())},
            {DNNL_ARG_DST, dnnl::memory(layout, engine, w.y().data())}};
        return [primitive = Primitive(description), stream = dnnl::stream(engine),
                arguments]() mutable {
          primitive.execute(stream, arguments);
          stream.wait();
        };
      });
}
#endif

}  // namespace
}  // namespace simdiff::bench

int main(int argc, char** argv) {
  // One thread for PyTorch and oneDNN. Their OpenMP runtime reads OMP_NUM_THREADS when it is
  // loaded, before main runs, so set it and start the program again.
  const char* threads = std::getenv("OMP_NUM_THREADS");
  if (threads == nullptr || std::strcmp(threads, "1") != 0) {
    setenv("OMP_NUM_THREADS", "1", /*overwrite=*/1);
    execv("/proc/self/exe", argv);
    std::perror("simdiff_bench_compare: cannot restart with OMP_NUM_THREADS=1");
    return 1;
  }

  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
#ifdef SIMDIFF_COMPARE_TORCH
  at::set_num_threads(1);
  benchmark::AddCustomContext("torch_threads", std::to_string(at::get_num_threads()));
#endif

  using namespace simdiff::bench;
  measure_bandwidth_once();
  for (const Shape& shape : kFloatShapes) {
    register_simdiff(shape);
#ifdef SIMDIFF_COMPARE_TORCH
    register_torch(shape);
#endif
#ifdef SIMDIFF_COMPARE_ONEDNN
    register_onednn<dnnl::softmax_forward>(benchmark_name("Softmax", "onednn", shape.name()),
                                           shape);
    register_onednn<dnnl::logsoftmax_forward>(benchmark_name("LogSoftmax", "onednn", shape.name()),
                                              shape);
#endif
  }

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
