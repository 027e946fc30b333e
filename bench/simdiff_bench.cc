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
#include <map>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "bench/benchmark_support.h"
#include "bench/reference_kernels.h"
#include "lib/kernel_table.h"
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

// ---- Fused losses ------------------------------------------------------------------------------
// The fused loss kernels (lib/kernel_table.h: what the loss classes run) beside an unfused
// baseline on the same backend, built from the public primitives the way one would compose them:
// log_softmax, then the label's (or the targets') terms gathered in a loop, then a separate
// backward pass, softmax - targets from exp of the log-softmax; for the sigmoid loss, softplus and
// sigmoid calls plus a loop. Names: `SparseCrossEntropyFwdBwd/highway:AVX2/256x1000` (fused) and
// `SparseCrossEntropyFwdBwdUnfused/highway:AVX2/256x1000`. Forward rows compute the per-sample
// losses only. Gradient scale 1 / batch, as for Keras' default reduction, and no smoothing.

const std::vector<Shape> kLossShapes = {{32, 10}, {256, 1000}, {64, 32000}, {4096, 4096}};
// Sigmoid cross-entropy over n = 2^10, 2^16, 2^22 elements as [n / 16 x 16], and 2^16 as
// [n x 1], a batch of single sigmoid outputs (binary classification).
const std::vector<Shape> kBinaryLossShapes = {{std::size_t{1} << 6, 16},
                                              {std::size_t{1} << 12, 16},
                                              {std::size_t{1} << 18, 16},
                                              {std::size_t{1} << 16, 1}};

/// The loss inputs and outputs of one shape beside its Workspace (x): labels, one-hot-like soft
/// targets, per-row scales, per-row losses, a gradient and a scratch matrix for the baselines.
struct LossBuffers {
  std::vector<std::int64_t> labels;
  AlignedBuffer<float> targets, binary_targets, scale, loss, grad, scratch;

  explicit LossBuffers(Shape shape)
      : targets(shape.elements()),
        binary_targets(shape.elements()),
        scale(shape.rows),
        loss(shape.rows),
        grad(shape.elements()),
        scratch(shape.elements()) {
    std::mt19937 generator(7);
    for (std::size_t r = 0; r < shape.rows; ++r) {
      labels.push_back(static_cast<std::int64_t>(generator() % shape.cols));
      scale.data()[r] = 1.0f / static_cast<float>(shape.rows);
      // Soft targets: 0.9 on the label, the rest spread evenly.
      for (std::size_t c = 0; c < shape.cols; ++c) {
        const bool hot = c == static_cast<std::size_t>(labels.back());
        targets.data()[r * shape.cols + c] =
            shape.cols == 1 ? 1.0f : (hot ? 0.9f : 0.1f / static_cast<float>(shape.cols - 1));
        binary_targets.data()[r * shape.cols + c] = static_cast<float>(generator() % 2);
      }
    }
  }

  static LossBuffers& of(Shape shape) {
    static std::map<Shape, std::unique_ptr<LossBuffers>> buffers;
    auto& slot = buffers[shape];
    if (!slot) slot = std::make_unique<LossBuffers>(shape);
    return *slot;
  }
};

const detail::TypedKernels<float>& selected_kernels() {
  return detail::active_kernels().of<float>();
}

/// Unfused sparse cross-entropy: log_softmax, the label's term gathered per row, and with
/// `backward` grad = scale (exp(log_softmax) - onehot) in separate passes.
void unfused_sparse_cross_entropy(std::span<const float> x, MatrixShape m, LossBuffers& b,
                                  bool backward) {
  const std::span<float> log_probabilities = b.scratch.span();
  simdiff::log_softmax(x, m, log_probabilities);
  for (std::size_t r = 0; r < m.rows; ++r) {
    b.loss.data()[r] = -log_probabilities[r * m.cols + static_cast<std::size_t>(b.labels[r])];
  }
  if (!backward) return;
  simdiff::exp(std::span<const float>(log_probabilities), b.grad.span());
  for (std::size_t r = 0; r < m.rows; ++r) {
    float* g = b.grad.data() + r * m.cols;
    const float s = b.scale.data()[r];
    for (std::size_t c = 0; c < m.cols; ++c) g[c] *= s;
    g[b.labels[r]] -= s;
  }
}

