// gemm and gemm_bias_activation (<simdiff/gemm.h>) against a long double reference on every
// backend and target: every transpose combination, padded leading dimensions whose gaps hold
// sentinels, shapes that cross each blocking boundary of the Highway kernel (6-row tiles, 2-vector
// column panels, the 32-row small-product path, 256-deep k blocks, 144-row A blocks, 4096-column
// B blocks), prime sizes, alpha/beta, the fused epilogue, and argument errors.
//
// Bound (stated in <simdiff/gemm.h>): |C - exact| <= (k + 3) u (|alpha| sum_p |a_ip b_pj| +
// |beta c_ij| + |bias_j|), times the activation's Lipschitz constant, plus its own ulps.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "test_support.h"

namespace simdiff_test {
namespace {

using simdiff::Activation;
using simdiff::Transpose;

struct Dims {
  std::size_t m, n, k;
};

std::ostream& operator<<(std::ostream& out, const Dims& d) {
  return out << d.m << "x" << d.n << "x" << d.k << " (m x n x k)";
}

const char* name_of(Transpose t) { return t == Transpose::yes ? "T" : "N"; }
const char* name_of(Activation a) {
  switch (a) {
    case Activation::none:
      return "none";
    case Activation::relu:
      return "relu";
    case Activation::sigmoid:
      return "sigmoid";
    case Activation::tanh:
      return "tanh";
  }
  return "?";
}

Real activate(Real x, Activation a) {
  switch (a) {
    case Activation::none:
      return x;
    case Activation::relu:
      return x < 0 ? 0 : x;
    case Activation::sigmoid:
      return 1 / (1 + std::exp(-x));
    case Activation::tanh:
      return std::tanh(x);
  }
  return x;
}

double lipschitz(Activation a) { return a == Activation::sigmoid ? 0.25 : 1.0; }
double activation_ulps(Activation a) {
  return a == Activation::sigmoid || a == Activation::tanh ? 4.0 : 0.0;
}

// One product with its inputs in guarded buffers (leading dimensions padded by `pad`).
template <class T>
struct Case {
  Dims dims;
  Transpose ta, tb;
  std::size_t lda, ldb, ldc;
  GuardedMatrix<T> a, b, c0;
  std::vector<T> bias;

  static simdiff::MatrixShape stored(std::size_t rows, std::size_t cols, std::size_t ld) {
    return {rows, cols, ld};
  }

  Case(Dims d, Transpose ta_, Transpose tb_, std::size_t pad, bool with_bias, std::uint64_t seed)
      : dims(d),
        ta(ta_),
        tb(tb_),
        lda((ta_ == Transpose::yes ? d.m : d.k) + pad),
        ldb((tb_ == Transpose::yes ? d.k : d.n) + pad),
        ldc(d.n + pad),
        a(stored(ta_ == Transpose::yes ? d.k : d.m, ta_ == Transpose::yes ? d.m : d.k, lda), 1,
          random_uniform<T>(-1, 1, d.m * d.k, seed)),
        b(stored(tb_ == Transpose::yes ? d.n : d.k, tb_ == Transpose::yes ? d.k : d.n, ldb), 0,
          random_uniform<T>(-1, 1, d.k * d.n, seed + 1)),
        c0(stored(d.m, d.n, ldc), 3, random_uniform<T>(-1, 1, d.m * d.n, seed + 2)) {
    if (with_bias) bias = random_uniform<T>(-1, 1, d.n, seed + 3);
  }

