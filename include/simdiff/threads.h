// How many threads simdiff's kernels may use.
//
// The default is 1: simdiff starts no thread unless the application asks, so an application with
// threads of its own is never oversubscribed. With n > 1, large calls split their work over up
// to n threads (the calling thread and n - 1 workers of simdiff's own pool, started on first use
// and kept): products (gemm, gemm_bias_activation) by rows or columns; the row-wise primitives
// (softmax, log_softmax, logsumexp, row_max, row_argmax and their backward passes) and the
// losses by rows; the element-wise functions and Optimizer::apply by elements. Small calls stay
// on the calling thread, where splitting would cost more than it saves (the sizes are listed in
// README.md, "Matrix products and threads"). Results are bit-identical for every thread count:
// the pieces depend only on the shape, and sums over them (a loss over the rows, a gradient norm)
// are taken in a fixed order.
//
// The setting is process-wide; ScopedNumThreads overrides it for the current thread only. A call
// made from inside simdiff's pool, or while another thread's call occupies the pool, runs on its
// calling thread alone (same results).
#pragma once

#include <cstddef>
#include <optional>

namespace simdiff {

/// The largest thread count accepted.
inline constexpr std::size_t kMaxThreads = 256;

/// Sets the process-wide thread count: n in [1, kMaxThreads], or 0 for every hardware thread
/// (std::thread::hardware_concurrency(), at least 1). Throws std::invalid_argument above
/// kMaxThreads.
void set_num_threads(std::size_t n);

/// The thread count in effect for the calling thread (its ScopedNumThreads if any, else the
/// process-wide one), with 0 resolved to the hardware thread count.
[[nodiscard]] std::size_t num_threads();

/// Overrides the thread count for the calling thread while alive (n as for set_num_threads), then
/// restores what was in effect before. Nests.
class ScopedNumThreads {
 public:
  explicit ScopedNumThreads(std::size_t n);
  ~ScopedNumThreads();
  ScopedNumThreads(const ScopedNumThreads&) = delete;
  ScopedNumThreads& operator=(const ScopedNumThreads&) = delete;

 private:
  std::optional<std::size_t> previous_;
};

}  // namespace simdiff
