// Every loss gradient against central finite differences of the loss value, in double, on random
// inputs away from the clip boundaries and kinks: every loss and option combination, every
// reduction, without weights, with sample weights (one of them 0) and with class weights, on every
// backend and target.
#include <cmath>
#include <string>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

using simdiff::Reduction;

constexpr std::size_t kRows = 5;
constexpr std::size_t kCols = 4;

enum class Inputs {
  binary_probabilities,       // y_pred in [0.02, 0.98], y_true in {0, 1}
  soft_binary_probabilities,  // the same with targets in [0, 1]
  binary_logits,              // y_pred ~ N(0, 2), y_true in {0, 1}
  categorical_probabilities,  // y_pred in [0.05, 1] (rows not normalized), one-hot y_true
  soft_categorical,           // probabilities, targets a random distribution
  categorical_logits,         // y_pred ~ N(0, 2), one-hot y_true
  sparse_probabilities,       // labels in [0, cols), some equal to 1 (ignore_class 1 when set)
  sparse_logits,
  regression,  // y_true ~ N(0, 2), |y_pred - y_true| in [0.05, 2]
};

struct GradientCase {
  std::string name;
  simdiff::Loss::Config config;  // its reduction is replaced by each reduction in turn
  Inputs inputs;
};

simdiff::Loss::Config with_reduction(simdiff::Loss::Config config, Reduction reduction) {
  std::visit([&](auto& options) { options.reduction = reduction; }, config);
  return config;
}

