// Choice of the SIMD backend that runs every kernel.
//
// Three backends implement the same kernels: `highway` (Google Highway, every x86 and Arm target
// compiled in, the best one the CPU runs chosen at run time), `xsimd` (xsimd 8.1, x86 and NEON
// architectures) and `scalar` (portable C++, the reference path). The default is `highway` on the
// best target; the environment variable `SIMDIFF_BACKEND` (`highway`, `xsimd`, `scalar`, optionally
// with a target: `highway:SSE4`) is read once, at the first kernel call, and `set_backend`
// overrides it. The choice is process-wide and thread-safe to read; change it while no kernel runs.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace simdiff {

enum class Backend { highway, xsimd, scalar };

/// "highway", "xsimd" or "scalar".
[[nodiscard]] std::string_view to_string(Backend backend) noexcept;

/// Parses a backend name as printed by to_string; throws std::invalid_argument otherwise.
[[nodiscard]] Backend parse_backend(std::string_view name);

/// Targets of `backend` that this CPU runs, best first (Highway names such as "AVX2", "SSE4",
/// "NEON", "SVE2", "EMU128"; xsimd names such as "avx2+fma", "sse4.2", "neon64"; "scalar").
[[nodiscard]] std::vector<std::string> supported_targets(Backend backend);

/// Selects the backend and, if `target` is not empty, one of its supported targets (else the
/// best). Throws std::invalid_argument naming the target and the supported ones if the CPU cannot
/// run it.
void set_backend(Backend backend, std::string_view target = {});

struct BackendInfo {
  Backend backend;
  std::string target;  ///< the target every kernel of the backend runs on
};

/// The backend and target in use (applies SIMDIFF_BACKEND if nothing was selected yet).
[[nodiscard]] BackendInfo backend_info();

/// Selects a backend for the lifetime of the object and restores the previous one afterwards.
class ScopedBackend {
 public:
  explicit ScopedBackend(Backend backend, std::string_view target = {});
  ~ScopedBackend();
  ScopedBackend(const ScopedBackend&) = delete;
  ScopedBackend& operator=(const ScopedBackend&) = delete;

 private:
  BackendInfo previous_;
};

}  // namespace simdiff
