// The subcommands of the `simdiff` command-line tool. Each one adds itself to the application with
// its options and the callback that runs it; a new subcommand is one more function here, one more
// file, and one more line in main.cc.
#pragma once

namespace CLI {
class App;
}

namespace simdiff::tools {

/// `simdiff info`: version, SIMD targets per backend, the backend and target the kernels use.
void add_info_command(CLI::App& app);

/// `simdiff bench`: a short measurement of the main kernels against a scalar baseline and the
/// memory bandwidth.
void add_bench_command(CLI::App& app);

/// `simdiff train`, `simdiff evaluate`, `simdiff predict`: a dense classifier on a CSV dataset
/// (tools/train_command.cc).
void add_train_commands(CLI::App& app);

}  // namespace simdiff::tools
