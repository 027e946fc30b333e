// The tape's semantics (<simdiff/tape.h>, <simdiff/tensor.h>): accumulation of gradients,
// parameters and zero_grad, retain, no_grad, the misuse errors and their messages, and that a warm
// forward+backward step performs no heap allocation (every global operator new of this executable
// is counted).
#include <simdiff/ops.h>
#include <simdiff/tape.h>
#include <simdiff/tensor.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <sstream>
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
using simdiff::Var;

template <class E, class F>
void check_throws(F f, const std::vector<std::string>& fragments) {
  try {
    f();
    BOOST_ERROR("no exception thrown");
  } catch (const E& e) {
    const std::string message = e.what();
    for (const std::string& fragment : fragments) {
      BOOST_TEST(message.find(fragment) != std::string::npos,
                 "message \"" << message << "\" does not contain \"" << fragment << "\"");
    }
  }
}

BOOST_AUTO_TEST_SUITE(autodiff_tape)

BOOST_AUTO_TEST_CASE(tensor_basics) {
  Tensor<float> t({2, 3}, {1, 2, 3, 4, 5, 6});
  BOOST_TEST(t.rows() == 2u);
  BOOST_TEST(t.cols() == 3u);
  BOOST_TEST(t(1, 2) == 6.0f);
  BOOST_TEST(reinterpret_cast<std::uintptr_t>(t.data()) % 64 == 0u);
  std::ostringstream out;
  out << t;
  BOOST_TEST(out.str() == "Tensor[2 x 3] {{1, 2, 3}, {4, 5, 6}}");
  const Tensor<double> v = Tensor<double>::from(std::vector<double>{1, 2});
  BOOST_TEST(Tensor<float>({2, 3}).shape() == Shape::matrix(2, 3));
  BOOST_TEST(v.shape() == Shape::vector(2));
  BOOST_TEST(Tensor<double>(Shape::scalar(), 4.0).item() == 4.0);
  check_throws<std::out_of_range>([&] { (void)t.at(2, 0); }, {"(2, 0)", "[2 x 3]"});
  check_throws<std::invalid_argument>(
      [] {
        Tensor<float>({2, 2}, {1, 2, 3});
      },
      {"3 values", "4", "[2 x 2]"});
  check_throws<std::invalid_argument>([&] { t.reshape(Shape::matrix(4, 2)); },
                                      {"[4 x 2]", "[2 x 3]"});
  check_throws<std::invalid_argument>([] { Shape({1, 2, 3}); }, {"3 extents", "at most 2"});
  const Tensor<float> copy = t;
  t(0, 0) = 9;
  BOOST_TEST(copy(0, 0) == 1.0f);
  BOOST_TEST(t.view().row(1)[2] == 6.0f);
}

BOOST_AUTO_TEST_CASE(gradients_accumulate_over_uses) {
  Tape<double> tape;
  const Tensor<double> x0({3}, {1, -2, 0.5});
  const Var<double> x = tape.input(x0);
  // y = sum(x * x + x): each use of x contributes, dy/dx = 2x + 1.
  const Var<double> y = simdiff::sum(x * x + x);
  tape.backward(y);
  for (std::size_t i = 0; i < 3; ++i) BOOST_TEST(x.grad()[i] == 2 * x0[i] + 1);
  BOOST_TEST(y.item() == 1 + 4 + 0.25 + (1 - 2 + 0.5));
}

BOOST_AUTO_TEST_CASE(parameters_accumulate_until_zero_grad) {
  Parameter<float> w(Tensor<float>({2}, {3, 4}));
  Tape<float> tape;
  for (int step = 0; step < 2; ++step) {
    tape.reset();
    const Var<float> loss = simdiff::sum(simdiff::square(tape.parameter(w)));
    tape.backward(loss);
  }
  // Two steps without zero_grad: twice 2w.
  BOOST_TEST(w.grad()[0] == 12.0f);
  BOOST_TEST(w.grad()[1] == 16.0f);
  w.zero_grad();
  tape.reset();
  tape.backward(simdiff::sum(tape.parameter(w) * 2.0f));
  BOOST_TEST(w.grad()[0] == 2.0f);
  // A caller-owned gradient buffer.
  Tensor<float> buffer({2}, {1, 1});
  tape.reset();
  tape.backward(simdiff::sum(tape.parameter(w.value().view(), buffer.view())));
  BOOST_TEST(buffer[0] == 2.0f);
  check_throws<std::invalid_argument>(
      [&] {
        Tensor<float> wrong({3});
        (void)tape.parameter(w.value().view(), wrong.view());
      },
      {"[3]", "[2]"});
}