  T op_a(std::size_t i, std::size_t p) const {
    return ta == Transpose::yes ? a.at(p, i) : a.at(i, p);
  }
  // sum_p op(A)_ip op(B)_pj and sum_p |op(A)_ip op(B)_pj| in long double, computed on first use
  // and kept: every target and parameter set of a case compares with the same sums, which cost
  // more than the products themselves where long double is emulated (aarch64).
  std::pair<Real, Real> exact_product(std::size_t i, std::size_t j) const {
    if (known.empty()) {
      known.assign(dims.m * dims.n, 0);
      sums.resize(dims.m * dims.n);
      magnitudes.resize(dims.m * dims.n);
    }
    const std::size_t at = i * dims.n + j;
    if (!known[at]) {
      Real sum = 0, magnitude = 0;
      for (std::size_t p = 0; p < dims.k; ++p) {
        const Real term = Real(op_a(i, p)) * Real(op_b(p, j));
        sum += term;
        magnitude += std::fabs(term);
      }
      sums[at] = sum;
      magnitudes[at] = magnitude;
      known[at] = 1;
    }
    return {sums[at], magnitudes[at]};
  }
  mutable std::vector<char> known;
  mutable std::vector<Real> sums, magnitudes;

  T op_b(std::size_t p, std::size_t j) const {
    return tb == Transpose::yes ? b.at(j, p) : b.at(p, j);
  }
};

// Runs `c` with (alpha, beta, activation) on the current target and compares the elements
// (i, j) for which `checked(i, j)` holds.
template <class T, class Checked>
void run_and_check(const Case<T>& c, T alpha, T beta, Activation activation, bool fused,
                   const Checked& checked) {
  GuardedMatrix<T> out(c.c0);
  if (beta == T(0)) {
    // beta == 0 must not read C: NaN there must not reach the result.
    for (std::size_t i = 0; i < c.dims.m; ++i) {
      for (std::size_t j = 0; j < c.dims.n; ++j) out.at(i, j) = sentinel<T>();
    }
  }
  const Dims d = c.dims;
  if (fused) {
    simdiff::gemm_bias_activation(c.ta, c.tb, d.m, d.n, d.k, alpha, c.a.cspan(), c.lda, c.b.cspan(),
                                  c.ldb, beta, std::span<const T>(c.bias), activation, out.span(),
                                  c.ldc);
  } else {
    simdiff::gemm(c.ta, c.tb, d.m, d.n, d.k, alpha, c.a.cspan(), c.lda, c.b.cspan(), c.ldb, beta,
                  out.span(), c.ldc);
  }
  check_sentinels(out, "c");
  constexpr double u = std::numeric_limits<T>::epsilon() / 2;
  Comparison comparison(std::string("gemm ") + type_name<T>(), "of the bound");
  for (std::size_t i = 0; i < d.m; ++i) {
    for (std::size_t j = 0; j < d.n; ++j) {
      if (!checked(i, j)) continue;
      const auto [sum, magnitude] = c.exact_product(i, j);
      const Real old = beta == T(0) ? 0 : Real(c.c0.at(i, j));
      const Real bias = !fused || c.bias.empty() ? 0 : Real(c.bias[j]);
      const Real pre = Real(alpha) * sum + Real(beta) * old + bias;
      const Real reference = activate(pre, activation);
      const double bound = double(d.k + 3) * u *
                           double(std::fabs(Real(alpha)) * magnitude + std::fabs(Real(beta) * old) +
                                  std::fabs(bias));
      const double tolerance =
          lipschitz(activation) * bound +
          activation_ulps(activation) * ulp_of<T>(static_cast<double>(reference));
      comparison.check(expect<T>(reference, tolerance), out.at(i, j), [&] {
        std::ostringstream where;
        where << "C[" << i << ", " << j << "] of " << d << ", " << name_of(c.ta) << name_of(c.tb)
              << ", alpha " << alpha << ", beta " << beta << ", " << name_of(activation);
        return where.str();
      });
    }
  }
  comparison.report();
}

constexpr std::initializer_list<std::pair<Transpose, Transpose>> kTransposes = {
    {Transpose::no, Transpose::no},
    {Transpose::no, Transpose::yes},
    {Transpose::yes, Transpose::no},
    {Transpose::yes, Transpose::yes}};

template <class T>
void sweep(const std::vector<Dims>& shapes, std::size_t pad) {
  for (const Dims& d : shapes) {
    for (const auto& [ta, tb] : kTransposes) {
      BOOST_TEST_CONTEXT(d << ", " << name_of(ta) << name_of(tb) << ", pad " << pad) {
        const Case<T> c(d, ta, tb, pad, false, seed_of("gemm", d.m * 1000003 + d.n, d.k));
        for_each_target([&](const TargetUnderTest&) {
          const auto all = [](std::size_t, std::size_t) { return true; };
          run_and_check<T>(c, T(1), T(0), Activation::none, false, all);
          run_and_check<T>(c, T(-0.75), T(1.5), Activation::none, false, all);
        });
      }
    }
  }
}

// Bad arguments throw std::invalid_argument naming the argument and value, and write nothing.
template <class F>
void expect_invalid(const std::string& what, const F& call,
                    std::initializer_list<std::string_view> parts) {
  try {
    call();
    BOOST_ERROR(what << ": no exception");
  } catch (const std::invalid_argument& error) {
    const std::string_view message = error.what();
    for (const std::string_view part : parts) {
      BOOST_TEST(message.find(part) != std::string_view::npos,
                 what << ": \"" << message << "\" does not contain \"" << part << "\"");
    }
  }
}

BOOST_FIXTURE_TEST_SUITE(gemm, ChecksResults)

// Tiles of every row count (1..6 and beyond), column counts around the vector and panel widths
// (2N = 8, 16, 32 on SSE4, AVX2, AVX-512), short k.
BOOST_AUTO_TEST_CASE(small_shapes_match_reference) {
  std::vector<Dims> shapes;
  for (const std::size_t m : {1, 5, 6, 7, 13}) {
    for (const std::size_t n : {1, 3, 8, 15, 17, 33, 65}) {
      for (const std::size_t k : {1, 3, 16}) shapes.push_back({m, n, k});
    }
  }
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    sweep<T>(shapes, 0);
    sweep<T>({{5, 17, 3}, {7, 9, 2}}, 3);
  });
}

