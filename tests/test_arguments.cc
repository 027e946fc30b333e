// Bad arguments at the public boundary: every function throws std::invalid_argument whose message
// names the function, the argument and its value, and writes nothing. Valid edge cases (in-place
// use, empty batches) do not throw.
#include <algorithm>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

// Calls `call`, which must throw std::invalid_argument with every one of `parts` in its message.
template <class F>
void expect_invalid_argument(const std::string& what, const F& call,
                             std::initializer_list<std::string_view> parts) {
  try {
    call();
    BOOST_ERROR(what << ": no exception");
  } catch (const std::invalid_argument& error) {
    const std::string_view message = error.what();
    for (const std::string_view part : parts) {
      BOOST_TEST(message.find(part) != std::string_view::npos,
                 what << ": the message \"" << message << "\" does not contain \"" << part << "\"");
    }
  } catch (const std::exception& error) {
    BOOST_ERROR(what << ": threw another exception: " << error.what());
  }
}

template <class F>
void expect_no_throw(const std::string& what, const F& call) {
  try {
    call();
  } catch (const std::exception& error) {
    BOOST_ERROR(what << ": unexpected exception: " << error.what());
  }
}

// Buffers for the row functions: a dense 2 x 4 matrix (extent 8) and per-row outputs, all holding
// the sentinel, so that a throwing call can be seen to have written nothing.
template <class T>
struct Buffers {
  static constexpr std::size_t kRows = 2;
  static constexpr std::size_t kCols = 4;
  static constexpr std::size_t kExtent = kRows * kCols;
  std::vector<T> a = std::vector<T>(3 * kExtent, T(0.5));
  std::vector<T> b = std::vector<T>(3 * kExtent, T(0.25));
  std::vector<T> out = std::vector<T>(3 * kExtent, sentinel<T>());
  std::vector<std::size_t> indices = std::vector<std::size_t>(kRows, sentinel<std::size_t>());

  std::span<T> x(std::size_t size = kExtent) { return {a.data(), size}; }
  std::span<T> dy(std::size_t size = kExtent) { return {b.data(), size}; }
  std::span<T> y(std::size_t size = kExtent) { return {out.data(), size}; }

  bool outputs_untouched() const {
    const T untouched = sentinel<T>();
    for (const T v : out) {
      if (std::memcmp(&v, &untouched, sizeof(T)) != 0) return false;
    }
    for (const std::size_t i : indices) {
      if (i != sentinel<std::size_t>()) return false;
    }
    return true;
  }
};

constexpr simdiff::MatrixShape kShape{2, 4, 0};

// The shape errors every row function reports, with the call under test given the shape.
template <class Call>
void expect_shape_errors(const std::string& function, const Call& call) {
  constexpr std::size_t kMax = std::numeric_limits<std::size_t>::max();
  expect_invalid_argument(function + " with cols 0",
                          [&] {
                            call({2, 0, 0});
                          },
                          {function, "cols", "0"});
  expect_invalid_argument(function + " with stride < cols",
                          [&] {
                            call({2, 4, 3});
                          },
                          {function, "stride 3", "cols 4"});
  expect_invalid_argument(function + " with rows * cols overflowing",
                          [&] {
                            call({kMax / 2, 4, 0});
                          },
                          {function, "rows " + std::to_string(kMax / 2), "overflows"});
  expect_invalid_argument(function + " with rows * stride overflowing",
                          [&] {
                            call({4, 1, kMax / 3});
                          },
                          {function, "stride " + std::to_string(kMax / 3), "overflows"});
  expect_invalid_argument(function + " with rows SIZE_MAX",
                          [&] {
                            call({kMax, 1, 0});
                          },
                          {function, "rows " + std::to_string(kMax), "overflows"});
}

