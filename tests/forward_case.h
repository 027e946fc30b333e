// Forward row kernels against precomputed expectations: ForwardCase holds random or special rows
// with what row_max, row_argmax, logsumexp, softmax and log_softmax (and the in-place variants)
// must return, computed once from the long double reference; check_forward_kernels runs the
// kernels of the selected target on them, with sentinel-guarded, possibly strided and misaligned
// buffers.
#pragma once

#include <string>
#include <vector>

#include "error_bounds.h"
#include "test_support.h"

namespace simdiff_test {

enum class Kernels { all, logsumexp_and_softmax };

// Random rows and everything the forward kernels must return for them, computed once and compared
// with the results of every target.
template <class T>
struct ForwardCase {
  simdiff::MatrixShape shape;
  std::size_t misalign = 0;
  std::vector<T> values;                       // rows x cols, row-major
  std::vector<Expected> max, logsumexp;        // rows
  std::vector<std::size_t> argmax;             // rows
  std::vector<Expected> softmax, log_softmax;  // rows x cols

  std::span<const T> row(std::size_t r) const {
    return std::span<const T>(values).subspan(r * shape.cols, shape.cols);
  }
};

template <class T>
ForwardCase<T> make_forward_case(simdiff::MatrixShape shape, std::size_t misalign,
                                 std::vector<T> values) {
  ForwardCase<T> c{shape, misalign, std::move(values), {}, {}, {}, {}, {}};
  for (std::size_t r = 0; r < shape.rows; ++r) {
    const RowReference ref = reference_row(c.row(r));
    c.max.push_back(expect<T>(ref.max, 0));  // exact
    c.argmax.push_back(ref.argmax);
    c.logsumexp.push_back(expect<T>(ref.logsumexp, logsumexp_tolerance<T>(ref.logsumexp)));
    for (std::size_t col = 0; col < shape.cols; ++col) {
      const Real p = ref.softmax[col];
      // Flushed outputs (below the normal range) stay out of the summary of largest errors.
      const bool normal = std::fabs(p) >= Real(std::numeric_limits<T>::min());
      c.softmax.push_back(
          expect<T>(p, softmax_tolerance<T>(p, Real(c.row(r)[col]) - ref.max), normal));
      c.log_softmax.push_back(
          expect<T>(ref.log_softmax[col], log_softmax_tolerance<T>(ref.log_softmax[col])));
    }
  }
  return c;
}

// Compares a matrix output with the expected values of every element.
template <class T>
void check_matrix(const ForwardCase<T>& c, const GuardedMatrix<T>& out,
                  const std::vector<Expected>& expected, const std::string& what) {
  Comparison comparison(what);
  for (std::size_t r = 0; r < c.shape.rows; ++r) {
    for (std::size_t col = 0; col < c.shape.cols; ++col) {
      comparison.check(expected[r * c.shape.cols + col], out.at(r, col), [&] {
        return "row " + std::to_string(r) + ", column " + std::to_string(col) + " of " +
               describe_row(c.row(r), col);
      });
    }
  }
  comparison.report();
  check_sentinels(out, what);
}

// An in-place result: identical to the out-of-place one (already checked), or else within the
// bounds of the reference on its own.
template <class T>
void check_in_place(const ForwardCase<T>& c, const GuardedMatrix<T>& in_place,
                    const GuardedMatrix<T>& out_of_place, const std::vector<Expected>& expected,
                    const std::string& what) {
  if (!in_place.bitwise_equal(out_of_place)) check_matrix(c, in_place, expected, what);
}

// Compares a per-row output.
template <class T, class Out, class Check>
void check_per_row(const ForwardCase<T>& c, const GuardedMatrix<Out>& out, const std::string& what,
                   const Check& check_one) {
  Comparison comparison(what);
  for (std::size_t r = 0; r < c.shape.rows; ++r) {
    check_one(comparison, r, out.at(0, r),
              [&c, r] { return "row " + std::to_string(r) + ": " + describe_row(c.row(r)); });
  }
  comparison.report();
  check_sentinels(out, what);
}

template <class T>
void check_forward_kernels(const ForwardCase<T>& c, Kernels kernels) {
  const std::string type = type_name<T>();
  const simdiff::MatrixShape shape = c.shape;
  const simdiff::MatrixShape per_row{1, shape.rows, 0};
  const GuardedMatrix<T> x(shape, c.misalign, c.values);
  const GuardedMatrix<T> x_before(x);
  {
    GuardedMatrix<T> out(per_row, 0);
    simdiff::logsumexp(x.cspan(), shape, out.span());
    check_per_row(c, out, "logsumexp " + type, [&](auto& comparison, auto r, T got, auto where) {
      comparison.check(c.logsumexp[r], got, where);
    });
  }
  GuardedMatrix<T> y(shape, c.misalign);
  simdiff::softmax(x.cspan(), shape, y.span());
  check_matrix(c, y, c.softmax, "softmax " + type);
  if (kernels == Kernels::all) {
    {
      GuardedMatrix<T> in_place(x);
      simdiff::softmax_inplace(in_place.span(), shape);
      check_in_place(c, in_place, y, c.softmax, "softmax_inplace " + type);
    }
    {
      GuardedMatrix<T> log_y(shape, c.misalign);
      simdiff::log_softmax(x.cspan(), shape, log_y.span());
      check_matrix(c, log_y, c.log_softmax, "log_softmax " + type);
      GuardedMatrix<T> in_place(x);
      simdiff::log_softmax_inplace(in_place.span(), shape);
      check_in_place(c, in_place, log_y, c.log_softmax, "log_softmax_inplace " + type);
    }
    {
      GuardedMatrix<T> out(per_row, 0);
      simdiff::row_max(x.cspan(), shape, out.span());
      check_per_row(c, out, "row_max " + type, [&](auto& comparison, auto r, T got, auto where) {
        comparison.check(c.max[r], got, where);
      });
    }
    {
      GuardedMatrix<std::size_t> out(per_row, 0);
      simdiff::row_argmax(x.cspan(), shape, out.span());
      check_per_row(c, out, "row_argmax " + type,
                    [&](auto& comparison, auto r, std::size_t got, auto where) {
                      comparison.check_equal(c.argmax[r], got, where);
                    });
    }
  }
  SIMDIFF_CHECK(x.bitwise_equal(x_before), "the input x was modified");
}

}  // namespace simdiff_test