// The boundaries of the blocking: the small-product path (m <= 32), k blocks of 256, A blocks of
// 144 rows, B blocks of 4096 columns, and prime sizes.
BOOST_AUTO_TEST_CASE(blocking_boundaries_match_reference) {
  const std::vector<Dims> shapes = {{32, 64, 32}, {33, 17, 29},   {37, 41, 43}, {1, 1, 600},
                                    {3, 5, 257},  {150, 19, 260}, {2, 4099, 3}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    sweep<T>(shapes, 1);
  });
}

// k == 0: C = beta C, then the epilogue.
BOOST_AUTO_TEST_CASE(empty_k_scales_c) {
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    sweep<T>({{3, 5, 0}, {7, 40, 0}}, 2);
  });
}

// The fused epilogue: bias and every activation, with and without beta, on a tile-aligned, a
// ragged and a k-blocked shape (the epilogue runs in the last k block only).
BOOST_AUTO_TEST_CASE(bias_and_activation_match_reference) {
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    for (const Dims& d : std::vector<Dims>{{6, 16, 8}, {37, 23, 11}, {40, 9, 300}}) {
      for (const auto& [ta, tb] : kTransposes) {
        for (const bool with_bias : {false, true}) {
          const Case<T> c(d, ta, tb, 1, with_bias, seed_of("gemm_bias", d.m + d.n, d.k));
          for (const Activation act :
               {Activation::none, Activation::relu, Activation::sigmoid, Activation::tanh}) {
            BOOST_TEST_CONTEXT(d << ", " << name_of(ta) << name_of(tb) << ", bias " << with_bias
                                 << ", " << name_of(act)) {
              for_each_target([&](const TargetUnderTest&) {
                const auto all = [](std::size_t, std::size_t) { return true; };
                run_and_check<T>(c, T(2), T(0), act, true, all);
                run_and_check<T>(c, T(1), T(-1), act, true, all);
              });
            }
          }
        }
      }
    }
  });
}