template <class T>
void check_row_functions() {
  using P = Buffers<T>;
  const std::string element = std::to_string(P::kExtent - 1);

  // Per-row outputs: row_max, row_argmax, logsumexp.
  {
    Buffers<T> buffers;
    auto row_max = [&](simdiff::MatrixShape shape) {
      simdiff::row_max(buffers.x(3 * P::kExtent), shape, buffers.y(P::kRows));
    };
    expect_shape_errors("row_max", row_max);
    expect_invalid_argument(
        "row_max with x too short",
        [&] { simdiff::row_max(buffers.x(P::kExtent - 1), kShape, buffers.y(P::kRows)); },
        {"row_max", "x has " + element, "8"});
    expect_invalid_argument("row_max with out too short",
                            [&] { simdiff::row_max(buffers.x(), kShape, buffers.y(1)); },
                            {"row_max", "out has 1", "2"});
    expect_invalid_argument(
        "row_max with out inside x",
        [&] { simdiff::row_max(buffers.x(), kShape, buffers.x().subspan(3, 2)); },
        {"row_max", "out overlaps x"});
    auto argmax = [&](simdiff::MatrixShape shape) {
      simdiff::row_argmax(std::span<const T>(buffers.x(3 * P::kExtent)), shape,
                          std::span<std::size_t>(buffers.indices));
    };
    expect_shape_errors("row_argmax", argmax);
    expect_invalid_argument("row_argmax with x too short",
                            [&] {
                              simdiff::row_argmax(std::span<const T>(buffers.x(P::kExtent - 1)),
                                                  kShape, std::span<std::size_t>(buffers.indices));
                            },
                            {"row_argmax", "x has " + element});
    expect_invalid_argument("row_argmax with out too short",
                            [&] {
                              simdiff::row_argmax(std::span<const T>(buffers.x()), kShape,
                                                  std::span<std::size_t>(buffers.indices).first(1));
                            },
                            {"row_argmax", "out has 1"});
    auto logsumexp = [&](simdiff::MatrixShape shape) {
      simdiff::logsumexp(buffers.x(3 * P::kExtent), shape, buffers.y(P::kRows));
    };
    expect_shape_errors("logsumexp", logsumexp);
    expect_invalid_argument(
        "logsumexp with x too short",
        [&] { simdiff::logsumexp(buffers.x(P::kExtent - 1), kShape, buffers.y(P::kRows)); },
        {"logsumexp", "x has " + element});
    expect_invalid_argument("logsumexp with out too short",
                            [&] { simdiff::logsumexp(buffers.x(), kShape, buffers.y(1)); },
                            {"logsumexp", "out has 1"});
    expect_invalid_argument(
        "logsumexp with out overlapping the end of x",
        [&] { simdiff::logsumexp(buffers.x(), kShape, buffers.x().subspan(7, 2)); },
        {"logsumexp", "out overlaps x"});
    BOOST_TEST(buffers.outputs_untouched(), "a throwing call wrote its output");
  }

  // Matrix to matrix: softmax, log_softmax and the in-place variants.
  using MatrixFunction = void (*)(std::span<const T>, simdiff::MatrixShape, std::span<T>);
  using InPlaceFunction = void (*)(std::span<T>, simdiff::MatrixShape);
  const std::vector<std::pair<std::string, MatrixFunction>> matrix_functions = {
      {"softmax", simdiff::softmax}, {"log_softmax", simdiff::log_softmax}};
  for (const auto& named : matrix_functions) {
    const std::string& name = named.first;
    const auto function = named.second;
    Buffers<T> buffers;
    expect_shape_errors(name, [&](simdiff::MatrixShape shape) {
      function(buffers.x(3 * P::kExtent), shape, buffers.y(3 * P::kExtent));
    });
    expect_invalid_argument(name + " with x too short",
                            [&] { function(buffers.x(P::kExtent - 1), kShape, buffers.y()); },
                            {name, "x has " + element, "8"});
    expect_invalid_argument(name + " with y too short",
                            [&] { function(buffers.x(), kShape, buffers.y(P::kExtent - 1)); },
                            {name, "y has " + element, "8"});
    expect_invalid_argument(
        name + " with y one element after x",
        [&] { function(buffers.x(), kShape, buffers.x(P::kExtent + 1).subspan(1)); },
        {name, "y overlaps x"});
    expect_invalid_argument(
        name + " with y ending inside x",
        [&] { function(buffers.x(2 * P::kExtent).subspan(4), kShape, buffers.x()); },
        {name, "y overlaps x"});
    BOOST_TEST(buffers.outputs_untouched(), name << ": a throwing call wrote its output");
    expect_no_throw(name + " in place", [&] { function(buffers.x(), kShape, buffers.x()); });
  }
  const std::vector<std::pair<std::string, InPlaceFunction>> in_place_functions = {
      {"softmax_inplace", simdiff::softmax_inplace},
      {"log_softmax_inplace", simdiff::log_softmax_inplace}};
  for (const auto& named : in_place_functions) {
    const std::string& name = named.first;
    const auto function = named.second;
    Buffers<T> buffers;
    expect_shape_errors(
        name, [&](simdiff::MatrixShape shape) { function(buffers.x(3 * P::kExtent), shape); });
    expect_invalid_argument(name + " with x too short",
                            [&] { function(buffers.x(P::kExtent - 1), kShape); },
                            {name, "x has " + element, "8"});
  }

  // Backward: softmax_backward and log_softmax_backward (y, dy) -> dx.
  using BackwardFunction =
      void (*)(std::span<const T>, std::span<const T>, simdiff::MatrixShape, std::span<T>);
  const std::vector<std::pair<std::string, BackwardFunction>> backward_functions = {
      {"softmax_backward", simdiff::softmax_backward},
      {"log_softmax_backward", simdiff::log_softmax_backward}};
  for (const auto& named : backward_functions) {
    const std::string& name = named.first;
    const auto function = named.second;
    Buffers<T> buffers;
    expect_shape_errors(name, [&](simdiff::MatrixShape shape) {
      function(buffers.x(3 * P::kExtent), buffers.dy(3 * P::kExtent), shape,
               buffers.y(3 * P::kExtent));
    });
    expect_invalid_argument(
        name + " with y too short",
        [&] { function(buffers.x(P::kExtent - 1), buffers.dy(), kShape, buffers.y()); },
        {name, "y has " + element});
    expect_invalid_argument(
        name + " with dy too short",
        [&] { function(buffers.x(), buffers.dy(P::kExtent - 1), kShape, buffers.y()); },
        {name, "dy has " + element});
    expect_invalid_argument(
        name + " with dx too short",
        [&] { function(buffers.x(), buffers.dy(), kShape, buffers.y(P::kExtent - 1)); },
        {name, "dx has " + element});
    expect_invalid_argument(
        name + " with dx overlapping y",
        [&] { function(buffers.x(), buffers.dy(), kShape, buffers.x(P::kExtent + 2).subspan(2)); },
        {name, "dx overlaps y"});
    expect_invalid_argument(
        name + " with dx overlapping dy",
        [&] { function(buffers.x(), buffers.dy(), kShape, buffers.dy(P::kExtent + 1).subspan(1)); },
        {name, "dx overlaps dy"});
    BOOST_TEST(buffers.outputs_untouched(), name << ": a throwing call wrote its output");
    expect_no_throw(name + " with dx = dy",
                    [&] { function(buffers.x(), buffers.dy(), kShape, buffers.dy()); });
    expect_no_throw(name + " with dx = y",
                    [&] { function(buffers.x(), buffers.dy(), kShape, buffers.x()); });
  }

  // logsumexp_backward(x, lse, dlse) -> dx.
  {
    Buffers<T> buffers;
    std::vector<T> lse(P::kRows, T(1)), dlse(P::kRows, T(1));
    const std::string name = "logsumexp_backward";
    auto call = [&](std::span<const T> x, std::span<const T> l, std::span<const T> d,
                    simdiff::MatrixShape shape,
                    std::span<T> dx) { simdiff::logsumexp_backward(x, l, d, shape, dx); };
    expect_shape_errors(name, [&](simdiff::MatrixShape shape) {
      std::vector<T> many(3 * P::kExtent, T(1));
      call(buffers.x(3 * P::kExtent), many, many, shape, buffers.y(3 * P::kExtent));
    });
    expect_invalid_argument(
        name + " with x too short",
        [&] { call(buffers.x(P::kExtent - 1), lse, dlse, kShape, buffers.y()); },
        {name, "x has " + element});
    expect_invalid_argument(
        name + " with lse too short",
        [&] { call(buffers.x(), std::span<const T>(lse).first(1), dlse, kShape, buffers.y()); },
        {name, "lse has 1"});
    expect_invalid_argument(
        name + " with dlse too short",
        [&] { call(buffers.x(), lse, std::span<const T>(dlse).first(1), kShape, buffers.y()); },
        {name, "dlse has 1"});
    expect_invalid_argument(
        name + " with dx too short",
        [&] { call(buffers.x(), lse, dlse, kShape, buffers.y(P::kExtent - 1)); },
        {name, "dx has " + element});
    expect_invalid_argument(
        name + " with dx overlapping x",
        [&] { call(buffers.x(), lse, dlse, kShape, buffers.x(P::kExtent + 1).subspan(1)); },
        {name, "dx overlaps x"});
    expect_invalid_argument(name + " with lse inside dx",
                            [&] {
                              call(buffers.x(), std::span<const T>(buffers.y()).subspan(2, 2), dlse,
                                   kShape, buffers.y());
                            },
                            {name, "dx overlaps lse"});
    expect_invalid_argument(name + " with dlse inside dx",
                            [&] {
                              call(buffers.x(), lse, std::span<const T>(buffers.y()).subspan(6, 2),
                                   kShape, buffers.y());
                            },
                            {name, "dx overlaps dlse"});
    BOOST_TEST(buffers.outputs_untouched(), name << ": a throwing call wrote its output");
    expect_no_throw(name + " with dx = x",
                    [&] { call(buffers.x(), lse, dlse, kShape, buffers.x()); });
  }
}

