// How the row-wise, loss, element-wise and optimizer kernels split over threads: the rows (or
// elements) of a call are cut into contiguous chunks whose size depends only on the shape, never
// on the thread count, and the chunks run on up to simdiff::num_threads() threads through
// detail::parallel_for. Every chunk is computed the same way whichever thread runs it, so the
// results are bit-identical for every thread count; a reduction over chunks sums per-chunk
// partials in chunk order.
//
// Thresholds, from bench/threads_bench.cc (g++ 12 -O2, Highway AVX2 target, rows of 10 columns;
// measured with every threshold lowered to 1024 so that small calls split too, while the
// machine's other core was busy with other processes, so the 2-thread rows are noisy): one loop
// of two trivial indices on 2 threads (ParallelFor/threads:2: wake a worker, wait for it) takes
// 7.8 us of wall time; at 1 thread softmax costs 1.0 ns per element, the fused sparse softmax
// cross-entropy with its gradient 2.3 ns, exp 0.42 ns and an Adam update 0.42 ns. A thread must
// receive about twice the round trip of work (16 us) for a split to pay: 16384 elements of a row
// kernel, 32768 of an element-wise or optimizer kernel. On 2 threads, above that:
// SparseCrossEntropy/65536 149 -> 101 us, Exp/262144 111 -> 75 us; below it, slower:
// Exp/16384 6.7 -> 11.7 us, Softmax/8192 8.1 -> 15.6 us.
#pragma once

#include <algorithm>
#include <cstddef>

#include "lib/threads/thread_pool.h"
#include "simdiff/threads.h"

namespace simdiff::detail {

/// Minimum work (elements: rows x cols for row kernels) that one thread must receive before a
/// call is split at all; below twice this, a call runs on the calling thread in one piece.
struct SplitThreshold {
  std::size_t elements_per_thread;
};

// Softmax, log_softmax, logsumexp, row max/argmax and their backward passes, and the losses'
// row loops: 1-2.3 ns per element (an exp per element, two or three passes over each row).
inline constexpr SplitThreshold kRowwiseSplit{16384};
// The public element-wise functions (exp, log, log1p, sigmoid, softplus, log_sigmoid): about
// 0.4 ns per element (exp).
inline constexpr SplitThreshold kElementwiseSplit{32768};
// Optimizer updates (Adam, RMSprop, SGD, decay, clip, scale, sum of squares): about 0.4 ns per
// element (Adam), memory bound on 3-5 streams.
inline constexpr SplitThreshold kOptimizerSplit{32768};

/// Elements per chunk of a split element-wise call: a multiple of 64 bytes, so that a buffer that
/// starts on a cache line splits on cache lines.
inline constexpr std::size_t kChunkBytes = 16384;

/// A split of `count` items (rows or elements) into `chunks` contiguous chunks of `size` items
/// (the last one shorter), run on `threads` threads. chunks == 1: one piece on the caller.
struct Chunks {
  std::size_t size;
  std::size_t chunks;
  std::size_t threads;
};

/// The split of `count` items of `work_per_item` elements each. The chunking depends only on
/// (count, work_per_item, chunk_items); the thread count only on how many threads may run them.
inline Chunks chunks_for(std::size_t count, std::size_t work_per_item, std::size_t chunk_items,
                         SplitThreshold threshold) {
  const std::size_t work = count * work_per_item;
  if (count < 2 || work < 2 * threshold.elements_per_thread) return {count, 1, 1};
  const std::size_t size = std::clamp<std::size_t>(chunk_items, 1, count);
  const std::size_t chunks = (count + size - 1) / size;
  const std::size_t by_work = work / threshold.elements_per_thread;
  const std::size_t threads = std::min({num_threads(), by_work, chunks});
  return {size, chunks, std::max<std::size_t>(threads, 1)};
}

/// Runs f(begin, end) for every chunk of `split` over [0, count).
template <class F>
void run_chunks(std::size_t count, const Chunks& split, F& f) {
  if (split.chunks <= 1) {
    if (count > 0) f(std::size_t{0}, count);
    return;
  }
  auto task = [&](std::size_t i) {
    const std::size_t begin = i * split.size;
    f(begin, std::min(count, begin + split.size));
  };
  parallel_for(split.chunks, split.threads, task);
}

/// As run_chunks, for work whose results do not depend on where chunks end (every row or element
/// computed on its own): on one thread the whole range is one call, so that a kernel sees the
/// whole matrix (its row groups, prefetching across rows, streaming stores of a large output)
/// rather than thousands of one-row calls.
template <class F>
void run_independent_chunks(std::size_t count, const Chunks& split, F& f) {
  if (split.threads <= 1) {
    if (count > 0) f(std::size_t{0}, count);
    return;
  }
  run_chunks(count, split, f);
}

/// The split of `rows` rows of `cols` elements: chunks of about kChunkBytes / 4 elements of
/// whole rows.
inline Chunks row_chunks(std::size_t rows, std::size_t cols, SplitThreshold threshold) {
  const std::size_t per_chunk = kChunkBytes / sizeof(float);
  return chunks_for(
      rows, cols, std::max<std::size_t>(1, per_chunk / std::max<std::size_t>(1, cols)), threshold);
}

/// Runs f(begin, end) over row ranges of [0, rows) (see row_chunks); each row's results must
/// not depend on the range it is computed in (see run_independent_chunks).
template <class F>
void parallel_rows(std::size_t rows, std::size_t cols, SplitThreshold threshold, F&& f) {
  run_independent_chunks(rows, row_chunks(rows, cols, threshold), f);
}

/// The split of `n` elements of `element_bytes` bytes: chunks of kChunkBytes.
inline Chunks element_chunks(std::size_t n, std::size_t element_bytes, SplitThreshold threshold) {
  return chunks_for(n, 1, kChunkBytes / element_bytes, threshold);
}

/// Runs f(begin, end) over element ranges of [0, n) (see element_chunks); each element's result
/// must not depend on the range it is computed in (see run_independent_chunks).
template <class F>
void parallel_elements(std::size_t n, std::size_t element_bytes, SplitThreshold threshold, F&& f) {
  run_independent_chunks(n, element_chunks(n, element_bytes, threshold), f);
}

}  // namespace simdiff::detail
