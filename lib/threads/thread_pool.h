// simdiff's own thread pool: a fixed set of workers that run the indices of one parallel loop at a
// time. Our own (about 150 lines) rather than a library's: Highway 1.0.3 has no thread pool, and
// the loop needs only what a GEMM split needs: no allocation per call (a training step must not
// touch the heap), workers kept across calls, and a caller that works too.
#pragma once

#include <cstddef>

namespace simdiff::detail {

/// Runs task(context, i) for every i in [0, count), each exactly once, on up to `threads` threads
/// (the caller and threads - 1 pool workers), and returns when all are done. Indices are handed
/// out dynamically: which thread runs an index is not fixed, so a task must write only what its
/// index owns. Runs everything on the caller when threads <= 1, count <= 1, when called from a
/// pool worker (nested loops) or while another caller's loop occupies the pool. `task` must not
/// throw. Throws std::system_error only if a worker thread cannot be started (before any task
/// runs).
void parallel_for(std::size_t count, std::size_t threads, void (*task)(void* context, std::size_t),
                  void* context);

/// Runs f(i) for i in [0, count) as parallel_for does.
template <class F>
void parallel_for(std::size_t count, std::size_t threads, F& f) {
  parallel_for(
      count, threads, [](void* context, std::size_t i) { (*static_cast<F*>(context))(i); }, &f);
}

/// Workers the pool has started so far, and loops it has run on more than one thread (for tests).
std::size_t pool_worker_count();
std::size_t pool_loop_count();

}  // namespace simdiff::detail
