#include "lib/threads/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "simdiff/threads.h"

namespace simdiff {
namespace detail {
namespace {

thread_local bool t_is_pool_worker = false;

// How long a worker that finished a loop, or a caller that waits for its helpers, polls before it
// sleeps on the condition variable. A training step runs a dozen loops a few tens of microseconds
// apart, and waking a sleeping thread costs a futex call and, on a virtual machine, a halted vCPU
// that the host must schedule again. Measured on a 2-vCPU VM (bench/threads_bench.cc and
// gemm_bench, 2 threads): Softmax/65536 79.5 -> 48.6 us, Gemm 128x256x128 149 -> 93 us, where
// without polling 2 threads had been no faster than 1. Polling yields the core on every round, so
// that a thread that needs it is not kept from it, and it stops after this long.
constexpr std::chrono::microseconds kPollTime{200};

// Polls `ready` until it returns true or kPollTime has passed; returns its last result.
template <class Ready>
bool poll(const Ready& ready) {
  const auto deadline = std::chrono::steady_clock::now() + kPollTime;
  for (;;) {
    if (ready()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
}

struct Loop {
  void (*task)(void*, std::size_t);
  void* context;
  std::size_t count;
  std::atomic<std::size_t> next{0};

  void work() {
    for (std::size_t i = next.fetch_add(1, std::memory_order_relaxed); i < count;
         i = next.fetch_add(1, std::memory_order_relaxed)) {
      task(context, i);
    }
  }
};

class Pool {
 public:
  ~Pool() {
    {
      const std::lock_guard lock(mutex_);
      stop_ = true;
      stop_polled_.store(true, std::memory_order_release);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  void run(std::size_t count, std::size_t threads, void (*task)(void*, std::size_t),
           void* context) {
    // One loop at a time: a second caller (another application thread) runs its loop alone
    // rather than waiting for the pool.
    std::unique_lock caller(caller_mutex_, std::try_to_lock);
    Loop loop{task, context, count};
    if (!caller.owns_lock()) return loop.work();
    const std::size_t helpers = std::min(threads, count) - 1;
    while (workers_.size() < helpers) {
      const std::size_t id = workers_.size();
      workers_.emplace_back([this, id] { worker(id); });
    }
    {
      const std::lock_guard lock(mutex_);
      loop_ = &loop;
      helpers_ = helpers;
      ++generation_;
      published_.store(generation_, std::memory_order_release);
    }
    wake_.notify_all();
    loop.work();
    loops_.fetch_add(1, std::memory_order_relaxed);
    std::unique_lock lock(mutex_);
    // Every index has been taken: close the loop to helpers that have not joined it yet (on a
    // loaded machine a worker can wait milliseconds for a core, and the caller need not wait for
    // it). The loop lives on this stack frame: return only after every helper that joined has
    // left it.
    loop_ = nullptr;
    if (busy_ != 0) {
      lock.unlock();
      poll([this] { return busy_polled_.load(std::memory_order_acquire) == 0; });
      lock.lock();
    }
    done_.wait(lock, [this] { return busy_ == 0; });
  }

  std::size_t loops() const { return loops_.load(std::memory_order_relaxed); }

  std::size_t workers() {
    const std::lock_guard caller(caller_mutex_);
    return workers_.size();
  }

 private:
  void worker(std::size_t id) {
    t_is_pool_worker = true;
    std::uint64_t seen = 0;
    std::unique_lock lock(mutex_);
    for (;;) {
      // A worker beyond the helpers of the current loop sits it out and waits for the next one.
      // It polls for a new loop for a while before it sleeps; the decision is made under the
      // mutex either way.
      const auto ready = [&] { return stop_ || (generation_ != seen && id < helpers_); };
      if (!ready()) {
        lock.unlock();
        poll([&] {
          return stop_polled_.load(std::memory_order_acquire) ||
                 published_.load(std::memory_order_acquire) != seen;
        });
        lock.lock();
      }
      wake_.wait(lock, ready);
      if (stop_) return;
      seen = generation_;
      Loop* loop = loop_;
      if (loop == nullptr) continue;  // woke after its caller finished the loop
      ++busy_;
      busy_polled_.store(busy_, std::memory_order_release);
      lock.unlock();
      loop->work();
      lock.lock();
      busy_polled_.store(--busy_, std::memory_order_release);
      if (busy_ == 0) done_.notify_one();
    }
  }

  std::atomic<std::size_t> loops_{0};
  std::mutex caller_mutex_;  // held by the thread whose loop runs; guards workers_
  std::vector<std::thread> workers_;
  std::mutex mutex_;  // guards everything below
  std::condition_variable wake_;
  std::condition_variable done_;
  Loop* loop_ = nullptr;
  std::size_t helpers_ = 0;
  std::size_t busy_ = 0;  // helpers inside the current loop
  std::uint64_t generation_ = 0;
  bool stop_ = false;
  // Copies of generation_, busy_ and stop_, written under the mutex, that threads poll without it.
  std::atomic<std::uint64_t> published_{0};
  std::atomic<std::size_t> busy_polled_{0};
  std::atomic<bool> stop_polled_{false};
};

Pool& pool() {
  static Pool instance;
  return instance;
}

}  // namespace

void parallel_for(std::size_t count, std::size_t threads, void (*task)(void*, std::size_t),
                  void* context) {
  if (count == 0) return;
  if (threads <= 1 || count == 1 || t_is_pool_worker) {
    for (std::size_t i = 0; i < count; ++i) task(context, i);
    return;
  }
  pool().run(count, threads, task, context);
}

std::size_t pool_worker_count() { return pool().workers(); }
std::size_t pool_loop_count() { return pool().loops(); }

}  // namespace detail

namespace {

std::atomic<std::size_t> g_num_threads{1};
thread_local std::optional<std::size_t> t_num_threads;

std::size_t checked(std::size_t n, const char* function) {
  if (n > kMaxThreads) {
    throw std::invalid_argument(std::string(function) + ": n is " + std::to_string(n) +
                                "; expected 0 (every hardware thread) to " +
                                std::to_string(kMaxThreads));
  }
  return n;
}

std::size_t resolve(std::size_t n) {
  if (n != 0) return n;
  const unsigned hardware = std::thread::hardware_concurrency();
  return std::clamp<std::size_t>(hardware, 1, kMaxThreads);
}

}  // namespace

void set_num_threads(std::size_t n) {
  g_num_threads.store(checked(n, "set_num_threads"), std::memory_order_relaxed);
}

std::size_t num_threads() {
  return resolve(t_num_threads ? *t_num_threads : g_num_threads.load(std::memory_order_relaxed));
}

ScopedNumThreads::ScopedNumThreads(std::size_t n) : previous_(t_num_threads) {
  t_num_threads = checked(n, "ScopedNumThreads");
}

ScopedNumThreads::~ScopedNumThreads() { t_num_threads = previous_; }

}  // namespace simdiff
