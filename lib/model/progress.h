// The progress display of Sequential::fit: Keras' layout, a live bar on a terminal or one line per
// epoch otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <ostream>
#include <string>

#include "simdiff/model.h"

namespace simdiff::detail {

class ProgressBar {
 public:
  /// `live`: redraw one line with '\r' (a terminal); else print only the final line.
  ProgressBar(std::ostream& out, bool live, std::size_t steps);
  /// After step `step` (1-based) with the running logs.
  void update(std::size_t step, const Logs& logs);
  /// The final line of the epoch with every log (validation included).
  void finish(const Logs& logs);

 private:
  std::string line(std::size_t step, const Logs& logs, bool final) const;

  std::ostream& out_;
  bool live_;
  std::size_t steps_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

/// Whether `out` is std::cout and standard output is a terminal.
bool is_terminal(const std::ostream& out);

/// "0.1234" as Keras prints logs (4 decimals, scientific below 1e-3).
std::string format_log_value(double value);

}  // namespace simdiff::detail