BOOST_AUTO_TEST_SUITE(arguments)

BOOST_AUTO_TEST_CASE(row_functions_reject_bad_shapes_sizes_and_overlaps) {
  for_each_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) { check_row_functions<decltype(tag)>(); });
  });
}

BOOST_AUTO_TEST_CASE(empty_batches_do_nothing) {
  for_each_target([](const TargetUnderTest&) {
    for_each_type([](auto tag) {
      using T = decltype(tag);
      const simdiff::MatrixShape empty{0, 4, 0};
      const std::span<T> none;
      const std::span<std::size_t> no_indices;
      expect_no_throw("row functions with 0 rows", [&] {
        simdiff::row_max(std::span<const T>(none), empty, none);
        simdiff::row_argmax(std::span<const T>(none), empty, no_indices);
        simdiff::logsumexp(std::span<const T>(none), empty, none);
        simdiff::softmax(std::span<const T>(none), empty, none);
        simdiff::softmax_inplace(none, empty);
        simdiff::log_softmax(std::span<const T>(none), empty, none);
        simdiff::log_softmax_inplace(none, empty);
        simdiff::softmax_backward(std::span<const T>(none), std::span<const T>(none), empty, none);
        simdiff::log_softmax_backward(std::span<const T>(none), std::span<const T>(none), empty,
                                      none);
        simdiff::logsumexp_backward(std::span<const T>(none), std::span<const T>(none),
                                    std::span<const T>(none), empty, none);
      });
      // cols is still checked when there are no rows.
      expect_invalid_argument("softmax with 0 rows and 0 columns",
                              [&] {
                                simdiff::softmax(std::span<const T>(none), {0, 0, 0}, none);
                              },
                              {"softmax", "cols"});
    });
  });
}