std::string format(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::vector<GradientCase> gradient_cases() {
  std::vector<GradientCase> cases;
  for (const bool logits : {false, true}) {
    const std::string kind = logits ? "logits" : "probabilities";
    for (const double ls : {0.0, 0.2}) {
      const std::string smoothing = " ls " + format(ls);
      cases.push_back({"BinaryCrossentropy " + kind + smoothing,
                       simdiff::BinaryCrossentropy{.from_logits = logits, .label_smoothing = ls},
                       logits ? Inputs::binary_logits : Inputs::binary_probabilities});
      cases.push_back(
          {"CategoricalCrossentropy " + kind + smoothing,
           simdiff::CategoricalCrossentropy{.from_logits = logits, .label_smoothing = ls},
           logits ? Inputs::categorical_logits : Inputs::categorical_probabilities});
      for (const std::optional<std::int64_t> ignore :
           {std::optional<std::int64_t>{}, std::optional<std::int64_t>{1}}) {
        cases.push_back({"SparseCategoricalCrossentropy " + kind + smoothing +
                             (ignore ? " ignore_class 1" : ""),
                         simdiff::SparseCategoricalCrossentropy{
                             .from_logits = logits, .ignore_class = ignore, .label_smoothing = ls},
                         logits ? Inputs::sparse_logits : Inputs::sparse_probabilities});
      }
      for (const bool balancing : {false, true}) {
        for (const auto& [alpha, gamma] : {std::pair{0.25, 2.0}, std::pair{0.6, 0.0},
                                           std::pair{0.4, 0.5}, std::pair{0.3, 3.5}}) {
          cases.push_back({"BinaryFocalCrossentropy " + kind + smoothing + " balancing " +
                               format(balancing) + " alpha " + format(alpha) + " gamma " +
                               format(gamma),
                           simdiff::BinaryFocalCrossentropy{.apply_class_balancing = balancing,
                                                            .alpha = alpha,
                                                            .gamma = gamma,
                                                            .from_logits = logits,
                                                            .label_smoothing = ls},
                           logits ? Inputs::binary_logits : Inputs::binary_probabilities});
        }
      }
      for (const auto& [alpha, gamma] :
           {std::pair{0.25, 2.0}, std::pair{1.0, 0.0}, std::pair{0.5, 1.5}, std::pair{0.5, 0.5}}) {
        cases.push_back(
            {"CategoricalFocalCrossentropy " + kind + smoothing + " alpha " + format(alpha) +
                 " gamma " + format(gamma),
             simdiff::CategoricalFocalCrossentropy{
                 .alpha = alpha, .gamma = gamma, .from_logits = logits, .label_smoothing = ls},
             logits ? Inputs::categorical_logits : Inputs::categorical_probabilities});
      }
    }
  }
  cases.push_back({"BinaryCrossentropy soft targets", simdiff::BinaryCrossentropy{},
                   Inputs::soft_binary_probabilities});
  cases.push_back({"BinaryCrossentropy logits soft targets",
                   simdiff::BinaryCrossentropy{.from_logits = true},
                   Inputs::soft_binary_probabilities});
  cases.push_back({"CategoricalCrossentropy soft targets", simdiff::CategoricalCrossentropy{},
                   Inputs::soft_categorical});
  cases.push_back({"CategoricalFocalCrossentropy soft targets",
                   simdiff::CategoricalFocalCrossentropy{}, Inputs::soft_categorical});
  cases.push_back({"MeanSquaredError", simdiff::MeanSquaredError{}, Inputs::regression});
  cases.push_back({"MeanAbsoluteError", simdiff::MeanAbsoluteError{}, Inputs::regression});
  return cases;
}

struct RandomBatch {
  std::vector<double> y_true;
  std::vector<double> y_pred;
  bool sparse = false;
};

RandomBatch random_batch(Inputs inputs, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 2);
  RandomBatch batch;
  const auto one_hot = [&] {
    for (std::size_t r = 0; r < kRows; ++r) {
      const auto label = static_cast<std::size_t>(unit(engine) * kCols) % kCols;
      for (std::size_t c = 0; c < kCols; ++c) batch.y_true.push_back(c == label ? 1 : 0);
    }
  };
  switch (inputs) {
    case Inputs::binary_probabilities:
    case Inputs::soft_binary_probabilities:
    case Inputs::binary_logits:
      for (std::size_t i = 0; i < kRows * kCols; ++i) {
        const double u = unit(engine);
        batch.y_true.push_back(inputs == Inputs::soft_binary_probabilities ? u : u < 0.5 ? 0 : 1);
        batch.y_pred.push_back(inputs == Inputs::binary_logits ? normal(engine)
                                                               : 0.02 + 0.96 * unit(engine));
      }
      return batch;
    case Inputs::categorical_probabilities:
    case Inputs::categorical_logits:
      one_hot();
      for (std::size_t i = 0; i < kRows * kCols; ++i) {
        batch.y_pred.push_back(inputs == Inputs::categorical_logits ? normal(engine)
                                                                    : 0.05 + 0.95 * unit(engine));
      }
      return batch;
    case Inputs::soft_categorical:
      for (std::size_t r = 0; r < kRows; ++r) {
        double sum = 0;
        std::vector<double> row;
        for (std::size_t c = 0; c < kCols; ++c) sum += row.emplace_back(unit(engine));
        for (const double v : row) batch.y_true.push_back(v / sum);
      }
      for (std::size_t i = 0; i < kRows * kCols; ++i) {
        batch.y_pred.push_back(0.05 + 0.95 * unit(engine));
      }
      return batch;
    case Inputs::sparse_probabilities:
    case Inputs::sparse_logits:
      batch.sparse = true;
      for (std::size_t r = 0; r < kRows; ++r) {
        // Label 1 in rows 1 and 3 (ignored when ignore_class is 1), random elsewhere.
        batch.y_true.push_back(r % 2 == 1 ? 1.0 : static_cast<double>(r % kCols));
      }
      for (std::size_t i = 0; i < kRows * kCols; ++i) {
        batch.y_pred.push_back(inputs == Inputs::sparse_logits ? normal(engine)
                                                               : 0.05 + 0.95 * unit(engine));
      }
      return batch;
    case Inputs::regression:
      for (std::size_t i = 0; i < kRows * kCols; ++i) {
        const double y = normal(engine);
        const double distance = 0.05 + 1.95 * unit(engine);
        batch.y_true.push_back(y);
        batch.y_pred.push_back(unit(engine) < 0.5 ? y - distance : y + distance);
      }
      return batch;
  }
  return batch;
}

