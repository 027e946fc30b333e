// The timing loop of `simdiff bench`: warm up, calibrate a batch of calls, then time several
// batches and keep the median, which ignores the batches that other processes disturbed.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <vector>

#include "bench/reference_kernels.h"

namespace simdiff::tools {

/// Median CPU time per call of `call`, in seconds, measured in `repetitions` batches that together
/// last about `seconds`. A batch holds at least one call, so a call slower than the budget makes
/// the measurement last `repetitions` calls instead.
template <class Call>
double median_seconds_per_call(Call&& call, double seconds, int repetitions = 7) {
  using Clock = bench::ThreadCpuClock;
  const auto time_batch = [&call](std::size_t calls) {
    const auto start = Clock::now();
    for (std::size_t i = 0; i < calls; ++i) call();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  // Warm-up and calibration in one: double the batch until it lasts a tenth of a repetition's
  // share; by then caches, branch predictors and clock frequency have settled.
  const double batch_seconds = seconds / repetitions;
  std::size_t batch = 1;
  double elapsed = time_batch(batch);
  while (elapsed < batch_seconds / 10 && batch < (std::size_t{1} << 40)) {
    batch *= 2;
    elapsed = time_batch(batch);
  }
  const double estimate = elapsed / static_cast<double>(batch);
  const auto calls = std::max<std::size_t>(1, static_cast<std::size_t>(batch_seconds / estimate));

  std::vector<double> per_call;
  for (int i = 0; i < repetitions; ++i) {
    per_call.push_back(time_batch(calls) / static_cast<double>(calls));
  }
  const auto middle = per_call.begin() + static_cast<std::ptrdiff_t>(per_call.size() / 2);
  std::nth_element(per_call.begin(), middle, per_call.end());
  return *middle;
}

}  // namespace simdiff::tools
