// matmul (<simdiff/ops.h>, on simdiff::gemm): gradients against finite differences for every
// combination of transposes and shapes that are not multiples of any lane count, on every backend
// and target; its shape errors; and the training step of the 64-32-10 perceptron the benchmark
// runs: finite differences through the whole network, and no heap allocation once warm.
#include <simdiff/gemm.h>
#include <simdiff/gradient_check.h>
#include <simdiff/ops.h>

#include <cstdint>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "test_support.h"

std::size_t autodiff_test_allocations();  // allocation_counter.cc counts operator new

namespace simdiff_test {
namespace {

using simdiff::Parameter;
using simdiff::Shape;
using simdiff::Tape;
using simdiff::Tensor;
using simdiff::Transpose;
using simdiff::Var;

template <class T>
constexpr double tolerance() {
  return std::is_same_v<T, float> ? 2e-4 : 1e-7;
}

Tensor<double> random_tensor(Shape shape, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::normal_distribution<double> normal(0, 1);
  Tensor<double> t(shape);
  for (std::size_t i = 0; i < t.size(); ++i) t[i] = normal(engine);
  return t;
}

Shape stored(std::size_t rows, std::size_t cols, Transpose t) {
  return t == Transpose::yes ? Shape::matrix(cols, rows) : Shape::matrix(rows, cols);
}

BOOST_AUTO_TEST_SUITE(autodiff_matmul)

BOOST_AUTO_TEST_CASE(matmul_matches_finite_differences_for_every_transpose) {
  struct Dims {
    std::size_t m, k, n;
  };
  const std::vector<Dims> dims = {{1, 1, 1}, {3, 5, 7}, {9, 17, 4}, {1, 6, 1}};
  std::size_t checked = 0;
  std::uint64_t seed = 1;
  for (const Dims& d : dims) {
    for (const Transpose ta : {Transpose::no, Transpose::yes}) {
      for (const Transpose tb : {Transpose::no, Transpose::yes}) {
        const std::vector<Tensor<double>> inputs = {random_tensor(stored(d.m, d.k, ta), ++seed),
                                                    random_tensor(stored(d.k, d.n, tb), ++seed)};
        const auto f = [ta, tb](auto&, auto x) { return simdiff::matmul(x[0], x[1], ta, tb); };
        for_each_target([&](const TargetUnderTest&) {
          for_each_type([&](auto type) {
            using T = decltype(type);
            const auto result = simdiff::check_gradients<T>(f, inputs);
            ++checked;
            SIMDIFF_CHECK(result.passed(tolerance<T>()),
                          "matmul " << d.m << "x" << d.k << "x" << d.n << " transpose_a "
                                    << (ta == Transpose::yes) << " transpose_b "
                                    << (tb == Transpose::yes) << " (" << type_name<T>()
                                    << "): " << result.worst() << "\n"
                                    << result.report());
          });
        });
      }
    }
  }
  BOOST_TEST(checked > 0u);
}

BOOST_AUTO_TEST_CASE(matmul_values_and_shape_errors) {
  Tape<double> tape;
  const Var<double> a = tape.constant(Tensor<double>({2, 3}, {1, 2, 3, 4, 5, 6}));
  const Var<double> b = tape.constant(Tensor<double>({3, 1}, {1, 0, -1}));
  const Var<double> c = simdiff::matmul(a, b);
  BOOST_TEST(c.shape() == Shape::matrix(2, 1));
  BOOST_TEST(c.value()[0] == -2.0);
  BOOST_TEST(c.value()[1] == -2.0);
  const Var<double> at = simdiff::matmul(a, a, Transpose::yes, Transpose::no);  // [3 x 3]
  BOOST_TEST(at.shape() == Shape::matrix(3, 3));
  BOOST_TEST(at.value()(0, 0) == 17.0);
  try {
    (void)simdiff::matmul(a, a);
    BOOST_ERROR("no exception for [2 x 3] * [2 x 3]");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("[2 x 3]") != std::string::npos, message);
    BOOST_TEST(message.find("matmul") != std::string::npos, message);
  }
}

// The benchmark's network: x [32 x 64] -> relu(x W1 + b1) [32 x 32] -> logits h W2 + b2 [32 x 10]
// -> sparse categorical cross-entropy from logits.
template <class T>
struct Mlp {
  static constexpr std::size_t kBatch = 32, kIn = 64, kHidden = 32, kClasses = 10;
  Parameter<T> w1{Tensor<T>(Shape::matrix(kIn, kHidden))};
  Parameter<T> b1{Tensor<T>(Shape::vector(kHidden))};
  Parameter<T> w2{Tensor<T>(Shape::matrix(kHidden, kClasses))};
  Parameter<T> b2{Tensor<T>(Shape::vector(kClasses))};
  Tensor<T> x{Shape::matrix(kBatch, kIn)};
  std::vector<T> labels = std::vector<T>(kBatch);
  simdiff::Loss loss = simdiff::SparseCategoricalCrossentropy{.from_logits = true};