enum class Weighting { none, sample_weight, class_weight };

const char* weighting_name(Weighting weighting) {
  switch (weighting) {
    case Weighting::none:
      return "no weights";
    case Weighting::sample_weight:
      return "sample_weight";
    case Weighting::class_weight:
      return "class_weight";
  }
  return "";
}

const char* reduction_name(Reduction reduction) {
  switch (reduction) {
    case Reduction::sum_over_batch_size:
      return "sum_over_batch_size";
    case Reduction::sum:
      return "sum";
    case Reduction::none:
      return "none";
    case Reduction::mean_with_sample_weight:
      return "mean_with_sample_weight";
  }
  return "";
}

BOOST_FIXTURE_TEST_SUITE(loss_gradients, ChecksResults)

BOOST_AUTO_TEST_CASE(gradients_match_central_differences) {
  const std::vector<GradientCase> cases = gradient_cases();
  const std::vector<double> sample_weight = {0.5, 0.0, 1.75, 1.0, 2.5};
  const simdiff::ClassWeight class_weight = {{0, 0.5}, {1, 2.0}, {3, 3.0}};
  for_each_target([&](const TargetUnderTest&) {
    Comparison comparison("loss gradient vs central differences double", "of the bound");
    Comparison consistency("loss value_and_grad vs operator() double");
    for (std::size_t i = 0; i < cases.size(); ++i) {
      const GradientCase& gradient_case = cases[i];
      RandomBatch batch = random_batch(gradient_case.inputs, seed_of(gradient_case.name, i));
      const simdiff::MatrixShape shape{kRows, kCols};
      for (const Reduction reduction : {Reduction::sum_over_batch_size, Reduction::sum,
                                        Reduction::none, Reduction::mean_with_sample_weight}) {
        const simdiff::Loss loss(with_reduction(gradient_case.config, reduction));
        for (const Weighting weighting :
             {Weighting::none, Weighting::sample_weight, Weighting::class_weight}) {
          std::vector<double> y_pred = batch.y_pred;
          simdiff::LossInput<double> input{
              .y_true = batch.y_true,
              .y_pred = y_pred,
              .shape = shape,
              .sample_weight = weighting == Weighting::sample_weight
                                   ? std::span<const double>(sample_weight)
                                   : std::span<const double>(),
              .class_weight = weighting == Weighting::class_weight ? &class_weight : nullptr};
          std::vector<double> grad(kRows * kCols);
          const double value = loss.value_and_grad(input, grad);
          const auto where = [&] {
            return gradient_case.name + ", " + reduction_name(reduction) + ", " +
                   weighting_name(weighting);
          };
          consistency.check(expect<double>(Real(loss(input)), 1e-14 * (1 + std::fabs(value))),
                            value, where);
          double grad_scale = 1e-3;
          for (const double g : grad) grad_scale = std::max(grad_scale, std::fabs(g));
          for (std::size_t k = 0; k < y_pred.size(); ++k) {
            const double x = y_pred[k];
            const double h = 1e-6 * std::max(1.0, std::fabs(x));
            y_pred[k] = x + h;
            const double above = loss(input);
            y_pred[k] = x - h;
            const double below = loss(input);
            y_pred[k] = x;
            const double difference = (above - below) / (2 * h);
            comparison.check(expect<double>(Real(difference), 1e-7 * grad_scale + 1e-9), grad[k],
                             [&] {
                               return where() + ", element " + std::to_string(k) +
                                      " (central difference " + std::to_string(difference) + ")";
                             });
          }
        }
      }
    }
    comparison.report();
    consistency.report();
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
