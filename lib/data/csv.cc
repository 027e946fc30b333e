// The CSV loader, the train/test split and standardization of <simdiff/data.h>.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "lib/random.h"
#include "simdiff/data.h"

namespace simdiff {
namespace {

struct Field {
  std::string_view text;  // trimmed
  std::size_t column;     // 1-based character position of the untrimmed field
};

std::vector<Field> split_line(std::string_view line, char delimiter) {
  std::vector<Field> fields;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = line.find(delimiter, start);
    std::string_view text = line.substr(start, end == std::string_view::npos ? end : end - start);
    std::size_t column = start + 1;
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) {
      text.remove_prefix(1);
      ++column;
    }
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    fields.push_back({text, column});
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return fields;
}

bool parse_number(std::string_view text, double& value) {
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() && std::isfinite(value);
}

bool is_number(std::string_view text) {
  double value;
  return parse_number(text, value);
}

struct Line {
  std::string_view text;
  std::size_t number;  // 1-based
};

[[noreturn]] void fail(std::string_view source, std::size_t line, std::size_t column,
                       const std::string& message) {
  throw std::invalid_argument(std::string(source) + ":" + std::to_string(line) + ":" +
                              std::to_string(column) + ": " + message);
}

}  // namespace

std::size_t Dataset::classes() const {
  double largest = -1;
  for (std::size_t r = 0; r < y.size(); ++r) {
    const double label = y[r];
    if (!(label >= 0) || label != std::floor(label)) {
      throw std::invalid_argument("dataset: label of row " + std::to_string(r) + " is " +
                                  std::to_string(label) +
                                  "; expected a class index (an integer >= 0)");
    }
    largest = std::max(largest, label);
  }
  return std::max(static_cast<std::size_t>(largest + 1), class_names.size());
}

Dataset Dataset::take(const std::vector<std::size_t>& indices) const {
  Dataset out;
  out.rows = indices.size();
  out.features = features;
  out.feature_names = feature_names;
  out.class_names = class_names;
  out.x.resize(out.rows * features);
  out.y.resize(out.rows);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= rows) {
      throw std::out_of_range("dataset.take: index " + std::to_string(indices[i]) +
                              "; expected < " + std::to_string(rows));
    }
    std::copy_n(x.begin() + static_cast<std::ptrdiff_t>(indices[i] * features), features,
                out.x.begin() + static_cast<std::ptrdiff_t>(i * features));
    out.y[i] = y[indices[i]];
  }
  return out;
}

Dataset parse_csv(std::string_view text, std::string_view source, const CsvOptions& options) {
  std::vector<Line> lines;
  std::size_t number = 0;
  for (std::size_t start = 0; start < text.size();) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    ++number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") != std::string_view::npos) lines.push_back({line, number});
    start = end + 1;
  }
  if (lines.empty()) fail(source, 1, 1, "the file is empty; expected rows of numbers");

  std::size_t first_data = 0;
  bool header = options.header == CsvHeader::present;
  const std::vector<Field> first = split_line(lines[0].text, options.delimiter);
  if (options.header == CsvHeader::detect) {
    for (const Field& field : first) header = header || !is_number(field.text);
    // An all-numeric first line is a header only in scikit-learn's form without class names:
    // its first two fields count the data rows and features that follow.
    if (!header && lines.size() > 1 && first.size() >= 2) {
      const std::size_t next = split_line(lines[1].text, options.delimiter).size();
      double n_rows = 0, n_features = 0;
      header = next != first.size() && parse_number(first[0].text, n_rows) &&
               parse_number(first[1].text, n_features) &&
               n_rows == static_cast<double>(lines.size() - 1) &&
               n_features == static_cast<double>(next - 1);
    }
  }
  if (header) first_data = 1;
  if (first_data >= lines.size()) {
    fail(source, lines.back().number + 1, 1, "no data rows after the header");
  }

  const std::size_t columns = split_line(lines[first_data].text, options.delimiter).size();
  if (columns < 2) {
    fail(source, lines[first_data].number, 1,
         "a row has 1 field; expected at least 2 (features and a label)");
  }
  const long label_index = options.label_column < 0
                               ? static_cast<long>(columns) + options.label_column
                               : options.label_column;
  if (label_index < 0 || label_index >= static_cast<long>(columns)) {
    throw std::invalid_argument(
        std::string(source) + ": label_column = " + std::to_string(options.label_column) +
        "; expected a column in [" + std::to_string(-static_cast<long>(columns)) + ", " +
        std::to_string(columns - 1) + "] (the rows have " + std::to_string(columns) + " fields)");
  }
  const auto label_column = static_cast<std::size_t>(label_index);

  Dataset data;
  data.features = columns - 1;
  data.rows = lines.size() - first_data;
  data.x.reserve(data.rows * data.features);
  data.y.reserve(data.rows);
  for (std::size_t l = first_data; l < lines.size(); ++l) {
    const std::vector<Field> fields = split_line(lines[l].text, options.delimiter);
    if (fields.size() != columns) {
      fail(source, lines[l].number, 1,
           "a row of " + std::to_string(fields.size()) + " fields; expected " +
               std::to_string(columns) + " as in line " + std::to_string(lines[first_data].number));
    }
    for (std::size_t c = 0; c < columns; ++c) {
      double value;
      if (!parse_number(fields[c].text, value)) {
        fail(source, lines[l].number, fields[c].column,
             fields[c].text.empty()
                 ? "empty field " + std::to_string(c + 1) + "; expected a number"
                 : "field " + std::to_string(c + 1) + " is '" + std::string(fields[c].text) +
                       "'; expected a finite number");
      }
      if (c == label_column) {
        data.y.push_back(static_cast<float>(value));
      } else {
        data.x.push_back(static_cast<float>(value));
      }
    }
  }

  if (header) {
    // scikit-learn's header: n_rows, n_features, class names (fewer fields than a data row).
    double n_rows = 0, n_features = 0;
    if (first.size() != columns && first.size() >= 2 && parse_number(first[0].text, n_rows) &&
        parse_number(first[1].text, n_features)) {
      if (n_rows != static_cast<double>(data.rows)) {
        fail(source, lines[0].number, first[0].column,
             "the header says " + std::string(first[0].text) + " rows; the file has " +
                 std::to_string(data.rows));
      }
      if (n_features != static_cast<double>(data.features)) {
        fail(source, lines[0].number, first[1].column,
             "the header says " + std::string(first[1].text) + " features; the rows have " +
                 std::to_string(data.features));
      }
      for (std::size_t i = 2; i < first.size(); ++i) data.class_names.emplace_back(first[i].text);
    } else if (first.size() == columns) {
      for (std::size_t c = 0; c < columns; ++c) {
        if (c != label_column) data.feature_names.emplace_back(first[c].text);
      }
    } else {
      fail(source, lines[0].number, 1,
           "a header of " + std::to_string(first.size()) + " fields; expected " +
               std::to_string(columns) +
               " column names or scikit-learn's 'rows,features,class names...'");
    }
  }
  return data;
}