/// Unfused categorical cross-entropy: log_softmax, -sum t log p per row, and with `backward`
/// grad = scale (exp(log_softmax) sum(t) - t).
void unfused_dense_cross_entropy(std::span<const float> x, MatrixShape m, LossBuffers& b,
                                 bool backward) {
  const std::span<float> log_probabilities = b.scratch.span();
  simdiff::log_softmax(x, m, log_probabilities);
  std::vector<float> target_sums(backward ? m.rows : 0);
  for (std::size_t r = 0; r < m.rows; ++r) {
    const float* t = b.targets.data() + r * m.cols;
    const float* y = log_probabilities.data() + r * m.cols;
    float loss = 0;
    float target_sum = 0;
    for (std::size_t c = 0; c < m.cols; ++c) {
      loss -= t[c] * y[c];
      target_sum += t[c];
    }
    b.loss.data()[r] = loss;
    if (backward) target_sums[r] = target_sum;
  }
  if (!backward) return;
  simdiff::exp(std::span<const float>(log_probabilities), b.grad.span());
  for (std::size_t r = 0; r < m.rows; ++r) {
    float* g = b.grad.data() + r * m.cols;
    const float* t = b.targets.data() + r * m.cols;
    const float s = b.scale.data()[r];
    for (std::size_t c = 0; c < m.cols; ++c) g[c] = s * (g[c] * target_sums[r] - t[c]);
  }
}

/// Unfused sigmoid cross-entropy: softplus(x) - x t averaged per row, grad = scale / cols
/// (sigmoid(x) - t).
void unfused_binary_cross_entropy(std::span<const float> x, MatrixShape m, LossBuffers& b) {
  simdiff::softplus(x, b.scratch.span());
  simdiff::sigmoid(x, b.grad.span());
  for (std::size_t r = 0; r < m.rows; ++r) {
    const float* sp = b.scratch.data() + r * m.cols;
    const float* xr = x.data() + r * m.cols;
    const float* t = b.binary_targets.data() + r * m.cols;
    float* g = b.grad.data() + r * m.cols;
    const float s = b.scale.data()[r] / static_cast<float>(m.cols);
    float sum = 0;
    for (std::size_t c = 0; c < m.cols; ++c) {
      sum += sp[c] - xr[c] * t[c];
      g[c] = s * (g[c] - t[c]);
    }
    b.loss.data()[r] = sum / static_cast<float>(m.cols);
  }
}

void register_losses(const std::vector<Selection>& selections) {
  for (const Shape& shape : kLossShapes) {
    for (const auto& selection : selections) {
      for (const bool unfused : {false, true}) {
        const auto name = [&](std::string op) {
          if (unfused) op.append("Unfused");
          return benchmark_name(op, selection.name(), shape.name());
        };
        // Traffic: x read (sparse); x and targets read (dense); plus the gradient written.
        for (const bool backward : {false, true}) {
          register_benchmark<float>(
              name(backward ? "SparseCrossEntropyFwdBwd" : "SparseCrossEntropy"), &selection, shape,
              backward ? 2 : 1, backward ? Bound::copy : Bound::read,
              [unfused, backward](Workspace<float>& w, MatrixShape m) {
                return [x = w.x(), m, unfused, backward, &b = LossBuffers::of({m.rows, m.cols})] {
                  if (unfused) {
                    unfused_sparse_cross_entropy(x, m, b, backward);
                  } else {
                    selected_kernels().sparse_softmax_cross_entropy(
                        x.data(), b.labels.data(), b.scale.data(), 0.0f, b.loss.data(),
                        backward ? b.grad.data() : nullptr, m.rows, m.cols, m.cols);
                  }
                };
              });
          register_benchmark<float>(
              name(backward ? "CategoricalCrossEntropyFwdBwd" : "CategoricalCrossEntropy"),
              &selection, shape, backward ? 3 : 2, backward ? Bound::copy : Bound::read,
              [unfused, backward](Workspace<float>& w, MatrixShape m) {
                return [x = w.x(), m, unfused, backward, &b = LossBuffers::of({m.rows, m.cols})] {
                  if (unfused) {
                    unfused_dense_cross_entropy(x, m, b, backward);
                  } else {
                    selected_kernels().softmax_cross_entropy(
                        x.data(), b.targets.data(), b.scale.data(), 0.0f, b.loss.data(),
                        backward ? b.grad.data() : nullptr, m.rows, m.cols, m.cols);
                  }
                };
              });
        }
      }
    }
  }
  for (const Shape& shape : kBinaryLossShapes) {
    for (const auto& selection : selections) {
      for (const bool unfused : {false, true}) {
        const std::string op =
            unfused ? "BinaryCrossEntropyFwdBwdUnfused" : "BinaryCrossEntropyFwdBwd";
        // Reads x and the targets, writes the gradient.
        register_benchmark<float>(
            benchmark_name(op, selection.name(), shape.name()), &selection, shape, 3, Bound::copy,
            [unfused](Workspace<float>& w, MatrixShape m) {
              return [x = w.x(), m, unfused, &b = LossBuffers::of({m.rows, m.cols})] {
                if (unfused) {
                  unfused_binary_cross_entropy(x, m, b);
                } else {
                  selected_kernels().sigmoid_cross_entropy(x.data(), b.binary_targets.data(),
                                                           b.scale.data(), 0.0f, b.loss.data(),
                                                           b.grad.data(), m.rows, m.cols, m.cols);
                }
              };
            });
      }
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
  register_losses(selections);
  register_memory_references();

  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
