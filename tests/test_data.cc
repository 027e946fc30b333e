// The CSV loader, split and standardization (<simdiff/data.h>) and the safetensors weight files
// (<simdiff/safetensors.h>, Sequential::save_weights/load_weights).
#include <simdiff/data.h>
#include <simdiff/model.h>
#include <simdiff/safetensors.h>

#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "test_support.h"

namespace {

std::string error_of(std::string_view text, simdiff::CsvOptions options = {}) {
  try {
    simdiff::parse_csv(text, "data.csv", options);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "(no exception)";
}

std::filesystem::path temporary(const std::string& name) {
  return std::filesystem::temp_directory_path() /
         ("simdiff_test_" + std::to_string(::getpid()) + "_" + name);
}

std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::filesystem::path& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

simdiff::Sequential small_model(std::uint64_t seed) {
  simdiff::Sequential model({simdiff::Dense{.units = 4, .activation = "relu", .input_dim = 3},
                             simdiff::Dense{.units = 2, .activation = "softmax"}},
                            seed);
  model.build(3);
  return model;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(csv)

BOOST_AUTO_TEST_CASE(bundled_files_and_headers) {
  const simdiff::Dataset cancer =
      simdiff::load_csv(std::string(SIMDIFF_DATA_DIR) + "/breast_cancer.csv");
  BOOST_TEST(cancer.rows == 569u);
  BOOST_TEST(cancer.features == 30u);
  BOOST_TEST(cancer.classes() == 2u);
  BOOST_TEST(cancer.class_names == (std::vector<std::string>{"malignant", "benign"}),
             boost::test_tools::per_element());
  BOOST_TEST(cancer.x[0] == 17.99f);
  BOOST_TEST(cancer.y[0] == 0.0f);

  const simdiff::Dataset named = simdiff::parse_csv("a, b ,label\n1,2,0\n3,4,1\r\n", "t");
  BOOST_TEST(named.rows == 2u);
  BOOST_TEST(named.feature_names == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  // No header: the first line is data; the label column selectable from either end.
  const simdiff::Dataset plain = simdiff::parse_csv("1,2,3\n4,5,6\n", "t", {.label_column = 0});
  BOOST_TEST(plain.rows == 2u);
  BOOST_TEST(plain.y == (std::vector<float>{1, 4}), boost::test_tools::per_element());
  BOOST_TEST(plain.x == (std::vector<float>{2, 3, 5, 6}), boost::test_tools::per_element());
  const simdiff::Dataset middle = simdiff::parse_csv("1,2,3\n4,5,6\n", "t", {.label_column = -2});
  BOOST_TEST(middle.y == (std::vector<float>{2, 5}), boost::test_tools::per_element());
  // A numeric first line is data unless the header is declared.
  const simdiff::Dataset declared =
      simdiff::parse_csv("7,8,9\n1,2,3\n", "t", {.header = simdiff::CsvHeader::present});
  BOOST_TEST(declared.rows == 1u);
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_column) {
  BOOST_TEST(error_of("") == "data.csv:1:1: the file is empty; expected rows of numbers");
  BOOST_TEST(error_of("1,2,3\n4,x5,6\n") ==
             "data.csv:2:3: field 2 is 'x5'; expected a finite number");
  BOOST_TEST(error_of("1,2,3\n4,5\n") ==
             "data.csv:2:1: a row of 2 fields; expected 3 as in line 1");
  BOOST_TEST(error_of("1,2,3\n4,,6\n") == "data.csv:2:3: empty field 2; expected a number");
  BOOST_TEST(error_of("1,2,3\n4,inf,6\n") ==
             "data.csv:2:3: field 2 is 'inf'; expected a finite number");
  BOOST_TEST(error_of("3,2,a,b\n1,2,0\n") ==
             "data.csv:1:1: the header says 3 rows; the file has 1");
  BOOST_TEST(error_of("a,b\n") == "data.csv:2:1: no data rows after the header");
  BOOST_TEST(error_of("1,2\n3,4\n", {.label_column = 2}).find("label_column = 2") !=
             std::string::npos);
  BOOST_CHECK_THROW(simdiff::load_csv("/nonexistent/file.csv"), std::runtime_error);
  const simdiff::Dataset fractional = simdiff::parse_csv("1,0.5\n2,1\n", "t");
  BOOST_CHECK_THROW((void)fractional.classes(), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(split_and_standardization) {
  std::string text;
  for (int r = 0; r < 50; ++r)
    text += std::to_string(r) + "," + std::to_string(2 * r) + ",7," + std::to_string(r % 2) + "\n";
  const simdiff::Dataset data = simdiff::parse_csv(text, "t");
  auto [train, test] = simdiff::train_test_split(data, 0.2, 3);
  BOOST_TEST(train.rows == 40u);
  BOOST_TEST(test.rows == 10u);
  auto [train2, test2] = simdiff::train_test_split(data, 0.2, 3);
  BOOST_TEST(test.x == test2.x, boost::test_tools::per_element());
  auto [train3, test3] = simdiff::train_test_split(data, 0.2, 4);
  BOOST_TEST(test.x != test3.x);
  // Rows stay whole: feature 1 is twice feature 0 in every row of both splits.
  for (std::size_t r = 0; r < test.rows; ++r) BOOST_TEST(test.x[3 * r + 1] == 2 * test.x[3 * r]);

  const auto scaler = simdiff::Standardizer::fit(train);
  double mean = 0;
  for (std::size_t r = 0; r < train.rows; ++r) mean += train.x[3 * r];
  BOOST_TEST(scaler.mean[0] == mean / 40, boost::test_tools::tolerance(1e-12));
  BOOST_TEST(scaler.scale[2] == 1.0);  // a constant feature
  scaler.transform(train);
  double sum = 0, squares = 0;
  for (std::size_t r = 0; r < train.rows; ++r) {
    sum += train.x[3 * r + 1];
    squares += double(train.x[3 * r + 1]) * train.x[3 * r + 1];
  }
  BOOST_TEST(std::abs(sum / 40) < 1e-6);
  BOOST_TEST(squares / 40 == 1.0, boost::test_tools::tolerance(1e-5));
  BOOST_CHECK_THROW(simdiff::train_test_split(data, 1.0, 0), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(safetensors)

BOOST_AUTO_TEST_CASE(round_trip_is_bit_exact) {
  const auto path = temporary("round_trip.safetensors");
  simdiff::Sequential saved = small_model(1);
  saved.save_weights(path.string(), {{"note", "hello"}});
  simdiff::Sequential loaded = small_model(2);
  BOOST_TEST(std::vector<float>(loaded.weights().begin(), loaded.weights().end()) !=
             std::vector<float>(saved.weights().begin(), saved.weights().end()));
  const auto metadata = loaded.load_weights(path.string());
  BOOST_TEST(metadata.at("note") == "hello");
  BOOST_TEST(metadata.at("format") == "simdiff");
  const auto a = saved.weights(), b = loaded.weights();
  BOOST_TEST(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  // An unbuilt model of the same layers builds itself from the file.
  simdiff::Sequential fresh({simdiff::Dense{.units = 4, .activation = "relu"},
                             simdiff::Dense{.units = 2, .activation = "softmax"}});
  fresh.load_weights(path.string());
  BOOST_TEST(fresh.input_dim() == 3u);
  BOOST_TEST(std::memcmp(fresh.weights().data(), a.data(), a.size() * sizeof(float)) == 0);

  // The layout Python's safetensors reads: 8-byte little-endian length, JSON, 8-aligned data.
  const auto bytes = read_bytes(path);
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | bytes[std::size_t(i)];
  BOOST_TEST((8 + n) % 8 == 0u);
  const std::string header(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(n));
  BOOST_TEST(header.find("\"dense/kernel\":{\"data_offsets\":[") != std::string::npos, header);
  BOOST_TEST(header.find("\"dtype\":\"F32\",\"shape\":[3,4]") != std::string::npos, header);
  BOOST_TEST(bytes.size() == 8 + n + 4 * saved.count_params());
  std::filesystem::remove(path);
}

// A file written by hand as Python's safetensors.numpy.save_file writes it.
BOOST_AUTO_TEST_CASE(reads_python_layout) {
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"k":"v"}})";
  std::vector<std::uint8_t> bytes = {std::uint8_t(header.size()), 0, 0, 0, 0, 0, 0, 0};
  for (const char c : header) bytes.push_back(std::uint8_t(c));
  for (const std::uint8_t b : {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}) bytes.push_back(b);
  const simdiff::SafetensorsFile file = simdiff::parse_safetensors(bytes, "python.safetensors");
  BOOST_TEST(file.tensors.at("w").to_floats() == (std::vector<float>{1.0f, -2.0f}),
             boost::test_tools::per_element());
  BOOST_TEST(file.metadata.at("k") == "v");
}

BOOST_AUTO_TEST_CASE(bad_files_are_rejected_and_leave_the_model_unchanged) {
  const auto good = temporary("good.safetensors");
  const auto bad = temporary("bad.safetensors");
  small_model(1).save_weights(good.string());
  const std::vector<std::uint8_t> bytes = read_bytes(good);
  simdiff::Sequential model = small_model(5);
  const std::vector<float> before(model.weights().begin(), model.weights().end());

  const auto rejects = [&](const std::vector<std::uint8_t>& content, const std::string& part,
                           simdiff::Sequential& target) {
    write_bytes(bad, content);
    std::string message = "(no exception)";
    try {
      target.load_weights(bad.string());
    } catch (const std::invalid_argument& e) {
      message = e.what();
    }
    BOOST_TEST(message.find(part) != std::string::npos,
               "'" << message << "' lacks '" << part << "'");
    BOOST_TEST(std::vector<float>(target.weights().begin(), target.weights().end()) == before,
               boost::test_tools::per_element());
  };
  rejects({bytes.begin(), bytes.end() - 5}, "truncated", model);
  rejects({bytes.begin(), bytes.begin() + 5}, "truncated", model);
  std::vector<std::uint8_t> corrupt = bytes;
  corrupt[8] = '[';  // the header's opening brace
  rejects(corrupt, "corrupt safetensors header", model);
  std::vector<std::uint8_t> huge = bytes;
  huge[7] = 0x7f;
  rejects(huge, "corrupt safetensors header: header length", model);

  // Wrong shape, wrong dtype, missing tensor: files written through the API.
  simdiff::SafetensorsFile file = simdiff::load_safetensors(good.string());
  simdiff::SafetensorsFile reshaped = file;
  reshaped.tensors.at("dense/kernel").shape = {4, 3};
  simdiff::save_safetensors(bad.string(), reshaped);
  rejects(read_bytes(bad), "tensor 'dense/kernel' has shape [4, 3]; expected [3, 4]", model);
  simdiff::SafetensorsFile retyped = file;
  auto& bias = retyped.tensors.at("dense_1/bias");
  bias.dtype = "F64";
  bias.bytes.resize(16);
  simdiff::save_safetensors(bad.string(), retyped);
  rejects(read_bytes(bad), "tensor 'dense_1/bias' has dtype F64; expected F32", model);
  simdiff::SafetensorsFile missing = file;
  missing.tensors.erase("dense_1/kernel");
  simdiff::save_safetensors(bad.string(), missing);
  rejects(read_bytes(bad), "missing tensor 'dense_1/kernel'", model);

  // Offsets past the data, and a size that disagrees with the shape.
  const auto patch = [&](const std::string& from, const std::string& to) {
    std::string header(bytes.begin() + 8, bytes.begin() + 8 + std::ptrdiff_t(bytes[0]) +
                                              256 * std::ptrdiff_t(bytes[1]));
    const auto at = header.find(from);
    BOOST_REQUIRE(at != std::string::npos);
    header.replace(at, from.size(), to);
    // push_back rather than insert: g++ 12 reports a false -Warray-bounds on the insert.
    std::vector<std::uint8_t> out = {
        std::uint8_t(header.size() & 0xff), std::uint8_t(header.size() >> 8), 0, 0, 0, 0, 0, 0};
    for (const char c : header) out.push_back(std::uint8_t(c));
    for (std::size_t i = 8 + bytes[0] + 256u * bytes[1]; i < bytes.size(); ++i) {
      out.push_back(bytes[i]);
    }
    return out;
  };
  rejects(patch("\"shape\":[3,4]", "\"shape\":[3,5]"), "need 60", model);
  rejects(patch("\"dtype\":\"F32\"", "\"dtype\":\"X32\""), "not a safetensors dtype", model);
  std::filesystem::remove(good);
  std::filesystem::remove(bad);
}

BOOST_AUTO_TEST_CASE(save_is_atomic) {
  const auto path = temporary("atomic.safetensors");
  {
    std::ofstream out(path);
    out << "previous content";
  }
  // A directory that does not exist: nothing is written, no temporary file is left.
  const auto missing_dir = temporary("no_such_dir") / "w.safetensors";
  BOOST_CHECK_THROW(small_model(1).save_weights(missing_dir.string()), std::runtime_error);
  small_model(1).save_weights(path.string());
  std::size_t leftovers = 0;
  for (const auto& entry : std::filesystem::directory_iterator(path.parent_path())) {
    leftovers +=
        entry.path().string().find(path.filename().string() + ".tmp-") != std::string::npos;
  }
  BOOST_TEST(leftovers == 0u);
  BOOST_TEST(read_bytes(path).size() > 16u);
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
