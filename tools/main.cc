// `simdiff`: the command-line tool. Parsing is CLI11's; each subcommand lives in its own file
// (commands.h). Errors the commands throw (std::invalid_argument from the library, for a backend
// or target this CPU lacks) are printed as one line and end the program with exit status 1.
#include <CLI/CLI.hpp>
#include <exception>

#include <fmt/core.h>

#include "simdiff/version.h"
#include "tools/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"simdiff: SIMD kernels, Keras losses and dense classifiers", "simdiff"};
  app.set_version_flag("--version", simdiff::version_string);
  app.require_subcommand(1);

  simdiff::tools::add_info_command(app);
  simdiff::tools::add_bench_command(app);
  simdiff::tools::add_train_commands(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error);
  } catch (const std::exception& error) {
    fmt::print(stderr, "simdiff: error: {}\n", error.what());
    return 1;
  }
  return 0;
}
