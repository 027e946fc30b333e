// The thread pool (lib/threads/thread_pool.h) and the thread-count setting (<simdiff/threads.h>):
// every index runs exactly once, nested and concurrent loops, the setting and its scoped
// override; and gemm gives bit-identical results for every thread count, on every backend and
// target. The tsan preset runs this executable under ThreadSanitizer.
#include <atomic>
#include <cstring>
#include <thread>
#include <vector>

#include "lib/threads/thread_pool.h"
#include "test_support.h"

namespace simdiff_test {
namespace {

using simdiff::detail::parallel_for;

void check_each_index_once(std::size_t count, std::size_t threads) {
  std::vector<std::atomic<int>> hits(count);
  auto task = [&](std::size_t i) { hits[i].fetch_add(1, std::memory_order_relaxed); };
  parallel_for(count, threads, task);
  std::size_t wrong = 0;
  for (const auto& h : hits) wrong += h.load() != 1;
  SIMDIFF_CHECK(wrong == 0, wrong << " of " << count << " indices did not run exactly once on "
                                  << threads << " threads");
}

BOOST_AUTO_TEST_SUITE(thread_pool)

BOOST_AUTO_TEST_CASE(every_index_runs_once) {
  for (const std::size_t threads : {1, 2, 3, 8}) {
    for (const std::size_t count : {0, 1, 2, 7, 100, 1000}) check_each_index_once(count, threads);
  }
  BOOST_TEST(simdiff::detail::pool_worker_count() >= 7);
}

// Many short loops with changing thread counts: workers join and sit out loops repeatedly.
BOOST_AUTO_TEST_CASE(repeated_loops) {
  for (std::size_t round = 0; round < 300; ++round)
    check_each_index_once(5 + round % 11, 1 + round % 5);
}

BOOST_AUTO_TEST_CASE(nested_loops_run_on_the_calling_worker) {
  std::vector<std::atomic<int>> hits(8 * 16);
  auto outer = [&](std::size_t i) {
    auto inner = [&](std::size_t j) { hits[i * 16 + j].fetch_add(1); };
    parallel_for(16, 4, inner);
  };
  parallel_for(8, 4, outer);
  for (const auto& h : hits) BOOST_TEST(h.load() == 1);
}

BOOST_AUTO_TEST_CASE(concurrent_callers) {
  std::atomic<std::size_t> failures{0};
  std::vector<std::thread> callers;
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      for (int round = 0; round < 100; ++round) {
        std::vector<int> out(64, 0);
        auto task = [&](std::size_t i) { out[i] = static_cast<int>(i) * 3; };
        parallel_for(out.size(), 3, task);
        for (std::size_t i = 0; i < out.size(); ++i) failures += out[i] != static_cast<int>(i) * 3;
      }
    });
  }
  for (auto& caller : callers) caller.join();
  BOOST_TEST(failures.load() == 0u);
}

BOOST_AUTO_TEST_CASE(thread_count_setting) {
  BOOST_TEST(simdiff::num_threads() == 1u);  // the default
  simdiff::set_num_threads(3);
  BOOST_TEST(simdiff::num_threads() == 3u);
  {
    const simdiff::ScopedNumThreads scoped(2);
    BOOST_TEST(simdiff::num_threads() == 2u);
    {
      const simdiff::ScopedNumThreads inner(0);
      const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
      BOOST_TEST(simdiff::num_threads() == hardware);
    }
    BOOST_TEST(simdiff::num_threads() == 2u);
    // The override is the calling thread's own.
    std::size_t seen = 0;
    std::thread([&] { seen = simdiff::num_threads(); }).join();
    BOOST_TEST(seen == 3u);
  }
  BOOST_TEST(simdiff::num_threads() == 3u);
  BOOST_CHECK_THROW(simdiff::set_num_threads(simdiff::kMaxThreads + 1), std::invalid_argument);
  BOOST_CHECK_THROW(simdiff::ScopedNumThreads(1000), std::invalid_argument);
  BOOST_TEST(simdiff::num_threads() == 3u);
  simdiff::set_num_threads(1);
}

BOOST_AUTO_TEST_SUITE_END()

// gemm on 1 thread, then on 2, 3, 4 and 7: every bit of C must agree.
template <class T>
void check_thread_independence(std::size_t m, std::size_t n, std::size_t k, simdiff::Transpose ta,
                               simdiff::Transpose tb, simdiff::Activation activation) {
  const auto a = random_uniform<T>(-1, 1, m * k, seed_of("threads_a", m, k));
  const auto b = random_uniform<T>(-1, 1, k * n, seed_of("threads_b", k, n));
  const auto bias = random_uniform<T>(-1, 1, n, seed_of("threads_bias", n));
  const auto c0 = random_uniform<T>(-1, 1, m * n, seed_of("threads_c", m, n));
  const std::size_t lda = ta == simdiff::Transpose::yes ? m : k;
  const std::size_t ldb = tb == simdiff::Transpose::yes ? k : n;
  auto run = [&](std::size_t threads) {
    const simdiff::ScopedNumThreads scoped(threads);
    std::vector<T> c = c0;
    simdiff::gemm_bias_activation(ta, tb, m, n, k, T(1.25), std::span<const T>(a), lda,
                                  std::span<const T>(b), ldb, T(0.5), std::span<const T>(bias),
                                  activation, std::span<T>(c), n);
    return c;
  };
  const std::vector<T> one = run(1);
  for (const std::size_t threads : {2, 3, 4, 7}) {
    const std::size_t loops = simdiff::detail::pool_loop_count();
    const std::vector<T> many = run(threads);
    // The product is large enough to be split: it must have gone through the pool.
    SIMDIFF_CHECK(simdiff::detail::pool_loop_count() > loops,
                  m << "x" << n << "x" << k << " was not split over " << threads << " threads");
    SIMDIFF_CHECK(std::memcmp(one.data(), many.data(), one.size() * sizeof(T)) == 0,
                  type_name<T>() << " " << m << "x" << n << "x" << k << " on " << threads
                                 << " threads differs from 1 thread");
  }
}

BOOST_AUTO_TEST_SUITE(gemm_threads)

BOOST_AUTO_TEST_CASE(results_do_not_depend_on_the_thread_count) {
  using simdiff::Transpose;
  for_each_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) {
      using T = decltype(tag);
      // Split by rows (m >= n), by columns (a small batch), and with several k blocks.
      check_thread_independence<T>(200, 150, 90, Transpose::no, Transpose::no,
                                   simdiff::Activation::none);
      check_thread_independence<T>(16, 1500, 130, Transpose::no, Transpose::yes,
                                   simdiff::Activation::relu);
      check_thread_independence<T>(97, 61, 530, Transpose::yes, Transpose::yes,
                                   simdiff::Activation::tanh);
      // Parts of 168 and 132 rows: the shorter part has the larger Highway workspace (one row
      // block of 132 against two of 84), which once overran the shared workspace.
      check_thread_independence<T>(300, 256, 333, Transpose::yes, Transpose::no,
                                   simdiff::Activation::none);
    });
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
