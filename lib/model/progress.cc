#include "lib/model/progress.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <iostream>

namespace simdiff::detail {
namespace {

constexpr std::size_t kBarWidth = 20;
// Redrawing more often than this costs terminal time without telling the user more.
constexpr auto kRedrawInterval = std::chrono::milliseconds(50);

std::string format_duration(double seconds) {
  char buffer[32];
  if (seconds >= 3600) {
    std::snprintf(buffer, sizeof buffer, "%d:%02d:%02d", int(seconds / 3600),
                  int(std::fmod(seconds, 3600) / 60), int(std::fmod(seconds, 60)));
  } else if (seconds >= 60) {
    std::snprintf(buffer, sizeof buffer, "%dm %ds", int(seconds / 60), int(std::fmod(seconds, 60)));
  } else {
    std::snprintf(buffer, sizeof buffer, "%ds", int(seconds));
  }
  return buffer;
}

std::string format_per_step(double seconds) {
  char buffer[32];
  if (seconds >= 1) {
    std::snprintf(buffer, sizeof buffer, "%.0fs/step", seconds);
  } else if (seconds >= 1e-3) {
    std::snprintf(buffer, sizeof buffer, "%.0fms/step", seconds * 1e3);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.0fus/step", seconds * 1e6);
  }
  return buffer;
}

}  // namespace

std::string format_log_value(double value) {
  char buffer[32];
  if (value != 0 && std::abs(value) < 1e-3) {
    std::snprintf(buffer, sizeof buffer, "%.4e", value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.4f", value);
  }
  return buffer;
}

bool is_terminal(const std::ostream& out) {
  return &out == &std::cout && ::isatty(STDOUT_FILENO) == 1;
}

ProgressBar::ProgressBar(std::ostream& out, bool live, std::size_t steps)
    : out_(out),
      live_(live),
      steps_(steps),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - kRedrawInterval) {}

std::string ProgressBar::line(std::size_t step, const Logs& logs, bool final) const {
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double per_step = step == 0 ? 0 : elapsed / static_cast<double>(step);
  const std::string counter = std::to_string(step) + "/" + std::to_string(steps_);
  std::string text;
  if (live_) {
    const std::size_t done = steps_ == 0 ? kBarWidth : kBarWidth * step / steps_;
    // Keras' bar: the done part bold, the rest dim.
    text = counter + " \033[1m";
    for (std::size_t i = 0; i < done; ++i) text += "\u2501";
    text += "\033[0m\033[2m";
    for (std::size_t i = done; i < kBarWidth; ++i) text += "\u2501";
    text += "\033[0m ";
    const double shown =
        final ? elapsed : per_step * static_cast<double>(steps_ - std::min(step, steps_));
    text += format_duration(shown) + " " + format_per_step(per_step);
  } else {
    text = counter + " - " + format_duration(elapsed) + " - " + format_per_step(per_step);
  }
  for (const auto& [name, value] : logs) text += " - " + name + ": " + format_log_value(value);
  return text;
}

void ProgressBar::update(std::size_t step, const Logs& logs) {
  if (!live_) return;
  const auto now = std::chrono::steady_clock::now();
  if (step < steps_ && now - last_draw_ < kRedrawInterval) return;
  last_draw_ = now;
  // \033[K clears what a longer previous line left behind.
  out_ << '\r' << line(step, logs, false) << "\033[K" << std::flush;
}

void ProgressBar::finish(const Logs& logs) {
  if (live_) out_ << '\r';
  out_ << line(steps_, logs, true) << (live_ ? "\033[K\n" : "\n") << std::flush;
}

}  // namespace simdiff::detail
