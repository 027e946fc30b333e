// matmul on simdiff::gemm (<simdiff/gemm.h>): the forward product and both vector-Jacobian
// products are gemm calls, the latter accumulating (beta = 1) straight into the gradients.
#include <stdexcept>
#include <string>

#include "autodiff/tape_access.h"
#include "simdiff/gemm.h"
#include "simdiff/ops.h"

namespace simdiff {

template <class T>
Var<T> matmul(Var<T> a, Var<T> b, Transpose transpose_a, Transpose transpose_b) {
  using Access = detail::TapeAccess<T>;
  Tape<T>& tape = Access::check_same_tape("matmul", a, b);
  const detail::Node<T>& an = Access::node(a);
  const detail::Node<T>& bn = Access::node(b);
  const bool ta = transpose_a == Transpose::yes;
  const bool tb = transpose_b == Transpose::yes;
  // op(a) is [m x k], op(b) is [k x n].
  const std::size_t m = ta ? an.shape.cols() : an.shape.rows();
  const std::size_t k = ta ? an.shape.rows() : an.shape.cols();
  const std::size_t kb = tb ? bn.shape.cols() : bn.shape.rows();
  const std::size_t n = tb ? bn.shape.rows() : bn.shape.cols();
  if (k != kb) {
    throw std::invalid_argument(
        "matmul: a" + std::string(ta ? "^T" : "") + " is [" + std::to_string(m) + " x " +
        std::to_string(k) + "] (a has shape " + an.shape.to_string() + "), b" +
        std::string(tb ? "^T" : "") + " is [" + std::to_string(kb) + " x " + std::to_string(n) +
        "] (b has shape " + bn.shape.to_string() +
        "); expected the columns of the first to equal the rows of the second");
  }
  const T* av = an.value;
  const T* bv = bn.value;
  const std::size_t a_size = an.shape.size();
  const std::size_t b_size = bn.shape.size();
  const std::size_t lda = an.shape.cols();
  const std::size_t ldb = bn.shape.cols();
  const Var<T> y = Access::record(tape, detail::Op::matmul, Shape::matrix(m, n), Access::index(a),
                                  Access::index(b), an.requires_grad || bn.requires_grad);
  detail::Node<T>& yn = Access::node(y);
  yn.transpose_a = ta;
  yn.transpose_b = tb;
  gemm(transpose_a, transpose_b, m, n, k, T(1), std::span<const T>(av, a_size), lda,
       std::span<const T>(bv, b_size), ldb, T(0), std::span<T>(yn.value, m * n), n);
  return y;
}

template <class T>
Var<T> matmul(Var<T> a, Var<T> b) {
  return matmul(a, b, Transpose::no, Transpose::no);
}

namespace detail {

// C = op(A) op(B), with A stored [ar x ac] and B stored [br x bc]:
//   d op(A) = dC op(B)^T, so dA += dC op(B)^T, or dA += op(B) dC^T when A is stored transposed;
//   d op(B) = op(A)^T dC, so dB += op(A)^T dC, or dB += dC^T op(A) when B is stored transposed.
// Every leading dimension is the stored column count of its matrix.
template <class T>
void matmul_backward(const Backward<T>& c) {
  const Node<T>& y = c.y;
  const std::size_t m = y.shape.rows();
  const std::size_t n = y.shape.cols();
  const bool ta = y.transpose_a;
  const bool tb = y.transpose_b;
  const std::size_t k = ta ? c.a->shape.rows() : c.a->shape.cols();
  const std::size_t lda = c.a->shape.cols();
  const std::size_t ldb = c.b->shape.cols();
  const std::span<const T> dc(y.grad, m * n);
  const std::span<const T> a(c.a->value, c.a->shape.size());
  const std::span<const T> b(c.b->value, c.b->shape.size());
  const auto yes_if = [](bool t) { return t ? Transpose::yes : Transpose::no; };
  if (c.a_needs()) {
    const std::span<T> da(c.a->grad, c.a->shape.size());
    if (!ta) {
      gemm(Transpose::no, yes_if(!tb), m, k, n, T(1), dc, n, b, ldb, T(1), da, k);
    } else {
      gemm(yes_if(tb), Transpose::yes, k, m, n, T(1), b, ldb, dc, n, T(1), da, m);
    }
  }
  if (c.b_needs()) {
    const std::span<T> db(c.b->grad, c.b->shape.size());
    if (!tb) {
      gemm(yes_if(!ta), Transpose::no, k, n, m, T(1), a, lda, dc, n, T(1), db, n);
    } else {
      gemm(Transpose::yes, yes_if(ta), n, k, m, T(1), dc, n, a, lda, T(1), db, k);
    }
  }
}

template void matmul_backward(const Backward<float>&);
template void matmul_backward(const Backward<double>&);

}  // namespace detail

template Var<float> matmul(Var<float>, Var<float>, Transpose, Transpose);
template Var<double> matmul(Var<double>, Var<double>, Transpose, Transpose);
template Var<float> matmul(Var<float>, Var<float>);
template Var<double> matmul(Var<double>, Var<double>);

}  // namespace simdiff