BOOST_AUTO_TEST_CASE(backward_with_a_seed_and_retain) {
  Tape<double> tape;
  const Var<double> x = tape.input(Tensor<double>({2, 2}, {1, 2, 3, 4}));
  const Var<double> y = x * 3.0;
  check_throws<std::invalid_argument>([&] { tape.backward(y); }, {"[2 x 2]", "seed"});
  check_throws<std::invalid_argument>(
      [&] {
        tape.backward(y, Tensor<double>({4}, {1, 1, 1, 1}));
      },
      {"[4]", "[2 x 2]"});
  tape.backward(y, Tensor<double>({2, 2}, {1, 0, 0, 2}), true);
  BOOST_TEST(x.grad()(1, 1) == 6.0);
  // Tape-owned gradients restart at every backward.
  tape.backward(y, Tensor<double>({2, 2}, {1, 0, 0, 1}));
  BOOST_TEST(x.grad()(1, 1) == 3.0);
  check_throws<std::logic_error>([&] { tape.backward(y, Tensor<double>({2, 2})); }, {"retain"});
}

BOOST_AUTO_TEST_CASE(misuse_throws_clear_errors) {
  Tape<float> tape;
  Tape<float> other;
  const Var<float> a = tape.input(Tensor<float>({2, 3}));
  const Var<float> b = other.input(Tensor<float>({2, 3}));
  check_throws<std::logic_error>([&] { (void)(a + b); }, {"add", "different tapes"});
  check_throws<std::logic_error>([&] { other.backward(simdiff::sum(a)); }, {"another tape"});
  check_throws<std::logic_error>([&] { (void)simdiff::exp(Var<float>()); },
                                 {"exp", "default-constructed"});
  const Var<float> c = tape.input(Tensor<float>({4, 2}));
  check_throws<std::invalid_argument>([&] { (void)(a * c); }, {"mul", "[2 x 3]", "[4 x 2]"});
  check_throws<std::invalid_argument>([&] { (void)simdiff::reshape(a, Shape::matrix(5, 1)); },
                                      {"[5 x 1]", "[2 x 3]"});
  check_throws<std::logic_error>([&] { (void)a.grad(); }, {"no backward"});
  const Var<float> k = tape.constant(Tensor<float>({1}, {2}));
  check_throws<std::logic_error>([&] { tape.backward(k * k); }, {"depends on no input"});
  tape.reset();
  check_throws<std::logic_error>([&] { (void)simdiff::relu(a); }, {"relu", "reset()"});
  check_throws<std::logic_error>([&] { (void)a.value(); }, {"reset()"});
}

BOOST_AUTO_TEST_CASE(no_grad_records_no_gradient) {
  Parameter<double> w(Tensor<double>({2}, {1, 2}));
  Tape<double> tape;
  {
    const auto guard = tape.no_grad();
    const Var<double> y = simdiff::sum(simdiff::exp(tape.parameter(w)));
    BOOST_TEST(!y.requires_grad());
    BOOST_TEST(std::abs(y.item() - (std::exp(1.0) + std::exp(2.0))) < 1e-12);
    check_throws<std::logic_error>([&] { tape.backward(y); }, {"no_grad"});
  }
  BOOST_TEST(tape.grad_enabled());
  BOOST_TEST(w.grad()[0] == 0.0);
  BOOST_TEST(w.grad()[1] == 0.0);
}

// The forward+backward step of a small classifier built from element-wise, row-wise and loss ops
// (the matrix product has its own test): after one warm-up step, further steps allocate nothing.
BOOST_AUTO_TEST_CASE(warm_steps_do_not_allocate) {
  for_each_target([&](const TargetUnderTest&) {
    constexpr std::size_t kBatch = 32;
    constexpr std::size_t kClasses = 10;
    Parameter<float> scale(Tensor<float>(Shape::vector(kClasses), 0.5f));
    Parameter<float> bias(Tensor<float>(Shape::vector(kClasses), 0.1f));
    Tensor<float> x(Shape::matrix(kBatch, kClasses));
    std::vector<float> labels(kBatch);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(i % 7) - 3;
    for (std::size_t i = 0; i < kBatch; ++i) labels[i] = static_cast<float>(i % kClasses);
    const simdiff::Loss loss = simdiff::SparseCategoricalCrossentropy{.from_logits = true};
    Tape<float> tape;
    std::size_t allocations = 0;
    std::size_t first_step = 0;
    for (int step = 0; step < 4; ++step) {
      const std::size_t before = autodiff_test_allocations();
      tape.reset();
      scale.zero_grad();
      bias.zero_grad();
      const Var<float> input = tape.constant(x);
      const Var<float> h = simdiff::tanh(input * tape.parameter(scale) + tape.parameter(bias));
      const Var<float> logits = simdiff::log_softmax(simdiff::relu(h) + simdiff::sigmoid(h));
      const Var<float> l = simdiff::compute_loss(loss, logits, std::span<const float>(labels));
      tape.backward(l);
      if (step == 0) first_step = autodiff_test_allocations() - before;
      if (step > 0) allocations += autodiff_test_allocations() - before;
    }
    // The count sees the arena's first block: it would see any later allocation too.
    BOOST_TEST(first_step > 0u);
    BOOST_TEST(allocations == 0u);
    BOOST_TEST(scale.grad()[0] != 0.0f);
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
