// Thread-count independence of the kernels that split over threads (lib/threads/chunks.h): the
// row-wise primitives, the losses, the element-wise functions, the optimizer updates and a
// Sequential training run give bit-identical results on 1, 2, 3 and 8 threads, on every backend
// and target, for shapes below the split threshold (run on the calling thread) and above it
// (split, checked through the pool's loop count), including odd row counts and fewer rows than
// threads. The tsan preset runs these under ThreadSanitizer.
#include <algorithm>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "lib/threads/chunks.h"
#include "lib/threads/thread_pool.h"
#include "test_support.h"

std::size_t autodiff_test_allocations();  // allocation_counter.cc counts operator new

namespace simdiff_test {
namespace {

using simdiff::MatrixShape;

// The bytes of every output of one call.
using Bytes = std::vector<unsigned char>;

template <class T>
void append(Bytes& out, const std::vector<T>& values) {
  const auto* p = reinterpret_cast<const unsigned char*>(values.data());
  out.insert(out.end(), p, p + values.size() * sizeof(T));
}

void append(Bytes& out, double value) {
  const auto* p = reinterpret_cast<const unsigned char*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}

// Runs `run` (returning Bytes) on 1 thread, then on 2, 3 and 8: every byte must agree, and the
// call must have gone through the pool exactly when `split` is expected.
template <class Run>
void check_thread_counts(const std::string& what, bool split, Run&& run) {
  const auto at = [&](std::size_t threads) {
    const simdiff::ScopedNumThreads scoped(threads);
    return run();
  };
  const Bytes one = at(1);
  for (const std::size_t threads : {2, 3, 8}) {
    const std::size_t loops = simdiff::detail::pool_loop_count();
    const Bytes many = at(threads);
    const bool was_split = simdiff::detail::pool_loop_count() > loops;
    SIMDIFF_CHECK(was_split == split, what << (split ? " was not split" : " was split") << " on "
                                           << threads << " threads");
    SIMDIFF_CHECK(one == many, what << " on " << threads << " threads differs from 1 thread");
  }
}

#if defined(__SANITIZE_THREAD__)
constexpr bool kUnderThreadSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
constexpr bool kUnderThreadSanitizer = true;
#else
constexpr bool kUnderThreadSanitizer = false;
#endif
#else
constexpr bool kUnderThreadSanitizer = false;
#endif

// for_each_target, but under ThreadSanitizer (the tsan preset) only the best target of each
// backend: the split is the same code on every target, and the full sweep takes minutes there.
template <class F>
void for_each_checked_target(F&& f) {
  std::vector<simdiff::Backend> seen;
  for_each_target([&](const TargetUnderTest& target) {
    if (kUnderThreadSanitizer) {
      if (std::find(seen.begin(), seen.end(), target.backend) != seen.end()) return;
      seen.push_back(target.backend);
    }
    f(target);
  });
}

// Matrix shapes (rows, cols, stride) below and above kRowwiseSplit: one row, few rows, just
// below the threshold; fewer rows than threads, odd row counts, a padded stride.
struct Case {
  MatrixShape shape;
  bool split;
};

std::vector<Case> row_cases() {
  constexpr std::size_t kBelow = 2 * simdiff::detail::kRowwiseSplit.elements_per_thread;
  return {{{1, 7, 7}, false},
          {{5, 10, 10}, false},
          {{(kBelow - 1) / 32, 32, 32}, false},
          {{3, kBelow / 2 + 1, kBelow / 2 + 1}, true},
          {{kBelow / 8 + 3, 10, 10}, true},
          {{kBelow / 37 + 1, 37, 40}, true}};
}

std::string describe_case(const char* function, MatrixShape shape) {
  return std::string(function) + " " + describe(shape);
}

template <class T>
std::vector<T> matrix(MatrixShape shape, T low, T high, const char* name) {
  return random_uniform<T>(low, high, (shape.rows - 1) * shape.stride + shape.cols,
                           seed_of(name, shape.rows, shape.cols));
}

BOOST_AUTO_TEST_SUITE(kernel_threads)

BOOST_AUTO_TEST_CASE(rowwise_results_do_not_depend_on_the_thread_count) {
  for_each_checked_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) {
      using T = decltype(tag);
      for (const Case& row_case : row_cases()) {
        // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
        const MatrixShape& shape = row_case.shape;
        const bool split = row_case.split;
        const std::size_t extent = (shape.rows - 1) * shape.stride + shape.cols;
        const std::vector<T> x = matrix<T>(shape, T(-30), T(30), "rows_x");
        const std::vector<T> dy = matrix<T>(shape, T(-1), T(1), "rows_dy");
        const std::vector<T> dlse = random_uniform<T>(T(-1), T(1), shape.rows, 7);
        using Matrix = void (*)(std::span<const T>, MatrixShape, std::span<T>);
        for (const auto& named : {std::pair<const char*, Matrix>{"softmax", simdiff::softmax},
                                  {"log_softmax", simdiff::log_softmax}}) {
          // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
          const auto& name = std::get<0>(named);
          const auto& f = std::get<1>(named);
          check_thread_counts(describe_case(name, shape), split, [&] {
            std::vector<T> y(extent, T(0));
            f(x, shape, y);
            Bytes out;
            append(out, y);
            return out;
          });
        }
        using PerRow = void (*)(std::span<const T>, MatrixShape, std::span<T>);
        for (const auto& named : {std::pair<const char*, PerRow>{"logsumexp", simdiff::logsumexp},
                                  {"row_max", simdiff::row_max}}) {
          // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
          const auto& name = std::get<0>(named);
          const auto& f = std::get<1>(named);
          check_thread_counts(describe_case(name, shape), split, [&] {
            std::vector<T> out(shape.rows);
            f(x, shape, out);
            Bytes bytes;
            append(bytes, out);
            return bytes;
          });
        }
        check_thread_counts(describe_case("row_argmax", shape), split, [&] {
          std::vector<std::size_t> out(shape.rows);
          simdiff::row_argmax(std::span<const T>(x), shape, std::span<std::size_t>(out));
          Bytes bytes;
          append(bytes, out);
          return bytes;
        });
        std::vector<T> y(extent, T(0)), lse(shape.rows);
        simdiff::softmax(std::span<const T>(x), shape, std::span<T>(y));
        simdiff::logsumexp(std::span<const T>(x), shape, std::span<T>(lse));
        using Backward =
            void (*)(std::span<const T>, std::span<const T>, MatrixShape, std::span<T>);
        for (const auto& named :
             {std::pair<const char*, Backward>{"softmax_backward", simdiff::softmax_backward},
              {"log_softmax_backward", simdiff::log_softmax_backward}}) {
          // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
          const auto& name = std::get<0>(named);
          const auto& f = std::get<1>(named);
          check_thread_counts(describe_case(name, shape), split, [&] {
            std::vector<T> dx(extent, T(0));
            f(y, dy, shape, dx);
            Bytes bytes;
            append(bytes, dx);
            return bytes;
          });
        }
        check_thread_counts(describe_case("logsumexp_backward", shape), split, [&] {
          std::vector<T> dx(extent, T(0));
          simdiff::logsumexp_backward(std::span<const T>(x), std::span<const T>(lse),
                                      std::span<const T>(dlse), shape, std::span<T>(dx));
          Bytes bytes;
          append(bytes, dx);
          return bytes;
        });
      }
    });
  });
}

