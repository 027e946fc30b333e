// `simdiff train`, `simdiff evaluate`, `simdiff predict`: a dense classifier on a CSV dataset
// (the bundled digits by default), the Keras workflow from the command line.
//
// A saved weight file carries what the other two commands need in its safetensors metadata
// ("simdiff_model": the layers, the loss, the label column and the standardization statistics
// of the training split), so `evaluate` and `predict` rebuild the same model and preprocessing.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "simdiff/data.h"
#include "simdiff/model.h"
#include "simdiff/safetensors.h"
#include "simdiff/simdiff.h"
#include "tools/commands.h"
#include "tools/plot.h"

namespace simdiff::tools {
namespace {

struct TrainOptions {
  std::string data;
  long label_column = -1;
  std::string layers = "64,32";
  std::string activation = "relu";
  std::string loss;  // empty: by the number of classes
  std::string optimizer = "adam";
  std::optional<double> learning_rate;
  int epochs = 30;
  std::size_t batch_size = 32;
  double validation_split = 0.1;
  double test_split = 0.2;
  std::uint64_t seed = 42;
  int verbose = 1;
  std::string save;
  std::string history;
  std::string plot;
};

// The bundled dataset: the source tree's data/ (a build tree's binary), else the installed copy.
std::string default_data_file() {
  for (const char* directory : {SIMDIFF_SOURCE_DATA_DIR, SIMDIFF_INSTALLED_DATA_DIR}) {
    const std::filesystem::path path = std::filesystem::path(directory) / "digits.csv";
    if (std::filesystem::exists(path)) return path.string();
  }
  throw std::invalid_argument(fmt::format(
      "--data: no file given and the bundled digits.csv is neither in {} nor in {}; pass --data",
      SIMDIFF_SOURCE_DATA_DIR, SIMDIFF_INSTALLED_DATA_DIR));
}

std::vector<std::size_t> parse_layers(const std::string& text) {
  std::vector<std::size_t> units;
  if (text.empty() || text == "none") return units;
  std::stringstream stream(text);
  std::string item;
  while (std::getline(stream, item, ',')) {
    std::size_t used = 0;
    unsigned long value = 0;
    try {
      value = std::stoul(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size() || value == 0 || item.front() == '-') {
      throw std::invalid_argument(fmt::format(
          "--layers: '{}' in '{}' is not a layer size; expected positive integers separated by "
          "commas, such as 64,32 (or 'none' for no hidden layer)",
          item, text));
    }
    units.push_back(value);
  }
  return units;
}

bool is_sparse_loss(const std::string& loss) {
  return Loss::from_name(loss).name() == "sparse_categorical_crossentropy";
}

// The targets the loss reads: labels for the sparse loss and for a one-unit binary output,
// one-hot rows otherwise.
std::vector<float> targets_for(const Dataset& data, const std::string& loss, std::size_t units) {
  if (units == 1 || is_sparse_loss(loss)) return data.y;
  std::vector<float> one_hot(data.rows * units, 0.0f);
  for (std::size_t r = 0; r < data.rows; ++r) {
    const auto label = static_cast<std::size_t>(data.y[r]);
    if (label >= units) {
      throw std::invalid_argument(
          fmt::format("row {}: label {} is outside the model's {} classes", r, label, units));
    }
    one_hot[r * units + label] = 1.0f;
  }
  return one_hot;
}

struct ModelConfig {
  std::vector<Dense> layers;
  std::string loss;
  std::size_t classes = 0;
  long label_column = -1;
  Standardizer standardizer;

  nlohmann::json to_json() const {
    nlohmann::json layer_list = nlohmann::json::array();
    for (const Dense& layer : layers) {
      layer_list.push_back({{"units", layer.units}, {"activation", layer.activation}});
    }
    return {{"layers", layer_list},      {"loss", loss},
            {"classes", classes},        {"label_column", label_column},
            {"mean", standardizer.mean}, {"scale", standardizer.scale}};
  }

  static ModelConfig from_metadata(const std::map<std::string, std::string>& metadata,
                                   const std::string& path) {
    const auto it = metadata.find("simdiff_model");
    if (it == metadata.end()) {
      throw std::invalid_argument(path +
                                  ": no 'simdiff_model' metadata; expected a file written by "
                                  "`simdiff train --save`");
    }
    ModelConfig config;
    try {
      const auto json = nlohmann::json::parse(it->second);
      for (const auto& layer : json.at("layers")) {
        config.layers.push_back(Dense{.units = layer.at("units").get<std::size_t>(),
                                      .activation = layer.at("activation").get<std::string>()});
      }
      config.loss = json.at("loss").get<std::string>();
      config.classes = json.at("classes").get<std::size_t>();
      config.label_column = json.at("label_column").get<long>();
      config.standardizer.mean = json.at("mean").get<std::vector<double>>();
      config.standardizer.scale = json.at("scale").get<std::vector<double>>();
    } catch (const nlohmann::json::exception& error) {
      throw std::invalid_argument(path + ": corrupt 'simdiff_model' metadata: " + error.what());
    }
    return config;
  }
};

Sequential make_model(const ModelConfig& config, std::size_t features, std::uint64_t seed) {
  Sequential model(seed);
  for (std::size_t l = 0; l < config.layers.size(); ++l) {
    Dense layer = config.layers[l];
    if (l == 0) layer.input_dim = features;
    model.add(layer);
  }
  return model;
}

void write_history(const std::string& path, const History& history) {
  std::ofstream out(path + ".tmp");
  if (!out) throw std::runtime_error(path + ": cannot open for writing");
  out << "epoch";
  for (const auto& [name, values] : history.history) out << "," << name;
  out << "\n";
  for (std::size_t e = 0; e < history.epoch.size(); ++e) {
    out << history.epoch[e] + 1;
    for (const auto& [name, values] : history.history) out << "," << fmt::format("{}", values[e]);
    out << "\n";
  }
  out.close();
  if (!out) throw std::runtime_error(path + ": write failed");
  std::filesystem::rename(path + ".tmp", path);
}

std::string accuracy_name(const Logs& logs) {
  for (const char* name :
       {"accuracy", "binary_accuracy", "categorical_accuracy", "sparse_categorical_accuracy"}) {
    if (logs.count(name) != 0) return name;
  }
  return "";
}

void run_train(const TrainOptions& options) {
  const std::string path = options.data.empty() ? default_data_file() : options.data;
  const Dataset all = load_csv(path, {.label_column = options.label_column});
  const std::size_t classes = all.classes();
  if (classes < 2) {
    throw std::invalid_argument(fmt::format(
        "{}: the labels hold {} class; expected at least 2 for a classifier", path, classes));
  }
  auto [train, test] = train_test_split(all, options.test_split, options.seed);
  const Standardizer standardizer = Standardizer::fit(train);
  standardizer.transform(train);
  standardizer.transform(test);

  ModelConfig config;
  config.classes = classes;
  config.label_column = options.label_column;
  config.standardizer = standardizer;
  config.loss = options.loss.empty()
                    ? (classes == 2 ? "binary_crossentropy" : "categorical_crossentropy")
                    : options.loss;
  const Loss loss = Loss::from_name(config.loss);  // validates the name
  const bool binary =
      loss.name() == "binary_crossentropy" || loss.name() == "binary_focal_crossentropy";
  if (binary && classes != 2) {
    throw std::invalid_argument(
        fmt::format("--loss {}: the data has {} classes; expected 2 for a binary loss (use "
                    "categorical_crossentropy or sparse_categorical_crossentropy)",
                    config.loss, classes));
  }
  for (const std::size_t units : parse_layers(options.layers)) {
    config.layers.push_back(Dense{.units = units, .activation = options.activation});
  }
  config.layers.push_back(
      Dense{.units = binary ? 1 : classes, .activation = binary ? "sigmoid" : "softmax"});

  Sequential model = make_model(config, train.features, options.seed);
  model.compile({.optimizer = Optimizer::from_name(
                     options.optimizer, options.learning_rate
                                            ? std::optional<LearningRate>(*options.learning_rate)
                                            : std::nullopt),
                 .loss = loss,
                 .metrics = {"accuracy"}});

  const std::size_t units = model.output_dim();
  const std::vector<float> y_train = targets_for(train, config.loss, units);
  const std::vector<float> y_test = targets_for(test, config.loss, units);

  if (options.verbose > 0) {
    fmt::print(
        "Data: {}: {} rows, {} features, {} classes; {} for training, {} held out for "
        "testing (seed {})\n",
        path, all.rows, all.features, classes, train.rows, test.rows, options.seed);
    fmt::print("Optimizer: {} (learning rate {}), loss: {}\n\n", model.optimizer().name(),
               model.optimizer().current_learning_rate(), loss.name());
    fmt::print("{}\n", model.summary());
    std::fflush(stdout);
  }

  const auto start = std::chrono::steady_clock::now();
  const History history = model.fit(train.x, y_train, train.rows,
                                    {.epochs = options.epochs,
                                     .batch_size = options.batch_size,
                                     .validation_split = options.validation_split,
                                     .verbose = options.verbose});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const Logs scores = model.evaluate(test.x, y_test, test.rows);
  const std::string accuracy = accuracy_name(scores);
  fmt::print(
      "\nTest accuracy: {:.4f} ({} test rows), test loss: {:.4f}; training: {} epochs in "
      "{:.2f} s\n",
      accuracy.empty() ? 0.0 : scores.at(accuracy), test.rows, scores.at("loss"),
      history.epoch.size(), seconds);

  if (!options.save.empty()) {
    model.save_weights(options.save, {{"simdiff_model", config.to_json().dump()}});
    fmt::print("Weights saved to {}\n", options.save);
  }
  if (!options.history.empty()) {
    write_history(options.history, history);
    fmt::print("History written to {}\n", options.history);
  }
  if (!options.plot.empty()) {
    write_training_plot(options.plot, history);
    fmt::print("Plot written to {}\n", options.plot);
  }
}

struct LoadedModel {
  ModelConfig config;
  Sequential model;
  Dataset data;
};

LoadedModel load_model_and_data(const std::string& weights, const std::string& data_path) {
  // The architecture comes from the metadata, the numbers from the tensors.
  const SafetensorsFile file = load_safetensors(weights);
  ModelConfig config = ModelConfig::from_metadata(file.metadata, weights);
  Dataset data = load_csv(data_path.empty() ? default_data_file() : data_path,
                          {.label_column = config.label_column});
  if (data.features != config.standardizer.mean.size()) {
    throw std::invalid_argument(fmt::format("{}: {} features; the model {} was trained on {}",
                                            data_path, data.features, weights,
                                            config.standardizer.mean.size()));
  }
  config.standardizer.transform(data);
  Sequential model = make_model(config, data.features, 0);
  model.load_weights(weights);
  return {std::move(config), std::move(model), std::move(data)};
}

void run_evaluate(const std::string& weights, const std::string& data_path) {
  LoadedModel loaded = load_model_and_data(weights, data_path);
  loaded.model.compile({.loss = loaded.config.loss, .metrics = {"accuracy"}});
  const std::vector<float> y =
      targets_for(loaded.data, loaded.config.loss, loaded.model.output_dim());
  const Logs scores = loaded.model.evaluate(loaded.data.x, y, loaded.data.rows);
  const std::string accuracy = accuracy_name(scores);
  fmt::print("{} rows: accuracy {:.4f}, loss {:.4f}\n", loaded.data.rows,
             accuracy.empty() ? 0.0 : scores.at(accuracy), scores.at("loss"));
}

void run_predict(const std::string& weights, const std::string& data_path) {
  LoadedModel loaded = load_model_and_data(weights, data_path);
  const std::vector<float> scores = loaded.model.predict(loaded.data.x, loaded.data.rows);
  const std::size_t units = loaded.model.output_dim();
  fmt::print("row,label,predicted,score\n");
  for (std::size_t r = 0; r < loaded.data.rows; ++r) {
    const float* row = scores.data() + r * units;
    std::size_t best = 0;
    float score = row[0];
    if (units == 1) {
      best = row[0] > 0.5f ? 1 : 0;
      score = best == 1 ? row[0] : 1 - row[0];
    } else {
      for (std::size_t c = 1; c < units; ++c) {
        if (row[c] > row[best]) best = c;
      }
      score = row[best];
    }
    fmt::print("{},{},{},{:.6f}\n", r, loaded.data.y[r], best, score);
  }
}

}  // namespace

void add_train_commands(CLI::App& app) {
  auto options = std::make_shared<TrainOptions>();
  CLI::App* train = app.add_subcommand(
      "train",
      "Train a dense classifier on a CSV dataset (default: the bundled digits), print the model "
      "summary, the progress and the test accuracy");
  train->add_option("--data", options->data,
                    "CSV file: feature columns and an integer class label (default: the bundled "
                    "data/digits.csv)");
  train
      ->add_option("--label-column", options->label_column,
                   "Column of the label, 0-based, negative from the end")
      ->capture_default_str();
  train
      ->add_option("--layers", options->layers,
                   "Hidden layer sizes, comma-separated ('none' for a linear model)")
      ->capture_default_str();
  train->add_option("--activation", options->activation, "Hidden layers' activation")
      ->check(CLI::IsMember(
          {"relu", "tanh", "sigmoid", "linear", "elu", "selu", "softplus", "leaky_relu"}))
      ->capture_default_str();
  train->add_option("--loss", options->loss,
                    "Keras loss name (default: binary_crossentropy for 2 classes, else "
                    "categorical_crossentropy)");
  train->add_option("--optimizer", options->optimizer, "sgd, rmsprop, adam or adamw")
      ->check(CLI::IsMember({"sgd", "rmsprop", "adam", "adamw"}, CLI::ignore_case))
      ->capture_default_str();
  train
      ->add_option("--learning-rate,--lr", options->learning_rate,
                   "Learning rate (default: the optimizer's Keras default)")
      ->check(CLI::Validator(
          [](std::string& text) {
            double value = 0;
            std::size_t used = 0;
            try {
              value = std::stod(text, &used);
            } catch (const std::exception&) {
              used = 0;
            }
            if (used == text.size() && std::isfinite(value) && value > 0) return std::string();
            return "'" + text + "' is not a learning rate; expected a finite number > 0";
          },
          "RATE > 0"));
  train->add_option("--epochs", options->epochs, "Epochs")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  train->add_option("--batch-size", options->batch_size, "Batch size")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 24))
      ->capture_default_str();
  train
      ->add_option("--validation-split", options->validation_split,
                   "Fraction of the training rows held out for validation after each epoch")
      ->check(CLI::Range(0.0, 0.95))
      ->capture_default_str();
  train
      ->add_option("--test-split", options->test_split,
                   "Fraction of the rows held out for the final test")
      ->check(CLI::Range(0.01, 0.95))
      ->capture_default_str();
  train->add_option("--seed", options->seed, "Seed of the split, the weights and the shuffling")
      ->capture_default_str();
  train->add_option("--verbose", options->verbose, "0 silent, 1 progress bar, 2 one line per epoch")
      ->check(CLI::Range(0, 2))
      ->capture_default_str();
  train->add_option("--save", options->save, "Write the weights (safetensors) to this file");
  train->add_option("--history", options->history, "Write the per-epoch history (CSV)");
  train->add_option("--plot", options->plot, "Write loss and accuracy curves (SVG)");
  train->callback([options] { run_train(*options); });

  auto weights = std::make_shared<std::string>();
  auto data = std::make_shared<std::string>();
  CLI::App* evaluate =
      app.add_subcommand("evaluate", "Loss and accuracy of saved weights on a CSV dataset");
  evaluate->add_option("--weights", *weights, "A file written by `simdiff train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  evaluate->add_option("--data", *data, "CSV file (default: the bundled digits)");
  evaluate->callback([weights, data] { run_evaluate(*weights, *data); });

  auto predict_weights = std::make_shared<std::string>();
  auto predict_data = std::make_shared<std::string>();
  CLI::App* predict = app.add_subcommand(
      "predict", "Print the predicted class and its score for every row of a CSV dataset");
  predict->add_option("--weights", *predict_weights, "A file written by `simdiff train --save`")
      ->required()
      ->check(CLI::ExistingFile);
  predict->add_option("--data", *predict_data, "CSV file (default: the bundled digits)");
  predict->callback(
      [predict_weights, predict_data] { run_predict(*predict_weights, *predict_data); });
}

}  // namespace simdiff::tools
