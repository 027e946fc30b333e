// `simdiff bench`: a short measurement (well under a minute by default) of softmax, log-softmax
// and log-sum-exp at three shapes on one backend and target, next to the plain scalar baselines
// and the memory bandwidth of this process. For the full suite (every op, target and shape) use
// the simdiff_bench program built from bench/.
#include <CLI/CLI.hpp>
#include <array>
#include <cstddef>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <fmt/core.h>

#include "bench/reference_kernels.h"
#include "simdiff/simdiff.h"
#include "tools/commands.h"
#include "tools/timing.h"

namespace simdiff::tools {
namespace {

using bench::AlignedBuffer;

struct BenchOptions {
  std::string backend;  // empty: the selected one (SIMDIFF_BACKEND, else highway)
  std::string target;   // empty: the best target of the backend
  double seconds = 0.5;
};

/// Buffers of one shape: random logits in, a matrix and a per-row vector out.
struct Workload {
  MatrixShape shape;
  AlignedBuffer<float> x;
  AlignedBuffer<float> y;
  AlignedBuffer<float> per_row;

  explicit Workload(MatrixShape matrix)
      : shape(matrix), x(matrix.rows * matrix.cols), y(x.size()), per_row(matrix.rows) {
    bench::fill_random_logits(x.span());
  }
  [[nodiscard]] std::size_t elements() const { return x.size(); }
};

/// One kernel and its scalar baseline. `bytes_per_element` is the compulsory memory traffic
/// (inputs read once, outputs written once) per element, `reads_only` picks the bandwidth that
/// bounds it.
struct Kernel {
  std::string_view name;
  std::size_t bytes_per_element;
  bool reads_only;
  void (*run)(Workload&);
  void (*baseline)(Workload&);
};

const std::array<Kernel, 3> kKernels = {{
    {"softmax", 2 * sizeof(float), false,
     [](Workload& w) { simdiff::softmax(std::span<const float>(w.x.span()), w.shape, w.y.span()); },
     [](Workload& w) {
       bench::baseline_softmax(w.x.data(), w.y.data(), w.shape.rows, w.shape.cols);
     }},
    {"log_softmax", 2 * sizeof(float), false,
     [](Workload& w) {
       simdiff::log_softmax(std::span<const float>(w.x.span()), w.shape, w.y.span());
     },
     [](Workload& w) {
       bench::baseline_log_softmax(w.x.data(), w.y.data(), w.shape.rows, w.shape.cols);
     }},
    {"logsumexp", sizeof(float), true,
     [](Workload& w) {
       simdiff::logsumexp(std::span<const float>(w.x.span()), w.shape, w.per_row.span());
     },
     [](Workload& w) {
       bench::baseline_logsumexp(w.x.data(), w.per_row.data(), w.shape.rows, w.shape.cols);
     }},
}};

// A small classifier batch (call overhead dominates), a cache-resident batch, and a matrix four
// times larger than the last-level cache of a typical desktop (memory-bound).
constexpr std::array<MatrixShape, 3> kShapes = {{{32, 10, 0}, {256, 1000, 0}, {4096, 4096, 0}}};

// Timed batches per measurement; the median is reported.
constexpr int kBatches = 7;

/// "312 ns", "41.5 us", "10.2 ms".
std::string format_duration(double seconds) {
  const double nanoseconds = seconds * 1e9;
  if (nanoseconds < 1e3) return fmt::format("{:.0f} ns", nanoseconds);
  if (nanoseconds < 1e6) return fmt::format("{:.1f} us", nanoseconds / 1e3);
  if (nanoseconds < 1e9) return fmt::format("{:.1f} ms", nanoseconds / 1e6);
  return fmt::format("{:.2f} s", seconds);
}

constexpr std::string_view kRowFormat = "{:<12} {:<10} {:<18} {:>12} {:>11} {:>11} {:>11}\n";

void print_row(std::string_view kernel, const Workload& workload, std::string_view where,
               double seconds, const Kernel& spec, const bench::MemoryBandwidth& bandwidth,
               double baseline_seconds) {
  const auto elements = static_cast<double>(workload.elements());
  const double bytes_per_second = elements * static_cast<double>(spec.bytes_per_element) / seconds;
  const double bound = spec.reads_only ? bandwidth.read : bandwidth.copy;
  fmt::print(fmt::runtime(kRowFormat), kernel,
             fmt::format("{}x{}", workload.shape.rows, workload.shape.cols), where,
             fmt::format("{:.3f}", elements / (seconds * 1e9)), format_duration(seconds),
             fmt::format("{:.0f}%", 100 * bytes_per_second / bound),
             fmt::format("{:.1f}x", baseline_seconds / seconds));
}

/// Applies --backend and --target (an unknown target throws std::invalid_argument listing the
/// supported ones) and returns what the kernels will run on.
BackendInfo select_backend(const BenchOptions& options) {
  if (!options.backend.empty()) {
    set_backend(parse_backend(options.backend), options.target);
  } else if (!options.target.empty()) {
    set_backend(backend_info().backend, options.target);
  }
  return backend_info();
}

void run_bench(const BenchOptions& options) {
  const BackendInfo selected = select_backend(options);
  const std::string where = fmt::format("{}:{}", to_string(selected.backend), selected.target);
  fmt::print("simdiff {} bench on {}: float, {} s per kernel, median of {} batches\n",
             version_string, where, options.seconds, kBatches);
  fmt::print(
      "Times are this thread's CPU time; x baseline compares with plain scalar loops "
      "calling std::exp.\n");
  std::fflush(stdout);

  const bench::MemoryBandwidth bandwidth = bench::measure_memory_bandwidth();
  fmt::print(
      "Memory bandwidth ({} MiB, best of 8): read {:.1f} GB/s, copy {:.1f} GB/s (read + "
      "write counted)\n\n",
      bench::kBandwidthBytes >> 20, bandwidth.read / 1e9, bandwidth.copy / 1e9);
  fmt::print(fmt::runtime(kRowFormat), "kernel", "shape", "backend:target", "elements/ns",
             "time/call", "% bw bound", "x baseline");

  for (const MatrixShape& shape : kShapes) {
    Workload workload(shape);
    for (const Kernel& kernel : kKernels) {
      const double baseline_seconds =
          median_seconds_per_call([&] { kernel.baseline(workload); }, options.seconds, kBatches);
      const double seconds =
          median_seconds_per_call([&] { kernel.run(workload); }, options.seconds, kBatches);
      print_row(kernel.name, workload, where, seconds, kernel, bandwidth, baseline_seconds);
      print_row(kernel.name, workload, "baseline:std_exp", baseline_seconds, kernel, bandwidth,
                baseline_seconds);
      std::fflush(stdout);
    }
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  // Shared with the callback, which runs after parsing has filled it.
  auto options = std::make_shared<BenchOptions>();
  CLI::App* command = app.add_subcommand(
      "bench",
      "Measure softmax, log_softmax and logsumexp at 32x10, 256x1000 and 4096x4096 against a "
      "scalar baseline and the memory bandwidth");
  command
      ->add_option("--backend", options->backend,
                   "Backend to measure (default: SIMDIFF_BACKEND, else highway)")
      ->check(CLI::IsMember({"highway", "xsimd", "scalar"}));
  command->add_option("--target", options->target,
                      "Target of the backend, e.g. AVX2 (default: the best this CPU runs; "
                      "`simdiff info` lists them)");
  command
      ->add_option("--seconds", options->seconds,
                   "Measuring time per kernel and per baseline, in seconds")
      ->check(CLI::Range(0.01, 60.0))
      ->capture_default_str();
  command->callback([options] { run_bench(*options); });
}

}  // namespace simdiff::tools