// Every loss from logits and from probabilities, with value_and_grad (the fused kernels) and
// per_sample; the loss value too must be identical.
BOOST_AUTO_TEST_CASE(loss_results_do_not_depend_on_the_thread_count) {
  for_each_checked_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) {
      using T = decltype(tag);
      for (const Case& row_case : row_cases()) {
        // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
        const MatrixShape& shape = row_case.shape;
        const bool split = row_case.split;
        const std::vector<T> logits = matrix<T>(shape, T(-8), T(8), "loss_logits");
        const std::vector<T> probabilities = matrix<T>(shape, T(0.01), T(1), "loss_p");
        const std::vector<T> targets = matrix<T>(shape, T(0), T(1), "loss_t");
        std::vector<T> labels(shape.rows);
        for (std::size_t r = 0; r < shape.rows; ++r) labels[r] = T(r * 7 % shape.cols);
        const std::vector<T> weights = random_uniform<T>(T(0), T(2), shape.rows, 11);
        const std::vector<simdiff::Loss> losses = {
            simdiff::SparseCategoricalCrossentropy{
                .from_logits = true, .ignore_class = 0, .label_smoothing = 0.1},
            simdiff::SparseCategoricalCrossentropy{},
            simdiff::CategoricalCrossentropy{.from_logits = true},
            simdiff::CategoricalCrossentropy{},
            simdiff::BinaryCrossentropy{.from_logits = true, .label_smoothing = 0.2},
            simdiff::BinaryCrossentropy{},
            simdiff::BinaryFocalCrossentropy{.from_logits = true},
            simdiff::CategoricalFocalCrossentropy{.from_logits = true},
            simdiff::MeanSquaredError{},
            simdiff::MeanAbsoluteError{}};
        for (const simdiff::Loss& loss : losses) {
          const bool sparse = loss.name() == "sparse_categorical_crossentropy";
          // The categorical focal loss runs on the calling thread (lib/losses/loss.cc).
          const bool splits = split && loss.name() != "categorical_focal_crossentropy";
          for (const std::vector<T>* y_pred : {&logits, &probabilities}) {
            const simdiff::LossInput<T> in{
                .y_true = sparse ? std::span<const T>(labels) : std::span<const T>(targets),
                .y_pred = std::span<const T>(*y_pred),
                .shape = shape,
                .sample_weight = std::span<const T>(weights)};
            check_thread_counts(describe_case(std::string(loss.name()).c_str(), shape), splits,
                                [&] {
                                  std::vector<T> grad(logits.size(), T(0));
                                  std::vector<T> per_sample(shape.rows);
                                  Bytes bytes;
                                  append(bytes, loss.value_and_grad(in, grad));
                                  loss.per_sample(in, per_sample);
                                  append(bytes, grad);
                                  append(bytes, per_sample);
                                  return bytes;
                                });
          }
        }
      }
    });
  });
}

