// Numeric datasets for training: a CSV loader, a seeded train/test split and standardization.
//
//   simdiff::Dataset all = simdiff::load_csv("data/digits.csv");        // label: last column
//   auto [train, test] = simdiff::train_test_split(all, 0.2, /*seed=*/42);
//   const auto scaler = simdiff::Standardizer::fit(train);             // training split only
//   scaler.transform(train);
//   scaler.transform(test);
//
// CSV format: one sample per line, fields separated by `delimiter`, every field a finite number
// (surrounding spaces and a trailing '\r' are ignored). The first line may be a header:
// scikit-learn's `n_rows,n_features,class names...` (checked against the data) or column names.
// With CsvHeader::detect, the first line is a header when one of its fields is not a number, or
// when it is scikit-learn's header without class names (its first two fields equal the number of
// data rows and of features). Empty lines are skipped.
//
// Errors: std::invalid_argument (std::runtime_error for a file that cannot be read) whose message
// starts with `file:line:column:` (column = the 1-based character position of the field) and says
// what was found and what was expected: a non-numeric or non-finite field, an empty field, a row
// with a different number of fields than the first data row, an empty file or no data rows, a
// scikit-learn header whose counts disagree with the data, a label column out of range.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace simdiff {

/// Samples as a row-major [rows x features] float matrix and one label per row.
struct Dataset {
  std::size_t rows = 0;
  std::size_t features = 0;
  std::vector<float> x;                    ///< rows * features values
  std::vector<float> y;                    ///< rows labels (class indices for classification)
  std::vector<std::string> feature_names;  ///< from a column-name header, else empty
  std::vector<std::string> class_names;    ///< from a scikit-learn header, else empty

  /// The number of classes: max label + 1 (at least the number of class names). Throws
  /// std::invalid_argument naming the row if a label is negative or not an integer.
  [[nodiscard]] std::size_t classes() const;
  /// The rows `indices` (in that order), with the names.
  [[nodiscard]] Dataset take(const std::vector<std::size_t>& indices) const;
};

enum class CsvHeader { detect, present, absent };

struct CsvOptions {
  CsvHeader header = CsvHeader::detect;
  /// The label column: 0-based from the left, or negative from the right (-1: the last column).
  long label_column = -1;
  char delimiter = ',';
};

/// Reads a CSV file (see above).
Dataset load_csv(const std::string& path, const CsvOptions& options = {});

/// Parses CSV text; `source` names it in error messages.
Dataset parse_csv(std::string_view text, std::string_view source, const CsvOptions& options = {});

/// A seeded random split: a permutation of the rows (the same seed gives the same split on every
/// platform), the last round(test_fraction * rows) of it become the test set. test_fraction must
/// lie in [0, 1) and leave at least one training row.
std::pair<Dataset, Dataset> train_test_split(const Dataset& data, double test_fraction,
                                             std::uint64_t seed);

/// Per-feature standardization, (x - mean) / std with the population standard deviation; a
/// constant feature gets std 1 (it becomes 0), as scikit-learn's StandardScaler.
struct Standardizer {
  std::vector<double> mean;
  std::vector<double> scale;

  /// Statistics of `data` (at least one row).
  static Standardizer fit(const Dataset& data);
  /// Standardizes data.x in place; throws std::invalid_argument if the feature counts differ.
  void transform(Dataset& data) const;
  void transform(std::vector<float>& x, std::size_t features) const;
};

}  // namespace simdiff
