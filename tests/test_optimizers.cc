// Optimizers (<simdiff/optimizers.h>): every configuration on every backend and target against an
// independent double-precision implementation of Keras 3's update formulas, a few steps computed
// by hand, the learning-rate schedules, the `lr` alias and argument errors.
#include <simdiff/optimizers.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "test_support.h"

namespace {

using simdiff::Optimizer;

// ---------------------------------------------------------------------------------------------
// The reference: Keras 3's formulas, written out per element in double.

struct Reference {
  enum Kind { sgd, rmsprop, adam } kind;
  double lr = 0.01;  // constant, or overridden per step by `rates`
  std::vector<double> rates = {};
  double momentum = 0;
  bool nesterov = false;
  double rho = 0.9, epsilon = 1e-7;
  bool centered = false;
  double beta_1 = 0.9, beta_2 = 0.999;
  bool amsgrad = false;
  double weight_decay = 0, clipnorm = 0, clipvalue = 0, global_clipnorm = 0;
  std::vector<std::size_t> sizes = {};

  std::vector<double> m = {}, a = {}, mg = {}, s = {}, s_max = {};
  int step = 0;

  void run(std::vector<double>& v, std::vector<double> g) {
    const std::size_t n = v.size();
    if (m.empty()) m = a = mg = s = s_max = std::vector<double>(n, 0.0);
    if (clipnorm > 0) {
      std::size_t offset = 0;
      for (const std::size_t size : sizes) {
        double sum = 0;
        for (std::size_t i = offset; i < offset + size; ++i) sum += g[i] * g[i];
        const double norm = std::sqrt(sum);
        for (std::size_t i = offset; i < offset + size; ++i) {
          g[i] = g[i] * clipnorm / std::max(norm, clipnorm);
        }
        offset += size;
      }
    } else if (global_clipnorm > 0) {
      double sum = 0;
      for (const double x : g) sum += x * x;
      const double norm = std::sqrt(sum);
      const double scale = global_clipnorm * std::min(1 / norm, 1 / global_clipnorm);
      for (double& x : g) x *= scale;
    } else if (clipvalue > 0) {
      for (double& x : g) x = std::min(std::max(x, -clipvalue), clipvalue);
    }
    const double rate = rates.empty() ? lr : rates[static_cast<std::size_t>(step)];
    for (std::size_t i = 0; i < n; ++i) {
      if (weight_decay > 0) v[i] = v[i] - v[i] * weight_decay * rate;
      switch (kind) {
        case sgd:
          if (momentum == 0) {
            v[i] -= g[i] * rate;
          } else {
            m[i] = m[i] * momentum - g[i] * rate;
            v[i] += nesterov ? m[i] * momentum - g[i] * rate : m[i];
          }
          break;
        case rmsprop: {
          a[i] = rho * a[i] + (1 - rho) * g[i] * g[i];
          double denominator = a[i] + epsilon;
          if (centered) {
            mg[i] = rho * mg[i] + (1 - rho) * g[i];
            denominator = a[i] - mg[i] * mg[i] + epsilon;
          }
          const double increment = rate * g[i] / std::sqrt(denominator);
          if (momentum > 0) {
            m[i] = momentum * m[i] + increment;
            v[i] -= m[i];
          } else {
            v[i] -= increment;
          }
          break;
        }
        case adam: {
          const double t = step + 1;
          const double alpha =
              rate * std::sqrt(1 - std::pow(beta_2, t)) / (1 - std::pow(beta_1, t));
          m[i] += (g[i] - m[i]) * (1 - beta_1);
          s[i] += (g[i] * g[i] - s[i]) * (1 - beta_2);
          double second = s[i];
          if (amsgrad) {
            s_max[i] = std::max(s_max[i], s[i]);
            second = s_max[i];
          }
          v[i] -= m[i] * alpha / (std::sqrt(second) + epsilon);
          break;
        }
      }
    }
    ++step;
  }
};

struct Case {
  std::string name;
  Optimizer::Config config;
  Reference reference;
};

std::vector<Case> cases() {
  using R = Reference;
  std::vector<Case> out;
  out.push_back({"sgd", simdiff::SGD{.learning_rate = 0.1}, R{.kind = R::sgd, .lr = 0.1}});
  out.push_back({"sgd momentum", simdiff::SGD{.learning_rate = 0.1, .momentum = 0.9},
                 R{.kind = R::sgd, .lr = 0.1, .momentum = 0.9}});
  out.push_back({"sgd nesterov",
                 simdiff::SGD{.learning_rate = 0.1, .momentum = 0.8, .nesterov = true},
                 R{.kind = R::sgd, .lr = 0.1, .momentum = 0.8, .nesterov = true}});
  out.push_back({"rmsprop", simdiff::RMSprop{.lr = 0.01}, R{.kind = R::rmsprop, .lr = 0.01}});
  out.push_back({"rmsprop momentum", simdiff::RMSprop{.learning_rate = 0.01, .momentum = 0.5},
                 R{.kind = R::rmsprop, .lr = 0.01, .momentum = 0.5}});
  out.push_back({"rmsprop centered",
                 simdiff::RMSprop{.learning_rate = 0.01, .momentum = 0.3, .centered = true},
                 R{.kind = R::rmsprop, .lr = 0.01, .momentum = 0.3, .centered = true}});
  out.push_back({"rmsprop rho eps", simdiff::RMSprop{.rho = 0.5, .epsilon = 1e-3},
                 R{.kind = R::rmsprop, .lr = 0.001, .rho = 0.5, .epsilon = 1e-3}});
  out.push_back({"adam", simdiff::Adam{.learning_rate = 0.05}, R{.kind = R::adam, .lr = 0.05}});
  out.push_back({"adam amsgrad", simdiff::Adam{.learning_rate = 0.05, .amsgrad = true},
                 R{.kind = R::adam, .lr = 0.05, .amsgrad = true}});
  out.push_back({"adam betas", simdiff::Adam{.beta_1 = 0.5, .beta_2 = 0.75, .epsilon = 1e-4},
                 R{.kind = R::adam, .lr = 0.001, .epsilon = 1e-4, .beta_1 = 0.5, .beta_2 = 0.75}});
  out.push_back({"adamw", simdiff::AdamW{.learning_rate = 0.05, .weight_decay = 0.5},
                 R{.kind = R::adam, .lr = 0.05, .weight_decay = 0.5}});
  out.push_back({"sgd weight decay", simdiff::SGD{.learning_rate = 0.1, .weight_decay = 0.3},
                 R{.kind = R::sgd, .lr = 0.1, .weight_decay = 0.3}});
  out.push_back({"adam clipnorm", simdiff::Adam{.learning_rate = 0.05, .clipnorm = 0.5},
                 R{.kind = R::adam, .lr = 0.05, .clipnorm = 0.5}});
  out.push_back({"sgd clipnorm", simdiff::SGD{.learning_rate = 0.1, .clipnorm = 0.5},
                 R{.kind = R::sgd, .lr = 0.1, .clipnorm = 0.5}});
  out.push_back({"sgd global_clipnorm", simdiff::SGD{.learning_rate = 0.1, .global_clipnorm = 0.7},
                 R{.kind = R::sgd, .lr = 0.1, .global_clipnorm = 0.7}});
  out.push_back({"rmsprop clipvalue", simdiff::RMSprop{.learning_rate = 0.01, .clipvalue = 0.1},
                 R{.kind = R::rmsprop, .lr = 0.01, .clipvalue = 0.1}});
  const simdiff::ExponentialDecay exponential{
      .initial_learning_rate = 0.1, .decay_steps = 2, .decay_rate = 0.5};
  out.push_back(
      {"sgd exponential decay", simdiff::SGD{.learning_rate = exponential},
       R{.kind = R::sgd,
         .rates = {0.1, 0.1 * std::pow(0.5, 0.5), 0.05, 0.1 * std::pow(0.5, 1.5), 0.025}}});
  const simdiff::CosineDecay cosine{.initial_learning_rate = 0.1, .decay_steps = 4, .alpha = 0.1};
  std::vector<double> cosine_rates;
  for (int t = 0; t < 5; ++t) {
    const double c = 0.5 * (1 + std::cos(std::numbers::pi * std::min(t, 4) / 4.0));
    cosine_rates.push_back(0.1 * (0.9 * c + 0.1));
  }
  out.push_back({"adam cosine decay", simdiff::Adam{.learning_rate = cosine},
                 R{.kind = R::adam, .rates = cosine_rates}});
  return out;
}

// Gradients whose magnitudes span 1e-5..1, so that epsilon matters for the small ones (RMSprop's
// epsilon inside the square root changes those steps by a factor of ten).
std::vector<float> gradients(std::size_t n, std::uint64_t seed) {
  const auto u = simdiff_test::random_uniform<double>(-1, 1, 2 * n, seed);
  std::vector<float> g(n);
  for (std::size_t i = 0; i < n; ++i) {
    g[i] = static_cast<float>(std::copysign(std::pow(10.0, -5 * std::abs(u[n + i])), u[i]));
  }
  return g;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(optimizers)

// Five steps of every configuration, at lengths around every lane count, against the double
// reference. Bound: 2e-6 (|v| + 1) per element after five steps: each float step rounds v and
// the update (|update| <= ~0.3 here) to 2^-24 relative, a few times, and the reference is exact
// to 1e-15. A wrong formula (epsilon outside the root, a bias correction off by one step, a
// missing clip) changes some element by more than 1e-4.
BOOST_AUTO_TEST_CASE(steps_match_double_reference_on_every_target) {
  const std::vector<std::size_t> lengths = {1, 3, 7, 8, 9, 15, 16, 17, 33, 48, 130};
  simdiff_test::for_each_target([&](const simdiff_test::TargetUnderTest&) {
    for (const Case& c : cases()) {
      for (const std::size_t n : lengths) {
        BOOST_TEST_CONTEXT(c.name << ", n = " << n) {
          // Two variables (a "kernel" and a "bias") so that clipnorm is per variable.
          const std::vector<std::size_t> sizes = {n - n / 3, n / 3};
          Optimizer optimizer(c.config);
          optimizer.build(sizes);
          Reference reference = c.reference;
          reference.sizes = sizes;
          const auto start = simdiff_test::random_uniform<float>(-2, 2, n, 11 + n);
          // Odd lengths start one element into their buffers: misaligned loads and stores.
          const std::size_t skew = n % 2;
          std::vector<float> storage(n + skew);
          std::copy(start.begin(), start.end(), storage.begin() + std::ptrdiff_t(skew));
          const std::span<float> v = std::span<float>(storage).subspan(skew);
          std::vector<double> v_ref(start.begin(), start.end());
          for (int step = 0; step < 5; ++step) {
            const std::vector<float> g0 = gradients(n, 100 * n + step);
            std::vector<float> g_storage(n + skew);
            std::copy(g0.begin(), g0.end(), g_storage.begin() + std::ptrdiff_t(skew));
            reference.run(v_ref, std::vector<double>(g0.begin(), g0.end()));
            optimizer.apply(v, std::span<float>(g_storage).subspan(skew));
          }
          BOOST_TEST(optimizer.iterations() == 5);
          for (std::size_t i = 0; i < n; ++i) {
            SIMDIFF_CHECK(std::abs(v[i] - v_ref[i]) <= 2e-6 * (std::abs(v_ref[i]) + 1),
                          "element " << i << ": " << v[i] << " vs reference " << v_ref[i]);
          }
        }
      }
    }
  });
}

// Two steps (g = 0.5 then -0.25 from v = 1) worked out by hand from Keras 3's formulas.
BOOST_AUTO_TEST_CASE(hand_computed_steps) {
  const auto two_steps = [](Optimizer optimizer) {
    std::vector<float> v = {1.0f};
    for (const float g0 : {0.5f, -0.25f}) {
      std::vector<float> g = {g0};
      optimizer.apply(v, g);
    }
    return static_cast<double>(v[0]);
  };
  simdiff_test::for_each_target([&](const simdiff_test::TargetUnderTest&) {
    // a = 0.025, v = 1 - 0.01 * 0.5 / sqrt(0.025 + 1e-7); a = 0.02875, v += 0.0025 / sqrt(...).
    BOOST_TEST(two_steps(simdiff::RMSprop{.lr = 0.01}) == 0.983121456617157,
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(two_steps(simdiff::Adam{}) == 0.9987336707920792,
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(two_steps(simdiff::AdamW{}) == 0.9987256748080539,
               boost::test_tools::tolerance(1e-6));
    // m = -0.05, v = 0.95; m = -0.045 + 0.025 = -0.02, v = 0.93.
    BOOST_TEST(two_steps(simdiff::SGD{.learning_rate = 0.1, .momentum = 0.9}) == 0.93,
               boost::test_tools::tolerance(1e-6));
    BOOST_TEST(
        two_steps(simdiff::SGD{.learning_rate = 0.1, .momentum = 0.9, .nesterov = true}) == 0.912,
        boost::test_tools::tolerance(1e-6));
    // Adam's first step moves by lr (times g / (|g| + eps / sqrt(1 - beta_2))).
    Optimizer adam = simdiff::Adam{.learning_rate = 0.01};
    std::vector<float> v = {3.0f}, g = {-7.0f};
    adam.apply(v, g);
    BOOST_TEST(v[0] == 3.01, boost::test_tools::tolerance(1e-6));
  });
}

BOOST_AUTO_TEST_CASE(lr_is_a_true_alias_of_learning_rate) {
  Optimizer by_alias = simdiff::RMSprop{.lr = 0.01};
  Optimizer by_name = simdiff::RMSprop{.learning_rate = 0.01};
  BOOST_TEST(by_alias.current_learning_rate() == 0.01);
  std::vector<float> v1 = {1, 2, 3}, v2 = v1;
  for (int step = 0; step < 3; ++step) {
    std::vector<float> g1 = {0.1f, -0.2f, 0.3f}, g2 = g1;
    by_alias.apply(v1, g1);
    by_name.apply(v2, g2);
  }
  BOOST_TEST(v1 == v2, boost::test_tools::per_element());
  BOOST_TEST(Optimizer(simdiff::Adam{.lr = 0.5}).current_learning_rate() == 0.5);
  BOOST_TEST(Optimizer(simdiff::SGD{.lr = 0.5}).current_learning_rate() == 0.5);
  BOOST_TEST(Optimizer(simdiff::AdamW{.lr = 0.5}).current_learning_rate() == 0.5);
  BOOST_CHECK_EXCEPTION(Optimizer(simdiff::RMSprop{.learning_rate = 0.1, .lr = 0.1}),
                        std::invalid_argument, [](const std::invalid_argument& e) {
                          return std::string(e.what()).find("both lr and learning_rate") !=
                                 std::string::npos;
                        });
}

BOOST_AUTO_TEST_CASE(keras_defaults_and_names) {
  BOOST_TEST(Optimizer(simdiff::SGD{}).current_learning_rate() == 0.01);
  BOOST_TEST(Optimizer(simdiff::RMSprop{}).current_learning_rate() == 0.001);
  BOOST_TEST(Optimizer(simdiff::Adam{}).current_learning_rate() == 0.001);
  BOOST_TEST(Optimizer(simdiff::AdamW{}).current_learning_rate() == 0.001);
  BOOST_TEST(std::get<simdiff::AdamW>(Optimizer(simdiff::AdamW{}).config()).weight_decay == 0.004);
  BOOST_TEST(Optimizer::from_name("RMSprop").name() == "rmsprop");
  BOOST_TEST(Optimizer::from_name("adamw", 0.25).current_learning_rate() == 0.25);
  BOOST_CHECK_THROW(Optimizer::from_name("adagrad"), std::invalid_argument);
}

BOOST_AUTO_TEST_CASE(schedules) {
  const simdiff::LearningRate exponential =
      simdiff::ExponentialDecay{.initial_learning_rate = 0.1, .decay_steps = 4, .decay_rate = 0.5};
  BOOST_TEST(exponential.at(0) == 0.1);
  BOOST_TEST(exponential.at(7) == 0.02973017787506803, boost::test_tools::tolerance(1e-14));
  const simdiff::LearningRate staircase = simdiff::ExponentialDecay{
      .initial_learning_rate = 0.1, .decay_steps = 4, .decay_rate = 0.5, .staircase = true};
  BOOST_TEST(staircase.at(7) == 0.05, boost::test_tools::tolerance(1e-14));
  const simdiff::LearningRate cosine =
      simdiff::CosineDecay{.initial_learning_rate = 0.1, .decay_steps = 10, .alpha = 0.2};
  BOOST_TEST(cosine.at(3) == 0.08351141009169893, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(cosine.at(10) == 0.02, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(cosine.at(50) == 0.02, boost::test_tools::tolerance(1e-14));
  const simdiff::LearningRate warmup = simdiff::CosineDecay{
      .initial_learning_rate = 0.0, .decay_steps = 10, .warmup_target = 0.1, .warmup_steps = 4};
  BOOST_TEST(warmup.at(2) == 0.05, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(warmup.at(4) == 0.1, boost::test_tools::tolerance(1e-14));
  BOOST_TEST(warmup.at(14) == 0.0, boost::test_tools::tolerance(1e-14));
  // The optimizer evaluates the schedule at its iteration count before the step.
  Optimizer sgd = simdiff::SGD{.learning_rate = exponential};
  std::vector<float> v = {0}, g = {1};
  sgd.apply(v, g);
  BOOST_TEST(v[0] == -0.1f);
  BOOST_TEST(sgd.current_learning_rate() == 0.1 * std::pow(0.5, 0.25),
             boost::test_tools::tolerance(1e-14));
}

BOOST_AUTO_TEST_CASE(argument_errors) {
  const auto message_of = [](auto&& make) -> std::string {
    try {
      make();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(no exception)";
  };
  const auto contains = [](const std::string& text, const std::string& part) {
    const bool found = text.find(part) != std::string::npos;
    BOOST_TEST(found, "'" << text << "' does not contain '" << part << "'");
  };
  contains(message_of([] { Optimizer(simdiff::SGD{.learning_rate = -1.0}); }),
           "SGD: learning_rate = -1");
  contains(message_of([] { Optimizer(simdiff::RMSprop{.lr = NAN}); }), "RMSprop: lr = nan");
  contains(message_of([] { Optimizer(simdiff::SGD{.momentum = 1.5}); }), "momentum = 1.5");
  contains(message_of([] { Optimizer(simdiff::RMSprop{.rho = 1.0}); }), "rho = 1; expected");
  contains(message_of([] { Optimizer(simdiff::Adam{.beta_2 = -0.1}); }), "beta_2 = -0.1");
  contains(message_of([] { Optimizer(simdiff::Adam{.epsilon = 0}); }), "epsilon = 0");
  contains(message_of([] { Optimizer(simdiff::AdamW{.weight_decay = -1}); }), "weight_decay = -1");
  contains(message_of([] { Optimizer(simdiff::SGD{.clipnorm = 0.0}); }), "clipnorm = 0");
  contains(message_of([] { Optimizer(simdiff::SGD{.clipnorm = 1.0, .clipvalue = 1.0}); }),
           "more than one of clipnorm");
  contains(message_of([] {
             Optimizer(simdiff::SGD{.learning_rate = simdiff::ExponentialDecay{.decay_steps = 0}});
           }),
           "decay_steps = 0");
  Optimizer adam = simdiff::Adam{};
  const std::vector<std::size_t> sizes = {3, 2};
  adam.build(sizes);
  std::vector<float> v(4), g(5);
  contains(message_of([&] { adam.apply(v, g); }), "expected the 5 elements");
  std::vector<float> both(10);
  contains(message_of([&] { adam.apply(std::span(both).first(5), std::span(both).subspan(2, 5)); }),
           "overlap");
}

// clipvalue keeps NaN (it must not become +-limit) on every target.
BOOST_AUTO_TEST_CASE(clipvalue_propagates_nan) {
  simdiff_test::for_each_target([&](const simdiff_test::TargetUnderTest&) {
    Optimizer sgd = simdiff::SGD{.learning_rate = 1.0, .clipvalue = 0.5};
    std::vector<float> v(19, 0.0f), g(19, 2.0f);
    g[17] = NAN;
    sgd.apply(v, g);
    BOOST_TEST(std::isnan(v[17]));
    BOOST_TEST(v[0] == -0.5f);
    BOOST_TEST(v[18] == -0.5f);
  });
}

BOOST_AUTO_TEST_SUITE_END()
