// The public GEMM functions (<simdiff/gemm.h>): argument checks, the choice of the kernel for the
// selected backend and target, a per-thread workspace, then one call into the kernel.
#include "simdiff/gemm.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "lib/argument_checks.h"
#include "lib/gemm/gemm_kernels.h"
#include "lib/kernel_table.h"
#include "lib/threads/thread_pool.h"
#include "simdiff/backend.h"
#include "simdiff/threads.h"

namespace simdiff {
namespace {

using detail::GemmArgs;
using detail::GemmTable;

struct GemmRegistry {
  std::vector<GemmTable> highway = detail::highway_gemm_tables();
  std::vector<GemmTable> scalar = detail::scalar_gemm_tables();
  std::vector<GemmTable> cblas = detail::cblas_gemm_tables();
};

std::atomic<GemmProvider> g_provider{GemmProvider::simdiff};

const char* provider_name(GemmProvider provider) {
  return provider == GemmProvider::cblas ? "cblas" : "simdiff";
}

const GemmRegistry& gemm_registry() {
  static const GemmRegistry instance;
  return instance;
}

// The GEMM table that goes with one kernel table (one backend and target).
struct Resolved {
  const detail::KernelTable* kernels;
  const GemmTable* gemm;
  std::string name;  // "backend:target" of the GEMM kernel that runs
};

const Resolved* resolve(const detail::KernelTable* kernels) {
  // Resolutions are interned (one per kernel table, alive for the whole process) so that the
  // pointer cached in active_gemm() never dangles.
  static std::mutex mutex;
  static std::vector<std::unique_ptr<Resolved>> interned;
  const std::lock_guard lock(mutex);
  for (const auto& resolved : interned) {
    if (resolved->kernels == kernels) return resolved.get();
  }
  const BackendInfo info = backend_info();
  const GemmRegistry& registry = gemm_registry();
  const GemmTable* chosen = nullptr;
  switch (info.backend) {
    case Backend::highway:
      for (const GemmTable& table : registry.highway) {
        if (table.target == info.target) chosen = &table;
      }
      break;
    case Backend::xsimd:
      // xsimd has no GEMM of its own (documented in <simdiff/gemm.h>); its closest kernel is
      // Highway's best target, which the same CPU runs.
      if (!registry.highway.empty()) chosen = &registry.highway.front();
      break;
    case Backend::scalar:
      chosen = &registry.scalar.front();
      break;
  }
  if (chosen == nullptr) {
    // Both lists are built from the targets this CPU runs, so they name the same ones.
    throw std::logic_error("gemm: no GEMM kernel for backend target '" + info.target + "'");
  }
  const std::string backend_name(
      to_string(info.backend == Backend::scalar ? Backend::scalar : Backend::highway));
  interned.push_back(
      std::make_unique<Resolved>(Resolved{kernels, chosen, backend_name + ":" + chosen->target}));
  return interned.back().get();
}

const Resolved& active_gemm() {
  static std::atomic<const Resolved*> last{nullptr};
  const detail::KernelTable* kernels = &detail::active_kernels();
  const Resolved* resolved = last.load(std::memory_order_acquire);
  if (resolved == nullptr || resolved->kernels != kernels) {
    resolved = resolve(kernels);
    last.store(resolved, std::memory_order_release);
  }
  return *resolved;
}

// A 64-byte aligned scratch buffer per thread that only grows, so that steady-state calls do not
// touch the heap.
template <class T>
T* thread_workspace(std::size_t elements) {
  struct Buffer {
    std::unique_ptr<std::byte[]> storage;
    std::size_t bytes = 0;
  };
  thread_local Buffer buffer;
  constexpr std::size_t kAlign = 64;
  const std::size_t needed = elements * sizeof(T) + kAlign;
  if (buffer.bytes < needed) {
    buffer.storage = std::make_unique<std::byte[]>(needed);
    buffer.bytes = needed;
  }
  const auto address = reinterpret_cast<std::uintptr_t>(buffer.storage.get());
  return reinterpret_cast<T*>((address + kAlign - 1) / kAlign * kAlign);
}

// Checks one stored matrix: its leading dimension and that its span holds it.
template <class T>
void check_matrix(const char* function, const char* name, const char* ld_name, std::size_t rows,
                  std::size_t cols, const char* rows_name, const char* cols_name,
                  Transpose transpose, std::span<T> data, std::size_t ld) {
  // Built only for a message: a successful call must not touch the heap (the autodiff tape
  // asserts zero allocations per training step).
  const auto stored = [&] {
    return std::string(name) + " stored [" + rows_name + " x " + cols_name + "] = [" +
           std::to_string(rows) + " x " + std::to_string(cols) + "]" +
           (transpose == Transpose::yes ? " (transposed)" : "");
  };
  if (ld < cols) {
    throw std::invalid_argument(std::string(function) + ": " + ld_name + " " + std::to_string(ld) +
                                " is smaller than " + cols_name + " " + std::to_string(cols) +
                                " for " + stored() + "; expected " + ld_name +
                                " >= " + std::to_string(cols));
  }
  if (rows == 0 || cols == 0) return;
  // Elements are addressed through byte pointers: keep the extent below SIZE_MAX / 8.
  constexpr std::size_t kLimit = std::numeric_limits<std::size_t>::max() / sizeof(double);
  if (rows - 1 > (kLimit - cols) / ld) {
    throw std::invalid_argument(std::string(function) + ": " + stored() + " with " + ld_name + " " +
                                std::to_string(ld) + " overflows the addressable size");
  }
  const std::size_t extent = (rows - 1) * ld + cols;
  if (data.size() < extent) {
    throw std::invalid_argument(std::string(function) + ": " + name + " has " +
                                std::to_string(data.size()) + " elements; " + stored() + " with " +
                                ld_name + " " + std::to_string(ld) + " needs at least " +
                                std::to_string(extent));
  }
}

std::size_t extent_of(std::size_t rows, std::size_t cols, std::size_t ld) {
  return rows == 0 || cols == 0 ? 0 : (rows - 1) * ld + cols;
}

// How a product is split over threads: `parts` sub-products of `chunk` rows (or columns) each,
// the last one shorter, run on `threads` threads.
struct Split {
  bool by_rows;
  std::size_t chunk;
  std::size_t parts;
  std::size_t threads;
};

// A product is split only when each thread gets at least this many multiply-adds: below it, waking
// the workers (a few microseconds) costs more than the time saved (bench/gemm_bench.cc,
// Gemm/.../threads:2 rows).
constexpr std::size_t kMinMacsPerThread = std::size_t{1} << 20;
// Split granules: whole row tiles (6 rows) and column panels (up to 32 columns on AVX-512), so
// that no thread's sub-product has more partial tiles than the whole product.
constexpr std::size_t kRowGranule = 24;
constexpr std::size_t kColumnGranule = 64;

Split split_for(std::size_t m, std::size_t n, std::size_t k) {
  const std::size_t wanted = num_threads();
  if (wanted <= 1) return {false, 0, 1, 1};
  const double macs = double(m) * double(n) * double(k);
  const std::size_t by_work = static_cast<std::size_t>(macs / double(kMinMacsPerThread));
  const std::size_t threads = std::min(wanted, std::max<std::size_t>(1, by_work));
  if (threads <= 1) return {false, 0, 1, 1};
  // Split the longer side; small batches (few rows) always by columns.
  const bool by_rows = m >= n && m >= 2 * kRowGranule;
  const std::size_t length = by_rows ? m : n;
  const std::size_t granule = by_rows ? kRowGranule : kColumnGranule;
  const std::size_t per_thread = (length + threads - 1) / threads;
  const std::size_t chunk = (per_thread + granule - 1) / granule * granule;
  const std::size_t parts = (length + chunk - 1) / chunk;
  return {by_rows, chunk, parts, std::min(threads, parts)};
}

template <class T>
GemmArgs<T> part_of(const GemmArgs<T>& g, const Split& split, std::size_t i) {
  GemmArgs<T> part = g;
  const std::size_t begin = i * split.chunk;
  if (split.by_rows) {
    part.m = std::min(split.chunk, g.m - begin);
    part.a = g.trans_a ? g.a + begin : g.a + begin * g.lda;
    part.c = g.c + begin * g.ldc;
  } else {
    part.n = std::min(split.chunk, g.n - begin);
    part.b = g.trans_b ? g.b + begin * g.ldb : g.b + begin;
    part.c = g.c + begin;
    if (g.bias) part.bias = g.bias + begin;
  }
  return part;
}

template <class T>
void run_gemm(const char* function, Transpose trans_a, Transpose trans_b, std::size_t m,
              std::size_t n, std::size_t k, T alpha, std::span<const T> a, std::size_t lda,
              std::span<const T> b, std::size_t ldb, T beta, std::span<const T> bias,
              Activation activation, std::span<T> c, std::size_t ldc) {
  for (const auto& [t, name] : {std::pair{trans_a, "trans_a"}, std::pair{trans_b, "trans_b"}}) {
    if (t != Transpose::no && t != Transpose::yes) {
      throw std::invalid_argument(std::string(function) + ": " + name + " is " +
                                  std::to_string(static_cast<int>(t)) +
                                  "; expected Transpose::no or Transpose::yes");
    }
  }
  if (static_cast<unsigned>(activation) > static_cast<unsigned>(Activation::tanh)) {
    throw std::invalid_argument(std::string(function) + ": activation is " +
                                std::to_string(static_cast<int>(activation)) +
                                "; expected none, relu, sigmoid or tanh");
  }
  const bool ta = trans_a == Transpose::yes;
  const bool tb = trans_b == Transpose::yes;
  const std::size_t a_rows = ta ? k : m, a_cols = ta ? m : k;
  const std::size_t b_rows = tb ? n : k, b_cols = tb ? k : n;
  check_matrix(function, "a", "lda", a_rows, a_cols, ta ? "k" : "m", ta ? "m" : "k", trans_a, a,
               lda);
  check_matrix(function, "b", "ldb", b_rows, b_cols, tb ? "n" : "k", tb ? "k" : "n", trans_b, b,
               ldb);
  check_matrix(function, "c", "ldc", m, n, "m", "n", Transpose::no, c, ldc);
  if (!bias.empty() && bias.size() != n) {
    throw std::invalid_argument(std::string(function) + ": bias has " +
                                std::to_string(bias.size()) + " elements; expected 0 (no bias) " +
                                "or n = " + std::to_string(n));
  }
  const std::size_t c_extent = extent_of(m, n, ldc);
  using detail::Aliasing;
  detail::check_overlap(function, "c", c, c_extent, "a", a, extent_of(a_rows, a_cols, lda),
                        Aliasing::disjoint_only);
  detail::check_overlap(function, "c", c, c_extent, "b", b, extent_of(b_rows, b_cols, ldb),
                        Aliasing::disjoint_only);
  detail::check_overlap(function, "c", c, c_extent, "bias", bias, bias.size(),
                        Aliasing::disjoint_only);
  if (m == 0 || n == 0) return;

  const GemmArgs<T> args{ta,         tb,       m,        n,
                         k,          alpha,    a.data(), lda,
                         b.data(),   ldb,      beta,     bias.empty() ? nullptr : bias.data(),
                         activation, c.data(), ldc};
  const bool cblas = g_provider.load(std::memory_order_relaxed) == GemmProvider::cblas;
  if (cblas) {
    constexpr std::size_t kIntMax = static_cast<std::size_t>(std::numeric_limits<int>::max());
    for (const auto& [value, name] :
         {std::pair{m, "m"}, std::pair{n, "n"}, std::pair{k, "k"}, std::pair{lda, "lda"},
          std::pair{ldb, "ldb"}, std::pair{ldc, "ldc"}}) {
      if (value > kIntMax) {
        throw std::invalid_argument(std::string(function) + ": " + name + " " +
                                    std::to_string(value) +
                                    " does not fit the int of the CBLAS provider; expected at "
                                    "most " +
                                    std::to_string(kIntMax));
      }
    }
  }
  const auto& kernels =
      (cblas ? gemm_registry().cblas.front() : *active_gemm().gemm).template of<T>();
  const Split split = split_for(m, n, k);
  if (split.parts <= 1) {
    T* workspace = thread_workspace<T>(kernels.workspace_elements(args));
    return kernels.run(args, workspace);
  }
  // Every part gets the largest part's workspace size. The largest part is not always the
  // largest workspace: a kernel's blocking can give a shorter part bigger blocks (Highway: 145
  // rows are two blocks of 78 rows, 144 rows one block of 144). All workspaces are taken here,
  // on the calling thread, so that an allocation failure throws to the caller.
  constexpr std::size_t kAlign = 64 / sizeof(T);
  std::size_t largest = 0;
  for (std::size_t i = 0; i < split.parts; ++i) {
    largest = std::max(largest, kernels.workspace_elements(part_of(args, split, i)));
  }
  const std::size_t stride = (largest + kAlign - 1) / kAlign * kAlign;
  T* workspace = thread_workspace<T>(stride * split.parts);
  auto task = [&](std::size_t i) { kernels.run(part_of(args, split, i), workspace + i * stride); };
  detail::parallel_for(split.parts, split.threads, task);
}

}  // namespace

#define SIMDIFF_GEMM_FOR(T)                                                                        \
  void gemm(Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n, std::size_t k,     \
            T alpha, std::span<const T> a, std::size_t lda, std::span<const T> b, std::size_t ldb, \
            T beta, std::span<T> c, std::size_t ldc) {                                             \
    run_gemm<T>("gemm", trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, {},                \
                Activation::none, c, ldc);                                                         \
  }                                                                                                \
  void gemm_bias_activation(                                                                       \
      Transpose trans_a, Transpose trans_b, std::size_t m, std::size_t n, std::size_t k, T alpha,  \
      std::span<const T> a, std::size_t lda, std::span<const T> b, std::size_t ldb, T beta,        \
      std::span<const T> bias, Activation activation, std::span<T> c, std::size_t ldc) {           \
    run_gemm<T>("gemm_bias_activation", trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta,    \
                bias, activation, c, ldc);                                                         \
  }

SIMDIFF_GEMM_FOR(float)
SIMDIFF_GEMM_FOR(double)
#undef SIMDIFF_GEMM_FOR

bool gemm_provider_available(GemmProvider provider) noexcept {
  switch (provider) {
    case GemmProvider::simdiff:
      return true;
    case GemmProvider::cblas:
      return !gemm_registry().cblas.empty();
  }
  return false;
}

void set_gemm_provider(GemmProvider provider) {
  if (provider != GemmProvider::simdiff && provider != GemmProvider::cblas) {
    throw std::invalid_argument("set_gemm_provider: provider is " +
                                std::to_string(static_cast<int>(provider)) +
                                "; expected GemmProvider::simdiff or GemmProvider::cblas");
  }
  if (!gemm_provider_available(provider)) {
    throw std::invalid_argument(std::string("set_gemm_provider: provider '") +
                                provider_name(provider) +
                                "' is not in this build; configure with -DSIMDIFF_WITH_CBLAS=ON "
                                "and a CBLAS library installed");
  }
  g_provider.store(provider, std::memory_order_relaxed);
}

GemmProvider gemm_provider() noexcept { return g_provider.load(std::memory_order_relaxed); }

std::string gemm_target() {
  if (gemm_provider() == GemmProvider::cblas) {
    return "cblas:" + gemm_registry().cblas.front().target;
  }
  return active_gemm().name;
}

}  // namespace simdiff