BOOST_AUTO_TEST_CASE(elementwise_functions_reject_size_mismatch_and_overlap) {
  using Function = void (*)(std::span<const float>, std::span<float>);
  const std::vector<std::pair<std::string, Function>> functions = {
      {"exp", simdiff::exp},           {"log", simdiff::log},
      {"log1p", simdiff::log1p},       {"sigmoid", simdiff::sigmoid},
      {"softplus", simdiff::softplus}, {"log_sigmoid", simdiff::log_sigmoid}};
  for_each_target([&](const TargetUnderTest&) {
    for (const auto& named : functions) {
      const std::string& name = named.first;
      const auto function = named.second;
      std::vector<float> x(8, 0.5f), y(8, sentinel<float>());
      expect_invalid_argument(
          name + " with y shorter than x",
          [&] { function(std::span<const float>(x).first(4), std::span<float>(y).first(3)); },
          {name, "y has 3", "4"});
      expect_invalid_argument(
          name + " with y longer than x",
          [&] { function(std::span<const float>(x).first(4), std::span<float>(y).first(5)); },
          {name, "y has 5", "4"});
      expect_invalid_argument(
          name + " with y one element after x",
          [&] { function(std::span<const float>(x).first(4), std::span<float>(x).subspan(1, 4)); },
          {name, "y overlaps x"});
      const float untouched = sentinel<float>();
      SIMDIFF_CHECK(
          std::all_of(y.begin(), y.end(),
                      [&](float v) { return std::memcmp(&v, &untouched, sizeof v) == 0; }),
          name << ": a throwing call wrote its output");
      expect_no_throw(name + " in place",
                      [&] { function(std::span<const float>(x), std::span<float>(x)); });
      expect_no_throw(name + " of nothing",
                      [&] { function(std::span<const float>(), std::span<float>()); });
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
