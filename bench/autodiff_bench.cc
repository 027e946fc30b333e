// Google Benchmark suite of the autodiff tape (<simdiff/tape.h>, <simdiff/ops.h>) on the default
// backend (Highway, best target; SIMDIFF_BACKEND selects another):
//
// - TapeChain/<ops>/forward: a chain of 1000 ops on one-element tensors recorded on a reset tape;
//   TapeChain/<ops>/backward: the reverse pass over that chain (backward with retain, so that the
//   same tape is replayed). The ns_per_op counter is the time per recorded op: the tape's own
//   overhead, as the arithmetic on one element is negligible. `mul_add` alternates x * w and
//   x + b (binary ops with operand checks and broadcasting), `tanh` runs the kernel-table op.
// - MlpStep/64-32-10/batch32: one full training step of a 64-32-10 perceptron, relu, sparse
//   categorical cross-entropy from logits, batch 32: reset, zero_grad, forward, backward.
//
//   simdiff_autodiff_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// and quote the medians.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <vector>

#include "simdiff/simdiff.h"

namespace simdiff::bench {
namespace {

constexpr int kChainLength = 1000;

enum class Chain { mul_add, tanh };

template <class T>
struct ChainInputs {
  Tensor<T> x{Shape::vector(1), T(0.5)};
  Parameter<T> w{Tensor<T>(Shape::vector(1), T(0.999))};
  Parameter<T> b{Tensor<T>(Shape::vector(1), T(0.001))};
};

template <class T>
Var<T> record_chain(Tape<T>& tape, Chain chain, ChainInputs<T>& in) {
  Var<T> x = tape.input(in.x);
  if (chain == Chain::tanh) {
    for (int i = 0; i < kChainLength; ++i) x = simdiff::tanh(x);
    return x;
  }
  const Var<T> wv = tape.parameter(in.w);
  const Var<T> bv = tape.parameter(in.b);
  for (int i = 0; i < kChainLength; i += 2) x = x * wv + bv;
  return x;
}

void set_per_op_counter(benchmark::State& state) {
  // Seconds per op: the inverse of the rate of kChainLength ops per iteration.
  state.counters["ns_per_op"] = benchmark::Counter(
      kChainLength, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
}

template <class T>
void chain_forward(benchmark::State& state, Chain chain) {
  Tape<T> tape;
  ChainInputs<T> in;
  record_chain(tape, chain, in);  // warm: the arena and the node list reach their size
  for (auto _ : state) {
    tape.reset();
    benchmark::DoNotOptimize(record_chain(tape, chain, in));
  }
  set_per_op_counter(state);
}

template <class T>
void chain_backward(benchmark::State& state, Chain chain) {
  Tape<T> tape;
  ChainInputs<T> in;
  const Var<T> y = record_chain(tape, chain, in);
  tape.backward(y, true);
  for (auto _ : state) {
    tape.backward(y, true);
    benchmark::ClobberMemory();
  }
  set_per_op_counter(state);
}

// The 64-32-10 perceptron: x [32 x 64] -> relu(x W1 + b1) -> h W2 + b2 -> sparse categorical
// cross-entropy from logits against 32 labels.
template <class T>
struct Mlp {
  static constexpr std::size_t kBatch = 32, kIn = 64, kHidden = 32, kClasses = 10;
  Parameter<T> w1{Tensor<T>(Shape::matrix(kIn, kHidden))};
  Parameter<T> b1{Tensor<T>(Shape::vector(kHidden))};
  Parameter<T> w2{Tensor<T>(Shape::matrix(kHidden, kClasses))};
  Parameter<T> b2{Tensor<T>(Shape::vector(kClasses))};
  Tensor<T> x{Shape::matrix(kBatch, kIn)};
  std::vector<T> labels = std::vector<T>(kBatch);
  Loss loss = SparseCategoricalCrossentropy{.from_logits = true};

  Mlp() {
    std::mt19937_64 engine(1);
    std::normal_distribution<double> normal(0, 1);
    const auto fill = [&](Tensor<T>& t, double scale) {
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<T>(scale * normal(engine));
    };
    fill(w1.value(), 0.18);
    fill(w2.value(), 0.25);
    fill(x, 1);
    for (std::size_t i = 0; i < kBatch; ++i) labels[i] = static_cast<T>(i % kClasses);
  }

  T step(Tape<T>& tape) {
    tape.reset();
    for (Parameter<T>* p : {&w1, &b1, &w2, &b2}) p->zero_grad();
    const Var<T> h = relu(matmul(tape.constant(x), tape.parameter(w1)) + tape.parameter(b1));
    const Var<T> logits = matmul(h, tape.parameter(w2)) + tape.parameter(b2);
    const Var<T> l = compute_loss(loss, logits, std::span<const T>(labels));
    tape.backward(l);
    return l.item();
  }
};

template <class T>
void mlp_step(benchmark::State& state) {
  Mlp<T> mlp;
  Tape<T> tape;
  mlp.step(tape);  // warm: arena, node list, the loss's scratch
  for (auto _ : state) benchmark::DoNotOptimize(mlp.step(tape));
}

}  // namespace
}  // namespace simdiff::bench

int main(int argc, char** argv) {
  using simdiff::bench::Chain;
  benchmark::Initialize(&argc, argv);
  benchmark::RegisterBenchmark("TapeChain/mul_add/forward", simdiff::bench::chain_forward<float>,
                               Chain::mul_add);
  benchmark::RegisterBenchmark("TapeChain/mul_add/backward", simdiff::bench::chain_backward<float>,
                               Chain::mul_add);
  benchmark::RegisterBenchmark("TapeChain/tanh/forward", simdiff::bench::chain_forward<float>,
                               Chain::tanh);
  benchmark::RegisterBenchmark("TapeChain/tanh/backward", simdiff::bench::chain_backward<float>,
                               Chain::tanh);
  benchmark::RegisterBenchmark("MlpStep/64-32-10/batch32", simdiff::bench::mlp_step<float>);
  benchmark::RegisterBenchmark("MlpStep_f64/64-32-10/batch32", simdiff::bench::mlp_step<double>);
  benchmark::AddCustomContext(
      "simdiff_backend", std::string(simdiff::to_string(simdiff::backend_info().backend)) + ":" +
                             simdiff::backend_info().target);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