  explicit Mlp(std::uint64_t seed) {
    std::mt19937_64 engine(seed);
    std::normal_distribution<double> normal(0, 1);
    const auto fill = [&](Tensor<T>& t, double scale) {
      for (std::size_t i = 0; i < t.size(); ++i) t[i] = static_cast<T>(scale * normal(engine));
    };
    fill(w1.value(), 0.2);
    fill(b1.value(), 0.1);
    fill(w2.value(), 0.2);
    fill(b2.value(), 0.1);
    fill(x, 1);
    for (std::size_t i = 0; i < kBatch; ++i) labels[i] = static_cast<T>(i % kClasses);
  }

  Var<T> forward(Tape<T>& tape) {
    const Var<T> h =
        simdiff::relu(simdiff::matmul(tape.constant(x), tape.parameter(w1)) + tape.parameter(b1));
    const Var<T> logits = simdiff::matmul(h, tape.parameter(w2)) + tape.parameter(b2);
    return simdiff::compute_loss(loss, logits, std::span<const T>(labels));
  }

  void step(Tape<T>& tape) {
    tape.reset();
    for (Parameter<T>* p : {&w1, &b1, &w2, &b2}) p->zero_grad();
    tape.backward(forward(tape));
  }
};

BOOST_AUTO_TEST_CASE(mlp_step_allocates_nothing_once_warm) {
  for_each_target([&](const TargetUnderTest&) {
    Mlp<float> mlp(3);
    Tape<float> tape;
    const std::size_t before_warm = autodiff_test_allocations();
    mlp.step(tape);
    const std::size_t before = autodiff_test_allocations();
    BOOST_TEST(before > before_warm);  // the counter sees the arena's first block
    for (int i = 0; i < 3; ++i) mlp.step(tape);
    BOOST_TEST(autodiff_test_allocations() - before == 0u);
  });
}

// The same network through check_gradients: W1 as the checked input (b1, W2, b2 as constants).
BOOST_AUTO_TEST_CASE(mlp_gradient_matches_finite_differences) {
  Mlp<double> mlp(4);
  const auto f = [&mlp](auto& tape, auto v) {
    using T = std::remove_cvref_t<decltype(v[0].item())>;
    const auto convert = [](const Tensor<double>& t) {
      Tensor<T> out(t.shape());
      for (std::size_t i = 0; i < t.size(); ++i) out[i] = static_cast<T>(t[i]);
      return out;
    };
    const Var<T> x = tape.constant(convert(mlp.x));
    const Var<T> h =
        simdiff::relu(simdiff::matmul(x, v[0]) + tape.constant(convert(mlp.b1.value())));
    const Var<T> logits = simdiff::matmul(h, tape.constant(convert(mlp.w2.value()))) +
                          tape.constant(convert(mlp.b2.value()));
    const std::vector<T> labels(mlp.labels.begin(), mlp.labels.end());
    return simdiff::compute_loss(mlp.loss, logits, std::span<const T>(labels));
  };
  // W1 [64 x 32] has 2048 entries, so one finite-difference sweep per type on the default backend.
  const auto result_f = simdiff::check_gradients<float>(f, {mlp.w1.value()});
  const auto result_d = simdiff::check_gradients<double>(f, {mlp.w1.value()});
  BOOST_TEST(result_f.passed(tolerance<float>()), result_f.report());
  BOOST_TEST(result_d.passed(tolerance<double>()), result_d.report());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