BOOST_AUTO_TEST_CASE(elementwise_results_do_not_depend_on_the_thread_count) {
  for_each_checked_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) {
      using T = decltype(tag);
      constexpr std::size_t kBelow = 2 * simdiff::detail::kElementwiseSplit.elements_per_thread;
      using Function = void (*)(std::span<const T>, std::span<T>);
      const std::pair<const char*, Function> functions[] = {
          {"exp", simdiff::exp},           {"log", simdiff::log},
          {"log1p", simdiff::log1p},       {"sigmoid", simdiff::sigmoid},
          {"softplus", simdiff::softplus}, {"log_sigmoid", simdiff::log_sigmoid}};
      for (const auto& named : {std::pair<std::size_t, bool>{1, false},
                                {17, false},
                                {kBelow - 1, false},
                                {kBelow + 13, true},
                                {3 * kBelow + 1001, true}}) {
        // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
        const auto& n = std::get<0>(named);
        const auto& split = std::get<1>(named);
        const std::vector<T> x = random_uniform<T>(T(0.001), T(40), n, seed_of("elementwise", n));
        for (const auto& named : functions) {
          // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
          const auto& name = std::get<0>(named);
          const auto& f = std::get<1>(named);
          check_thread_counts(std::string(name) + " of " + std::to_string(n), split, [&] {
            std::vector<T> y(n);
            f(x, y);
            Bytes bytes;
            append(bytes, y);
            return bytes;
          });
        }
      }
    });
  });
}

// Three steps of each optimizer (with momentum, clipping and weight decay variants): the
// variables after them, bit for bit.
BOOST_AUTO_TEST_CASE(optimizer_results_do_not_depend_on_the_thread_count) {
  const std::vector<simdiff::Optimizer> optimizers = {
      simdiff::Adam{},
      simdiff::Adam{.amsgrad = true, .clipnorm = 0.5},
      simdiff::AdamW{.global_clipnorm = 1.0},
      simdiff::SGD{.momentum = 0.9, .nesterov = true, .clipvalue = 0.01},
      simdiff::SGD{.weight_decay = 0.01},
      simdiff::RMSprop{.momentum = 0.5, .centered = true, .weight_decay = 0.01}};
  constexpr std::size_t kBelow = 2 * simdiff::detail::kOptimizerSplit.elements_per_thread;
  for_each_checked_target([&](const TargetUnderTest&) {
    for (const auto& named : {std::pair<std::size_t, bool>{1, false},
                              {1000, false},
                              {kBelow - 1, false},
                              {kBelow + 77, true},
                              {5 * kBelow + 3, true}}) {
      // Named copies, not structured bindings: clang 14 cannot capture bindings in lambdas.
      const auto& n = std::get<0>(named);
      const auto& split = std::get<1>(named);
      const std::vector<float> v0 = random_uniform<float>(-1, 1, n, seed_of("optimizer_v", n));
      const std::vector<float> g0 = random_uniform<float>(-1, 1, n, seed_of("optimizer_g", n));
      const std::size_t sizes[] = {n / 3, n - n / 3};
      for (const simdiff::Optimizer& prototype : optimizers) {
        check_thread_counts(std::string(prototype.name()) + " of " + std::to_string(n), split, [&] {
          simdiff::Optimizer optimizer = prototype;
          optimizer.build(sizes);
          std::vector<float> v = v0;
          for (int step = 0; step < 3; ++step) {
            std::vector<float> g = g0;
            optimizer.apply(v, g);
          }
          Bytes bytes;
          append(bytes, v);
          return bytes;
        });
      }
    }
  });
}