// Large products checked on a sample of elements (the reference of every element of 1024^3 would
// cost more than the rest of the suite): rows and columns where tiles and blocks begin and end.
template <class T>
void sampled(const Dims& d, bool best_target_only) {
  const auto edge = [](std::size_t x, std::size_t size) {
    return x < 2 || x + 2 >= size || x % 97 == 5 || x % 144 == 143 || x % 6 == 0;
  };
  for (const auto& [ta, tb] : kTransposes) {
    BOOST_TEST_CONTEXT(d << ", " << name_of(ta) << name_of(tb)) {
      const Case<T> c(d, ta, tb, 0, true, seed_of("gemm_large", d.m, d.k));
      const auto checked = [&](std::size_t i, std::size_t j) {
        return edge(i, d.m) && edge(j, d.n) && (i + j) % 5 == 0;
      };
      for (const TargetUnderTest& target : targets_under_test()) {
        if (best_target_only && target.backend != simdiff::Backend::highway) continue;
        const simdiff::ScopedBackend selected(target.backend, target.target);
        const CurrentTarget current(target);
        BOOST_TEST_CONTEXT("backend " << target) {
          run_and_check<T>(c, T(1), T(0.5), Activation::relu, true, checked);
        }
        if (best_target_only) break;
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(medium_product_matches_reference_on_samples) {
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    sampled<T>({301, 263, 521}, false);
  });
}

BOOST_AUTO_TEST_CASE(product_of_1024_cubed_matches_reference_on_samples,
                     *boost::unit_test::precondition(large_tests_requested)) {
  sampled<float>({1024, 1024, 1024}, true);
}

boost::test_tools::assertion_result cblas_built(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(
      simdiff::gemm_provider_available(simdiff::GemmProvider::cblas));
  result.message() << "built without SIMDIFF_WITH_CBLAS";
  return result;
}

// The CBLAS provider under the same bound (not bit-identical: another summation order), with
// the epilogue that it runs as a second pass.
BOOST_AUTO_TEST_CASE(cblas_provider_matches_reference,
                     *boost::unit_test::precondition(cblas_built)) {
  struct Restore {
    ~Restore() { simdiff::set_gemm_provider(simdiff::GemmProvider::simdiff); }
  } restore;
  simdiff::set_gemm_provider(simdiff::GemmProvider::cblas);
  BOOST_TEST(simdiff::gemm_target().rfind("cblas:", 0) == 0u);
  const std::vector<Dims> shapes = {{1, 1, 1}, {5, 17, 3}, {37, 41, 43}, {150, 19, 260}, {3, 5, 0}};
  for_each_type([&](auto tag) {
    using T = decltype(tag);
    for (const Dims& d : shapes) {
      for (const auto& [ta, tb] : kTransposes) {
        BOOST_TEST_CONTEXT(d << ", " << name_of(ta) << name_of(tb)) {
          const Case<T> c(d, ta, tb, 1, true, seed_of("gemm_cblas", d.m + d.n, d.k));
          const auto all = [](std::size_t, std::size_t) { return true; };
          run_and_check<T>(c, T(1), T(0), Activation::none, false, all);
          run_and_check<T>(c, T(-0.75), T(1.5), Activation::none, false, all);
          run_and_check<T>(c, T(2), T(0), Activation::relu, true, all);
          run_and_check<T>(c, T(1), T(-1), Activation::tanh, true, all);
        }
      }
    }
  });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gemm_interface)

BOOST_AUTO_TEST_CASE(unavailable_provider_is_rejected) {
  BOOST_TEST(simdiff::gemm_provider_available(simdiff::GemmProvider::simdiff));
  BOOST_TEST((simdiff::gemm_provider() == simdiff::GemmProvider::simdiff));
  if (!simdiff::gemm_provider_available(simdiff::GemmProvider::cblas)) {
    expect_invalid("cblas", [] { simdiff::set_gemm_provider(simdiff::GemmProvider::cblas); },
                   {"set_gemm_provider", "cblas", "SIMDIFF_WITH_CBLAS"});
  }
  expect_invalid("bad provider",
                 [] { simdiff::set_gemm_provider(static_cast<simdiff::GemmProvider>(5)); },
                 {"provider is 5"});
}

// The kernel that runs is named, and is Highway's for the xsimd backend (gemm.h says so).
BOOST_AUTO_TEST_CASE(gemm_target_names_the_kernel) {
  for_each_target([](const TargetUnderTest& target) {
    const std::string name = simdiff::gemm_target();
    if (target.backend == simdiff::Backend::scalar) {
      BOOST_TEST(name == "scalar:scalar");
    } else if (target.backend == simdiff::Backend::highway) {
      BOOST_TEST(name == "highway:" + target.target);
    } else {
      BOOST_TEST(name ==
                 "highway:" + simdiff::supported_targets(simdiff::Backend::highway).front());
    }
  });
}

BOOST_AUTO_TEST_CASE(bad_arguments_throw) {
  std::vector<float> a(64, 1), b(64, 1), c(64, sentinel<float>()), bias(8, 0);
  const auto N = Transpose::no, T = Transpose::yes;
  const std::span<const float> ca(a), cb(b);
  const std::span<float> sc(c);
  expect_invalid("lda < k", [&] { simdiff::gemm(N, N, 2, 3, 4, 1.f, ca, 3, cb, 3, 0.f, sc, 3); },
                 {"gemm", "lda 3", "k 4", "lda >= 4"});
  expect_invalid("lda < m transposed",
                 [&] { simdiff::gemm(T, N, 5, 3, 4, 1.f, ca, 4, cb, 3, 0.f, sc, 3); },
                 {"lda 4", "m 5", "transposed"});
  expect_invalid("ldb < k transposed",
                 [&] { simdiff::gemm(N, T, 2, 3, 4, 1.f, ca, 4, cb, 2, 0.f, sc, 3); },
                 {"ldb 2", "k 4"});
  expect_invalid("ldc < n", [&] { simdiff::gemm(N, N, 2, 3, 4, 1.f, ca, 4, cb, 3, 0.f, sc, 2); },
                 {"ldc 2", "n 3"});
  expect_invalid("short a",
                 [&] { simdiff::gemm(N, N, 2, 3, 4, 1.f, ca.first(7), 4, cb, 3, 0.f, sc, 3); },
                 {"a has 7 elements", "at least 8"});
  expect_invalid("short c",
                 [&] { simdiff::gemm(N, N, 2, 3, 4, 1.f, ca, 4, cb, 3, 0.f, sc.first(5), 3); },
                 {"c has 5 elements", "at least 6"});
  expect_invalid("overflow",
                 [&] {
                   simdiff::gemm(N, N, std::numeric_limits<std::size_t>::max() / 2, 3, 4, 1.f, ca,
                                 4, cb, 3, 0.f, sc, 3);
                 },
                 {"overflows"});
  expect_invalid("bias size",
                 [&] {
                   simdiff::gemm_bias_activation(N, N, 2, 3, 4, 1.f, ca, 4, cb, 3, 0.f,
                                                 std::span<const float>(bias).first(2),
                                                 Activation::relu, sc, 3);
                 },
                 {"gemm_bias_activation", "bias has 2 elements", "n = 3"});
  expect_invalid(
      "c overlaps a",
      [&] { simdiff::gemm(N, N, 2, 3, 4, 1.f, std::span<const float>(c), 4, cb, 3, 0.f, sc, 3); },
      {"c overlaps a"});
  expect_invalid("activation",
                 [&] {
                   simdiff::gemm_bias_activation(N, N, 2, 3, 4, 1.f, ca, 4, cb, 3, 0.f, {},
                                                 static_cast<Activation>(9), sc, 3);
                 },
                 {"activation is 9"});
  BOOST_TEST(std::all_of(c.begin(), c.end(), [](float x) { return std::isnan(x); }),
             "a rejected call wrote to c");
  // Empty products are valid and write nothing.
  simdiff::gemm(N, N, 0, 3, 4, 1.f, {}, 4, cb, 3, 0.f, {}, 3);
  simdiff::gemm(N, N, 2, 0, 4, 1.f, ca, 4, {}, 0, 0.f, {}, 0);
  BOOST_TEST(std::all_of(c.begin(), c.end(), [](float x) { return std::isnan(x); }));
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace simdiff_test
