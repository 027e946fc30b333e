// `simdiff info`: what this build and this CPU offer, and what the kernels run on.
#include <CLI/CLI.hpp>
#include <array>
#include <cstdlib>
#include <string>
#include <string_view>

#include <fmt/core.h>
#include <fmt/ranges.h>

#include "simdiff/simdiff.h"
#include "tools/commands.h"

namespace simdiff::tools {
namespace {

// Every kernel of the public API (include/simdiff/rowwise.h and elementwise.h).
constexpr std::array<std::string_view, 14> kKernels = {"row_max",
                                                       "row_argmax",
                                                       "logsumexp",
                                                       "softmax",
                                                       "log_softmax",
                                                       "softmax_backward",
                                                       "log_softmax_backward",
                                                       "logsumexp_backward",
                                                       "exp",
                                                       "log",
                                                       "log1p",
                                                       "sigmoid",
                                                       "softplus",
                                                       "log_sigmoid"};

void run_info() {
  fmt::print("simdiff {}\n\n", version_string);

  fmt::print("SIMD targets this CPU runs, best first:\n");
  for (const Backend backend : {Backend::highway, Backend::xsimd, Backend::scalar}) {
    const auto targets = supported_targets(backend);
    if (targets.empty()) {
      fmt::print("  {:<8} none (not in this build, or no target this CPU runs)\n",
                 to_string(backend));
    } else {
      fmt::print("  {:<8} {}\n", to_string(backend), fmt::join(targets, ", "));
    }
  }

  // backend_info() applies SIMDIFF_BACKEND the way every kernel call does (and throws, naming
  // the variable, if it names no backend or target this CPU runs).
  const BackendInfo selected = backend_info();
  const std::string where = fmt::format("{}:{}", to_string(selected.backend), selected.target);
  const char* environment = std::getenv("SIMDIFF_BACKEND");
  const bool from_environment = environment != nullptr && *environment != '\0';
  fmt::print("\nSelected backend: {} ({})\n", where,
             from_environment ? fmt::format("SIMDIFF_BACKEND={}", environment)
                              : std::string("default; set SIMDIFF_BACKEND=backend[:target]"));
  fmt::print("\nKernels (float and double) and where they run:\n");
  for (const std::string_view kernel : kKernels) fmt::print("  {:<22} {}\n", kernel, where);
}

}  // namespace

void add_info_command(CLI::App& app) {
  CLI::App* command = app.add_subcommand(
      "info", "Print the version, the SIMD targets per backend and the backend the kernels use");
  command->callback(run_info);
}

}  // namespace simdiff::tools