// Sequential training: the weights after a few steps are identical at 1 and 2 threads (and 3),
// with products, losses and the Adam update large enough to split.
BOOST_AUTO_TEST_CASE(training_does_not_depend_on_the_thread_count) {
  constexpr std::size_t kRows = 333, kFeatures = 300, kClasses = 110;
  const std::vector<float> x =
      random_uniform<float>(-1, 1, kRows * kFeatures, seed_of("train_x", kRows));
  std::vector<float> y(kRows);
  for (std::size_t r = 0; r < kRows; ++r) y[r] = static_cast<float>(r * 13 % kClasses);
  const auto train = [&](std::size_t threads) {
    const simdiff::ScopedNumThreads scoped(threads);
    simdiff::Sequential model(
        {simdiff::Dense{.units = 256, .activation = "relu", .input_dim = kFeatures},
         simdiff::Dense{.units = kClasses, .activation = "softmax"}},
        7);
    model.compile({.optimizer = simdiff::Adam{}, .loss = "sparse_categorical_crossentropy"});
    std::vector<double> losses;
    for (int step = 0; step < 3; ++step) losses.push_back(model.train_on_batch(x, y, kRows));
    return std::pair(std::vector<float>(model.weights().begin(), model.weights().end()), losses);
  };
  const auto one = train(1);
  for (const std::size_t threads : {2, 3}) {
    const std::size_t loops = simdiff::detail::pool_loop_count();
    const auto many = train(threads);
    BOOST_TEST(simdiff::detail::pool_loop_count() > loops);
    BOOST_TEST(one.second == many.second);
    SIMDIFF_CHECK(
        std::memcmp(one.first.data(), many.first.data(), one.first.size() * sizeof(float)) == 0,
        "weights after training on " << threads << " threads differ from 1 thread");
  }
}

// Split calls keep the promise of a warm training step: no heap allocation (the pool's loop lives
// on the caller's stack, the tasks are passed by reference).
BOOST_AUTO_TEST_CASE(warm_split_calls_do_not_allocate) {
  const simdiff::ScopedNumThreads scoped(2);
  constexpr std::size_t kRows = 333, kFeatures = 300, kClasses = 110;
  const std::vector<float> x =
      random_uniform<float>(-1, 1, kRows * kFeatures, seed_of("train_x", kRows));
  std::vector<float> y(kRows);
  for (std::size_t r = 0; r < kRows; ++r) y[r] = static_cast<float>(r * 13 % kClasses);
  simdiff::Sequential model(
      {simdiff::Dense{.units = 256, .activation = "relu", .input_dim = kFeatures},
       simdiff::Dense{.units = kClasses, .activation = "softmax"}},
      7);
  model.compile({.optimizer = simdiff::Adam{}, .loss = "sparse_categorical_crossentropy"});
  const MatrixShape shape{kRows, kClasses, kClasses};
  const std::vector<float> logits = random_uniform<float>(-5, 5, kRows * kClasses, 3);
  std::vector<float> out(logits.size()), v(100000, 0.5f), g(100000, 0.25f);
  const simdiff::Loss loss(simdiff::SparseCategoricalCrossentropy{.from_logits = true});
  simdiff::Optimizer adam(simdiff::Adam{});
  const auto step = [&] {
    static_cast<void>(model.train_on_batch(x, y, kRows));
    simdiff::softmax(std::span<const float>(logits), shape, std::span<float>(out));
    static_cast<void>(loss.value_and_grad({.y_true = y, .y_pred = logits, .shape = shape}, out));
    simdiff::exp(std::span<const float>(logits), std::span<float>(out));
    adam.apply(v, g);
  };
  step();  // warm: workers started, workspaces and slots allocated
  const std::size_t loops = simdiff::detail::pool_loop_count();
  const std::size_t before = autodiff_test_allocations();
  step();
  BOOST_TEST(autodiff_test_allocations() - before == 0u);
  BOOST_TEST(simdiff::detail::pool_loop_count() > loops);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