Dataset load_csv(const std::string& path, const CsvOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open the file for reading");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error(path + ": read error");
  return parse_csv(text.str(), path, options);
}

std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             std::uint64_t seed) {
  if (!(test_fraction >= 0 && test_fraction < 1)) {
    throw std::invalid_argument("train_test_split: test_fraction = " +
                                std::to_string(test_fraction) + "; expected a value in [0, 1)");
  }
  const auto test_rows =
      static_cast<std::size_t>(std::llround(test_fraction * static_cast<double>(data.rows)));
  if (test_rows >= data.rows) {
    throw std::invalid_argument(
        "train_test_split: test_fraction = " + std::to_string(test_fraction) + " of " +
        std::to_string(data.rows) + " rows leaves no training row; expected a smaller fraction");
  }
  std::vector<std::size_t> order(data.rows);
  std::iota(order.begin(), order.end(), std::size_t{0});
  detail::Random(seed).shuffle(order);
  const auto split = order.begin() + static_cast<std::ptrdiff_t>(data.rows - test_rows);
  return {data.take({order.begin(), split}), data.take({split, order.end()})};
}

Standardizer Standardizer::fit(const Dataset& data) {
  if (data.rows == 0) {
    throw std::invalid_argument("Standardizer.fit: the dataset has 0 rows; expected at least 1");
  }
  Standardizer s;
  s.mean.assign(data.features, 0.0);
  s.scale.assign(data.features, 0.0);
  for (std::size_t r = 0; r < data.rows; ++r) {
    for (std::size_t c = 0; c < data.features; ++c) s.mean[c] += data.x[r * data.features + c];
  }
  for (double& m : s.mean) m /= static_cast<double>(data.rows);
  for (std::size_t r = 0; r < data.rows; ++r) {
    for (std::size_t c = 0; c < data.features; ++c) {
      const double d = data.x[r * data.features + c] - s.mean[c];
      s.scale[c] += d * d;
    }
  }
  for (double& v : s.scale) {
    v = std::sqrt(v / static_cast<double>(data.rows));
    if (v == 0) v = 1;
  }
  return s;
}

void Standardizer::transform(std::vector<float>& x, std::size_t features) const {
  if (features != mean.size() || (features != 0 && x.size() % features != 0)) {
    throw std::invalid_argument("Standardizer.transform: " + std::to_string(features) +
                                " features; expected the " + std::to_string(mean.size()) +
                                " features it was fitted on");
  }
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::size_t c = i % features;
    x[i] = static_cast<float>((x[i] - mean[c]) / scale[c]);
  }
}

void Standardizer::transform(Dataset& data) const { transform(data.x, data.features); }

}  // namespace simdiff
