#include "tools/plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

namespace simdiff::tools {
namespace {

constexpr double kPanelWidth = 420, kPanelHeight = 300, kMargin = 50;

struct Series {
  const std::vector<double>* values;
  const char* color;
  const char* label;
  bool dashed;
};

std::string panel(double x0, const std::string& title, const std::vector<Series>& series) {
  double low = INFINITY, high = -INFINITY;
  std::size_t epochs = 0;
  for (const Series& s : series) {
    for (const double v : *s.values) {
      if (std::isfinite(v)) {
        low = std::min(low, v);
        high = std::max(high, v);
      }
    }
    epochs = std::max(epochs, s.values->size());
  }
  if (!(low <= high)) low = 0, high = 1;
  if (high - low < 1e-12) high = low + 1;
  const double pad = 0.05 * (high - low);
  low -= pad;
  high += pad;
  const double w = kPanelWidth - 2 * kMargin, h = kPanelHeight - 2 * kMargin;
  const auto px = [&](std::size_t e) {
    return x0 + kMargin + (epochs <= 1 ? w / 2 : w * static_cast<double>(e) / double(epochs - 1));
  };
  const auto py = [&](double v) { return kMargin + h * (high - v) / (high - low); };

  std::string svg = fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#999\"/>\n"
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"15\">{}</text>\n",
      x0 + kMargin, kMargin, w, h, x0 + kPanelWidth / 2, kMargin - 15, title);
  for (int t = 0; t <= 4; ++t) {
    const double v = low + (high - low) * t / 4;
    svg +=
        fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" font-size=\"11\">{:.3g}</text>\n",
                    x0 + kMargin - 4, py(v) + 4, v);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"12\">epoch (1 to "
      "{})</text>\n",
      x0 + kPanelWidth / 2, kPanelHeight - kMargin + 20, epochs);
  int legend = 0;
  for (const Series& s : series) {
    if (s.values->empty()) continue;
    std::string points;
    for (std::size_t e = 0; e < s.values->size(); ++e) {
      points += fmt::format("{:.1f},{:.1f} ", px(e), py((*s.values)[e]));
    }
    svg +=
        fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
                    s.color, s.dashed ? " stroke-dasharray=\"6,4\"" : "", points);
    svg += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"12\" fill=\"{}\">{}</text>\n",
                       x0 + kMargin + 8, kMargin + 16 + 15 * legend++, s.color, s.label);
  }
  return svg;
}

}  // namespace

void write_training_plot(const std::string& path, const History& history) {
  static const std::vector<double> none;
  const auto get = [&](const std::string& name) -> const std::vector<double>& {
    const auto it = history.history.find(name);
    return it == history.history.end() ? none : it->second;
  };
  std::string accuracy = "accuracy";
  for (const char* name :
       {"accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"}) {
    if (history.history.count(name) != 0) accuracy = name;
  }
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" "
      "font-family=\"sans-serif\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n",
      2 * kPanelWidth, kPanelHeight);
  svg += panel(0, "loss",
               {{&get("loss"), "#1f77b4", "training", false},
                {&get("val_loss"), "#ff7f0e", "validation", true}});
  svg += panel(kPanelWidth, accuracy,
               {{&get(accuracy), "#1f77b4", "training", false},
                {&get("val_" + accuracy), "#ff7f0e", "validation", true}});
  svg += "</svg>\n";
  const std::string temporary = path + ".tmp";
  {
    std::ofstream out(temporary);
    if (!out) throw std::runtime_error(path + ": cannot open for writing");
    out << svg;
    out.close();
    if (!out) throw std::runtime_error(path + ": write failed");
  }
  std::filesystem::rename(temporary, path);
}

}  // namespace simdiff::tools
