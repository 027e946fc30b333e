// The differentiable ops: each forward function computes its value and records its node; the
// matching `*_backward` right below it is the vector-Jacobian product, with its derivation. The
// backward rules accumulate (+=) into the operands' gradients. backward_node() at the end
// dispatches on the recorded op.
#include "simdiff/ops.h"

#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "autodiff/tape_access.h"
#include "lib/kernel_table.h"

namespace simdiff {
namespace detail {

namespace {

constexpr std::array<std::string_view, static_cast<std::size_t>(Op::count)> kOpNames = {
    "constant", "input",      "parameter",  "add",         "sub",         "mul",         "div",
    "neg",      "add_scalar", "mul_scalar", "rsub_scalar", "rdiv_scalar", "pow_scalar",  "matmul",
    "sum",      "mean",       "row_sum",    "row_mean",    "col_sum",     "col_mean",    "exp",
    "log",      "sqrt",       "square",     "relu",        "leaky_relu",  "elu",         "sigmoid",
    "tanh",     "softplus",   "gelu",       "logsumexp",   "softmax",     "log_softmax", "loss",
    "reshape",  "transpose"};
// Adding an op without its name fails here.
static_assert(kOpNames.size() == static_cast<std::size_t>(Op::count) && !kOpNames.back().empty());

template <class T>
using Access = TapeAccess<T>;

template <class T>
const TypedKernels<T>& kernels() {
  return active_kernels().of<T>();
}

// ---------------------------------------------------------------------------------------------
// Element-wise unary ops

// Records y = f(x) of x's shape; `forward(x, y, n)` fills the value.
template <class T, class Forward>
Var<T> unary(const char* name, Op op, Var<T> x, T scalar, Forward forward) {
  Access<T>::check(name, x, "x");
  Tape<T>& tape = *x.tape();
  const Node<T>& xn = Access<T>::node(x);
  const T* xv = xn.value;
  const Shape shape = xn.shape;
  const Var<T> y =
      Access<T>::record(tape, op, shape, Access<T>::index(x), kNoOperand, xn.requires_grad);
  Node<T>& yn = Access<T>::node(y);
  yn.scalar = scalar;
  forward(xv, yn, shape.size());
  return y;
}

// dx += g(x, y, dy) element by element.
template <class T, class G>
void unary_backward(const Backward<T>& c, G g) {
  if (!c.a_needs()) return;
  const T* x = c.a->value;
  const T* y = c.y.value;
  const T* dy = c.y.grad;
  T* dx = c.a->grad;
  const std::size_t n = c.n();
  for (std::size_t i = 0; i < n; ++i) dx[i] += g(x[i], y[i], dy[i]);
}

}  // namespace

std::string_view op_name(Op op) noexcept {
  const auto i = static_cast<std::size_t>(op);
  return i < kOpNames.size() ? kOpNames[i] : "unknown";
}

}  // namespace detail

using detail::Backward;
using detail::Broadcast;
using detail::kNoOperand;
using detail::Node;
using detail::Op;

// ---------------------------------------------------------------------------------------------
// Binary element-wise ops with broadcasting

namespace {

// Where operand element (r, c) of the result lives: index r * row_step + c * col_step.
struct Steps {
  std::size_t row_step;
  std::size_t col_step;
};

Steps steps_of(Broadcast kind, std::size_t cols) noexcept {
  switch (kind) {
    case Broadcast::none:
      return {cols, 1};
    case Broadcast::row:
      return {0, 1};
    case Broadcast::col:
      return {1, 0};
    case Broadcast::scalar:
      break;
  }
  return {0, 0};
}

// How `operand` maps onto a result of shape `out`, or throws naming both shapes.
Broadcast broadcast_kind(const char* op, const Shape& operand, const Shape& other,
                         const Shape& out) {
  if (operand.rows() == out.rows() && operand.cols() == out.cols()) return Broadcast::none;
  if (operand.size() == 1) return Broadcast::scalar;
  if (operand.rows() == 1 && operand.cols() == out.cols()) return Broadcast::row;
  if (operand.cols() == 1 && operand.rows() == out.rows()) return Broadcast::col;
  throw std::invalid_argument(std::string(op) + ": shapes " + operand.to_string() + " and " +
                              other.to_string() +
                              " do not broadcast; expected equal shapes, a scalar, a row vector "
                              "[1 x cols] or a column vector [rows x 1] of the other");
}

// y[r, c] = f(a(r, c), b(r, c)).
template <class T, class F>
void broadcast_map(const T* a, Steps sa, const T* b, Steps sb, T* y, std::size_t rows,
                   std::size_t cols, F f) {
  if (sa.col_step == 1 && sb.col_step == 1) {
    for (std::size_t r = 0; r < rows; ++r) {
      const T* ar = a + r * sa.row_step;
      const T* br = b + r * sb.row_step;
      T* yr = y + r * cols;
      for (std::size_t c = 0; c < cols; ++c) yr[c] = f(ar[c], br[c]);
    }
    return;
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const T* ar = a + r * sa.row_step;
    const T* br = b + r * sb.row_step;
    T* yr = y + r * cols;
    for (std::size_t c = 0; c < cols; ++c) yr[c] = f(ar[c * sa.col_step], br[c * sb.col_step]);
  }
}

// g[operand index of (r, c)] += term(r, c, i) with i = r * cols + c: the gradient of a broadcast
// operand is the sum of the result's terms over the broadcast axis.
template <class T, class Term>
void accumulate(T* g, Broadcast kind, std::size_t rows, std::size_t cols, Term term) {
  switch (kind) {
    case Broadcast::none:
      // Nested loops rather than i / cols and i % cols: a division per element costs more than
      // the arithmetic.
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) g[r * cols + c] += term(r, c, r * cols + c);
      }
      return;
    case Broadcast::row:
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) g[c] += term(r, c, r * cols + c);
      }
      return;
    case Broadcast::col:
      for (std::size_t r = 0; r < rows; ++r) {
        T s = 0;
        for (std::size_t c = 0; c < cols; ++c) s += term(r, c, r * cols + c);
        g[r] += s;
      }
      return;
    case Broadcast::scalar: {
      T s = 0;
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t c = 0; c < cols; ++c) s += term(r, c, r * cols + c);
      }
      g[0] += s;
      return;
    }
  }
}

template <class T, class F>
Var<T> binary(const char* name, Op op, Var<T> a, Var<T> b, F f) {
  Tape<T>& tape = detail::TapeAccess<T>::check_same_tape(name, a, b);
  const Node<T>& an = detail::TapeAccess<T>::node(a);
  const Node<T>& bn = detail::TapeAccess<T>::node(b);
  const bool same = an.shape == bn.shape;  // the common case, without the broadcast analysis
  const Shape out = same || an.shape.size() >= bn.shape.size() ? an.shape : bn.shape;
  const Broadcast ka = same ? Broadcast::none : broadcast_kind(name, an.shape, bn.shape, out);
  const Broadcast kb = same ? Broadcast::none : broadcast_kind(name, bn.shape, an.shape, out);
  const T* av = an.value;
  const T* bv = bn.value;
  const Var<T> y = detail::TapeAccess<T>::record(tape, op, out, detail::TapeAccess<T>::index(a),
                                                 detail::TapeAccess<T>::index(b),
                                                 an.requires_grad || bn.requires_grad);
  Node<T>& yn = detail::TapeAccess<T>::node(y);
  yn.broadcast_a = ka;
  yn.broadcast_b = kb;
  if (same) {
    // One flat loop: the strided loop nest costs more than the arithmetic on small tensors.
    T* yv = yn.value;
    const std::size_t n = out.size();
    for (std::size_t i = 0; i < n; ++i) yv[i] = f(av[i], bv[i]);
    return y;
  }
  broadcast_map(av, steps_of(ka, out.cols()), bv, steps_of(kb, out.cols()), yn.value, out.rows(),
                out.cols(), f);
  return y;
}

// Calls rule(da_or_db, kind, term) for each operand needing a gradient; term(r, c, i) receives the
// operand values at (r, c) through `at_a` / `at_b`.
template <class T>
struct BinaryBackward {
  const Backward<T>& c;
  std::size_t rows = c.y.shape.rows();
  std::size_t cols = c.y.shape.cols();
  Steps sa = steps_of(c.y.broadcast_a, cols);
  Steps sb = steps_of(c.y.broadcast_b, cols);
  [[nodiscard]] T a_at(std::size_t r, std::size_t col) const {
    return c.a->value[r * sa.row_step + col * sa.col_step];
  }
  [[nodiscard]] T b_at(std::size_t r, std::size_t col) const {
    return c.b->value[r * sb.row_step + col * sb.col_step];
  }
};

}  // namespace

template <class T>
Var<T> add(Var<T> a, Var<T> b) {
  return binary("add", Op::add, a, b, [](T x, T y) { return x + y; });
}
// d(a + b) = da + db.
template <class T>
void add_backward(const Backward<T>& c) {
  const BinaryBackward<T> g{c};
  const T* dy = c.y.grad;
  const auto term = [dy](std::size_t, std::size_t, std::size_t i) { return dy[i]; };
  if (c.a_needs()) accumulate(c.a->grad, c.y.broadcast_a, g.rows, g.cols, term);
  if (c.b_needs()) accumulate(c.b->grad, c.y.broadcast_b, g.rows, g.cols, term);
}

template <class T>
Var<T> sub(Var<T> a, Var<T> b) {
  return binary("sub", Op::sub, a, b, [](T x, T y) { return x - y; });
}
// d(a - b) = da - db.
template <class T>
void sub_backward(const Backward<T>& c) {
  const BinaryBackward<T> g{c};
  const T* dy = c.y.grad;
  if (c.a_needs()) {
    accumulate(c.a->grad, c.y.broadcast_a, g.rows, g.cols,
               [dy](std::size_t, std::size_t, std::size_t i) { return dy[i]; });
  }
  if (c.b_needs()) {
    accumulate(c.b->grad, c.y.broadcast_b, g.rows, g.cols,
               [dy](std::size_t, std::size_t, std::size_t i) { return -dy[i]; });
  }
}

template <class T>
Var<T> mul(Var<T> a, Var<T> b) {
  return binary("mul", Op::mul, a, b, [](T x, T y) { return x * y; });
}
// d(a b) = b da + a db.
template <class T>
void mul_backward(const Backward<T>& c) {
  const BinaryBackward<T> g{c};
  const T* dy = c.y.grad;
  if (c.a_needs()) {
    accumulate(
        c.a->grad, c.y.broadcast_a, g.rows, g.cols,
        [&](std::size_t r, std::size_t col, std::size_t i) { return dy[i] * g.b_at(r, col); });
  }
  if (c.b_needs()) {
    accumulate(
        c.b->grad, c.y.broadcast_b, g.rows, g.cols,
        [&](std::size_t r, std::size_t col, std::size_t i) { return dy[i] * g.a_at(r, col); });
  }
}

template <class T>
Var<T> div(Var<T> a, Var<T> b) {
  return binary("div", Op::div, a, b, [](T x, T y) { return x / y; });
}
// d(a / b) = da / b - (a / b^2) db = (da - y db) / b.
template <class T>
void div_backward(const Backward<T>& c) {
  const BinaryBackward<T> g{c};
  const T* dy = c.y.grad;
  const T* y = c.y.value;
  if (c.a_needs()) {
    accumulate(
        c.a->grad, c.y.broadcast_a, g.rows, g.cols,
        [&](std::size_t r, std::size_t col, std::size_t i) { return dy[i] / g.b_at(r, col); });
  }
  if (c.b_needs()) {
    accumulate(c.b->grad, c.y.broadcast_b, g.rows, g.cols,
               [&](std::size_t r, std::size_t col, std::size_t i) {
                 return -dy[i] * y[i] / g.b_at(r, col);
               });
  }
}

// ---------------------------------------------------------------------------------------------
// Negation and scalar ops

template <class T>
Var<T> neg(Var<T> x) {
  return detail::unary("neg", Op::neg, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y.value[i] = -v[i];
  });
}

template <class T>
Var<T> add_scalar(Var<T> x, T s) {
  return detail::unary("add_scalar", Op::add_scalar, x, s,
                       [s](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) y.value[i] = v[i] + s;
                       });
}

template <class T>
Var<T> mul_scalar(Var<T> x, T s) {
  return detail::unary("mul_scalar", Op::mul_scalar, x, s,
                       [s](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) y.value[i] = v[i] * s;
                       });
}

template <class T>
Var<T> rsub_scalar(T s, Var<T> x) {
  return detail::unary("rsub_scalar", Op::rsub_scalar, x, s,
                       [s](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) y.value[i] = s - v[i];
                       });
}

template <class T>
Var<T> rdiv_scalar(T s, Var<T> x) {
  return detail::unary("rdiv_scalar", Op::rdiv_scalar, x, s,
                       [s](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) y.value[i] = s / v[i];
                       });
}

template <class T>
Var<T> pow_scalar(Var<T> x, T s) {
  return detail::unary("pow_scalar", Op::pow_scalar, x, s,
                       [s](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) y.value[i] = std::pow(v[i], s);
                       });
}

// ---------------------------------------------------------------------------------------------
// Reductions

namespace {

// Sums in double: a float running sum over a long tensor loses digits linearly with its length.
template <class T>
double sum_of(const T* x, std::size_t n) {
  double s = 0;
  for (std::size_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

template <class T>
Var<T> reduce(const char* name, Op op, Var<T> x) {
  detail::TapeAccess<T>::check(name, x, "x");
  const Node<T>& xn = detail::TapeAccess<T>::node(x);
  const std::size_t rows = xn.shape.rows();
  const std::size_t cols = xn.shape.cols();
  const T* v = xn.value;
  const bool per_row = op == Op::row_sum || op == Op::row_mean;
  const bool per_col = op == Op::col_sum || op == Op::col_mean;
  const Shape shape = per_row   ? Shape::matrix(rows, 1)
                      : per_col ? Shape::matrix(1, cols)
                                : Shape::scalar();
  const Var<T> y = detail::TapeAccess<T>::record(
      *x.tape(), op, shape, detail::TapeAccess<T>::index(x), kNoOperand, xn.requires_grad);
  T* out = detail::TapeAccess<T>::node(y).value;
  if (per_row) {
    const double scale = op == Op::row_mean ? 1.0 / static_cast<double>(cols) : 1.0;
    for (std::size_t r = 0; r < rows; ++r)
      out[r] = static_cast<T>(sum_of(v + r * cols, cols) * scale);
  } else if (per_col) {
    const T scale = op == Op::col_mean ? T(1) / static_cast<T>(rows) : T(1);
    for (std::size_t c = 0; c < cols; ++c) out[c] = 0;
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < cols; ++c) out[c] += v[r * cols + c];
    }
    for (std::size_t c = 0; c < cols; ++c) out[c] *= scale;
  } else {
    const double n = static_cast<double>(rows * cols);
    out[0] = static_cast<T>(sum_of(v, rows * cols) / (op == Op::mean ? n : 1.0));
  }
  return y;
}

// sum: dx[i] += dy; mean: dx[i] += dy / n; per row: dx[r, c] += dy[r] (/ cols); per column:
// dx[r, c] += dy[c] (/ rows).
template <class T>
void reduce_backward(const Backward<T>& c) {
  if (!c.a_needs()) return;
  const std::size_t rows = c.a->shape.rows();
  const std::size_t cols = c.a->shape.cols();
  const T* dy = c.y.grad;
  T* dx = c.a->grad;
  switch (c.y.op) {
    case Op::sum:
    case Op::mean: {
      const T g = c.y.op == Op::mean ? dy[0] / static_cast<T>(rows * cols) : dy[0];
      for (std::size_t i = 0; i < rows * cols; ++i) dx[i] += g;
      return;
    }
    case Op::row_sum:
    case Op::row_mean: {
      const T scale = c.y.op == Op::row_mean ? T(1) / static_cast<T>(cols) : T(1);
      for (std::size_t r = 0; r < rows; ++r) {
        const T g = dy[r] * scale;
        for (std::size_t col = 0; col < cols; ++col) dx[r * cols + col] += g;
      }
      return;
    }
    default: {
      const T scale = c.y.op == Op::col_mean ? T(1) / static_cast<T>(rows) : T(1);
      for (std::size_t r = 0; r < rows; ++r) {
        for (std::size_t col = 0; col < cols; ++col) dx[r * cols + col] += dy[col] * scale;
      }
      return;
    }
  }
}

}  // namespace

template <class T>
Var<T> sum(Var<T> x) {
  return reduce("sum", Op::sum, x);
}
template <class T>
Var<T> mean(Var<T> x) {
  return reduce("mean", Op::mean, x);
}
template <class T>
Var<T> row_sum(Var<T> x) {
  return reduce("row_sum", Op::row_sum, x);
}
template <class T>
Var<T> row_mean(Var<T> x) {
  return reduce("row_mean", Op::row_mean, x);
}
template <class T>
Var<T> col_sum(Var<T> x) {
  return reduce("col_sum", Op::col_sum, x);
}
template <class T>
Var<T> col_mean(Var<T> x) {
  return reduce("col_mean", Op::col_mean, x);
}

// ---------------------------------------------------------------------------------------------
// Element-wise functions

template <class T>
Var<T> exp(Var<T> x) {
  return detail::unary("exp", Op::exp, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().exp(v, y.value, n);
  });
}

template <class T>
Var<T> log(Var<T> x) {
  return detail::unary("log", Op::log, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().log(v, y.value, n);
  });
}

template <class T>
Var<T> sqrt(Var<T> x) {
  return detail::unary("sqrt", Op::sqrt, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().sqrt(v, y.value, n);
  });
}

template <class T>
Var<T> square(Var<T> x) {
  return detail::unary("square", Op::square, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y.value[i] = v[i] * v[i];
  });
}

template <class T>
Var<T> relu(Var<T> x) {
  // x < 0 ? 0 : x keeps NaN (a NaN compares false).
  return detail::unary("relu", Op::relu, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y.value[i] = v[i] < T(0) ? T(0) : v[i];
  });
}

template <class T>
Var<T> leaky_relu(Var<T> x, T alpha) {
  return detail::unary("leaky_relu", Op::leaky_relu, x, alpha,
                       [alpha](const T* v, Node<T>& y, std::size_t n) {
                         for (std::size_t i = 0; i < n; ++i) {
                           y.value[i] = v[i] > T(0) ? v[i] : alpha * v[i];
                         }
                       });
}

template <class T>
Var<T> elu(Var<T> x, T alpha) {
  return detail::unary("elu", Op::elu, x, alpha, [alpha](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().exp(v, y.value, n);
    for (std::size_t i = 0; i < n; ++i) {
      y.value[i] = v[i] > T(0) ? v[i] : alpha * (y.value[i] - T(1));
    }
  });
}

template <class T>
Var<T> sigmoid(Var<T> x) {
  return detail::unary("sigmoid", Op::sigmoid, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().sigmoid(v, y.value, n);
  });
}

template <class T>
Var<T> tanh(Var<T> x) {
  return detail::unary("tanh", Op::tanh, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    detail::kernels<T>().tanh(v, y.value, n);
  });
}

template <class T>
Var<T> softplus(Var<T> x) {
  return detail::unary(
      "softplus", Op::softplus, x, T(0),
      [](const T* v, Node<T>& y, std::size_t n) { detail::kernels<T>().softplus(v, y.value, n); });
}

template <class T>
Var<T> gelu(Var<T> x) {
  // Phi(x) = erfc(-x / sqrt 2) / 2: erfc keeps Phi accurate in the far negative tail, where
  // 1 + erf(x / sqrt 2) cancels.
  return detail::unary("gelu", Op::gelu, x, T(0), [](const T* v, Node<T>& y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      y.value[i] = v[i] * T(0.5) * std::erfc(-v[i] * std::numbers::sqrt2_v<T> / 2);
    }
  });
}

namespace {

// Vector-Jacobian products of the element-wise functions, each dx += dy * dy/dx written in terms
// of x and y = f(x).

template <class T>
void unary_function_backward(const Backward<T>& c) {
  const T s = c.y.scalar;
  switch (c.y.op) {
    case Op::neg:  // -dy
      detail::unary_backward(c, [](T, T, T dy) { return -dy; });
      return;
    case Op::add_scalar:  // dy
      detail::unary_backward(c, [](T, T, T dy) { return dy; });
      return;
    case Op::mul_scalar:  // s dy
      detail::unary_backward(c, [s](T, T, T dy) { return s * dy; });
      return;
    case Op::rsub_scalar:  // -dy
      detail::unary_backward(c, [](T, T, T dy) { return -dy; });
      return;
    case Op::rdiv_scalar:  // d(s / x) = -s / x^2 = -y / x
      detail::unary_backward(c, [](T x, T y, T dy) { return -dy * y / x; });
      return;
    case Op::pow_scalar:  // s x^(s - 1), not s y / x: finite at x = 0 for s >= 1
      detail::unary_backward(c, [s](T x, T, T dy) { return dy * s * std::pow(x, s - T(1)); });
      return;
    case Op::exp:  // e^x = y
      detail::unary_backward(c, [](T, T y, T dy) { return dy * y; });
      return;
    case Op::log:  // 1 / x
      detail::unary_backward(c, [](T x, T, T dy) { return dy / x; });
      return;
    case Op::sqrt:  // 1 / (2 sqrt x) = 0.5 / y
      detail::unary_backward(c, [](T, T y, T dy) { return dy * T(0.5) / y; });
      return;
    case Op::square:  // 2 x
      detail::unary_backward(c, [](T x, T, T dy) { return dy * T(2) * x; });
      return;
    case Op::relu:  // [x > 0]
      detail::unary_backward(c, [](T x, T, T dy) { return x > T(0) ? dy : T(0); });
      return;
    case Op::leaky_relu:  // 1 or alpha
      detail::unary_backward(c, [s](T x, T, T dy) { return x > T(0) ? dy : s * dy; });
      return;
    case Op::elu:  // 1, or alpha e^x = y + alpha
      detail::unary_backward(c, [s](T x, T y, T dy) { return x > T(0) ? dy : dy * (y + s); });
      return;
    case Op::sigmoid:  // y (1 - y)
      detail::unary_backward(c, [](T, T y, T dy) { return dy * y * (T(1) - y); });
      return;
    case Op::tanh:  // 1 - y^2
      detail::unary_backward(c, [](T, T y, T dy) { return dy * (T(1) - y * y); });
      return;
    case Op::gelu:  // d(x Phi(x)) = Phi(x) + x phi(x), phi(x) = e^(-x^2 / 2) / sqrt(2 pi)
      detail::unary_backward(c, [](T x, T, T dy) {
        const T phi =
            std::exp(-x * x / 2) * (std::numbers::inv_sqrtpi_v<T> / std::numbers::sqrt2_v<T>);
        const T cdf = T(0.5) * std::erfc(-x * std::numbers::sqrt2_v<T> / 2);
        return dy * (cdf + x * phi);
      });
      return;
    default:
      return;
  }
}

// softplus' = sigmoid(x), computed on the sigmoid kernel into scratch memory.
template <class T>
void softplus_backward(const Backward<T>& c) {
  if (!c.a_needs()) return;
  const std::size_t n = c.n();
  T* s = c.scratch(n);
  detail::kernels<T>().sigmoid(c.a->value, s, n);
  const T* dy = c.y.grad;
  T* dx = c.a->grad;
  for (std::size_t i = 0; i < n; ++i) dx[i] += dy[i] * s[i];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Row-wise functions

namespace {

template <class T>
Var<T> rowwise(const char* name, Op op, Var<T> x) {
  detail::TapeAccess<T>::check(name, x, "x");
  const Node<T>& xn = detail::TapeAccess<T>::node(x);
  const std::size_t rows = xn.shape.rows();
  const std::size_t cols = xn.shape.cols();
  if (cols == 0) {
    throw std::invalid_argument(std::string(name) + ": x has shape " + xn.shape.to_string() +
                                "; expected at least one column");
  }
  const T* v = xn.value;
  const Shape shape = op == Op::logsumexp ? Shape::matrix(rows, 1) : xn.shape;
  const Var<T> y = detail::TapeAccess<T>::record(
      *x.tape(), op, shape, detail::TapeAccess<T>::index(x), kNoOperand, xn.requires_grad);
  T* out = detail::TapeAccess<T>::node(y).value;
  const auto& k = detail::kernels<T>();
  if (rows == 0) return y;
  switch (op) {
    case Op::logsumexp:
      k.logsumexp(v, out, rows, cols, cols);
      break;
    case Op::softmax:
      k.softmax(v, out, rows, cols, cols);
      break;
    default:
      k.log_softmax(v, out, rows, cols, cols);
      break;
  }
  return y;
}

// The row kernels' vector-Jacobian products write dx; they run into scratch memory, which is then
// added to the operand's gradient.
//   logsumexp:   dx = dlse * softmax(x)
//   softmax:     dx = y * (dy - sum(y * dy))
//   log_softmax: dx = dy - exp(y) * sum(dy)
template <class T>
void rowwise_backward(const Backward<T>& c) {
  if (!c.a_needs()) return;
  const std::size_t rows = c.a->shape.rows();
  const std::size_t cols = c.a->shape.cols();
  const std::size_t n = rows * cols;
  if (n == 0) return;
  T* t = c.scratch(n);
  const auto& k = detail::kernels<T>();
  switch (c.y.op) {
    case Op::logsumexp:
      k.logsumexp_backward(c.a->value, c.y.value, c.y.grad, t, rows, cols, cols);
      break;
    case Op::softmax:
      k.softmax_backward(c.y.value, c.y.grad, t, rows, cols, cols);
      break;
    default:
      k.log_softmax_backward(c.y.value, c.y.grad, t, rows, cols, cols);
      break;
  }
  T* dx = c.a->grad;
  for (std::size_t i = 0; i < n; ++i) dx[i] += t[i];
}

}  // namespace

template <class T>
Var<T> logsumexp(Var<T> x) {
  return rowwise("logsumexp", Op::logsumexp, x);
}
template <class T>
Var<T> softmax(Var<T> x) {
  return rowwise("softmax", Op::softmax, x);
}
template <class T>
Var<T> log_softmax(Var<T> x) {
  return rowwise("log_softmax", Op::log_softmax, x);
}

// ---------------------------------------------------------------------------------------------
// Losses

template <class T>
Var<T> compute_loss(const Loss& loss, Var<T> y_pred, std::span<const T> y_true,
                    std::span<const T> sample_weight) {
  detail::TapeAccess<T>::check("compute_loss", y_pred, "y_pred");
  Tape<T>& tape = *y_pred.tape();
  const Node<T>& pn = detail::TapeAccess<T>::node(y_pred);
  const std::size_t n = pn.shape.size();
  const LossInput<T> input{.y_true = y_true,
                           .y_pred = std::span<const T>(pn.value, n),
                           .shape = {pn.shape.rows(), pn.shape.cols(), 0},
                           .sample_weight = sample_weight};
  const bool needs_grad = pn.requires_grad && tape.grad_enabled();
  // The loss runs before the node is recorded, so that invalid arguments leave no node behind.
  T* gradient = nullptr;
  double value = 0;
  if (needs_grad) {
    gradient = detail::TapeAccess<T>::arena(tape).template allocate_array<T>(n);
    value = loss.value_and_grad(input, std::span<T>(gradient, n));
  } else {
    value = loss(input);
  }
  const Var<T> y =
      detail::TapeAccess<T>::record(tape, Op::loss, Shape::scalar(),
                                    detail::TapeAccess<T>::index(y_pred), kNoOperand, needs_grad);
  Node<T>& yn = detail::TapeAccess<T>::node(y);
  yn.value[0] = static_cast<T>(value);
  yn.saved = gradient;
  return y;
}

namespace {

// The fused kernel's gradient, saved by the forward pass: dy_pred += dloss * gradient.
template <class T>
void loss_backward(const Backward<T>& c) {
  if (!c.a_needs()) return;
  const T dy = c.y.grad[0];
  const T* g = c.y.saved;
  T* dx = c.a->grad;
  const std::size_t n = c.a->shape.size();
  for (std::size_t i = 0; i < n; ++i) dx[i] += dy * g[i];
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Shape ops

template <class T>
Var<T> reshape(Var<T> x, Shape shape) {
  detail::TapeAccess<T>::check("reshape", x, "x");
  const Node<T>& xn = detail::TapeAccess<T>::node(x);
  if (shape.size() != xn.shape.size()) {
    throw std::invalid_argument("reshape: shape " + shape.to_string() + " has " +
                                std::to_string(shape.size()) + " elements; x has shape " +
                                xn.shape.to_string() + " with " + std::to_string(xn.shape.size()));
  }
  // Values never change once recorded, so the result shares x's storage.
  return detail::TapeAccess<T>::record(*x.tape(), Op::reshape, shape,
                                       detail::TapeAccess<T>::index(x), kNoOperand,
                                       xn.requires_grad, xn.value);
}

template <class T>
Var<T> transpose(Var<T> x) {
  detail::TapeAccess<T>::check("transpose", x, "x");
  const Node<T>& xn = detail::TapeAccess<T>::node(x);
  const std::size_t rows = xn.shape.rows();
  const std::size_t cols = xn.shape.cols();
  const T* v = xn.value;
  const Var<T> y =
      detail::TapeAccess<T>::record(*x.tape(), Op::transpose, Shape::matrix(cols, rows),
                                    detail::TapeAccess<T>::index(x), kNoOperand, xn.requires_grad);
  T* out = detail::TapeAccess<T>::node(y).value;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < cols; ++c) out[c * rows + r] = v[r * cols + c];
  }
  return y;
}

namespace {

// reshape: dx += dy (same elements); transpose: dx[r, c] += dy[c, r].
template <class T>
void shape_backward(const Backward<T>& c) {
  if (!c.a_needs()) return;
  const T* dy = c.y.grad;
  T* dx = c.a->grad;
  if (c.y.op == Op::reshape) {
    for (std::size_t i = 0; i < c.n(); ++i) dx[i] += dy[i];
    return;
  }
  const std::size_t rows = c.a->shape.rows();
  const std::size_t cols = c.a->shape.cols();
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t col = 0; col < cols; ++col) dx[r * cols + col] += dy[col * rows + r];
  }
}

}  // namespace

namespace detail {

template <class T>
void matmul_backward(const Backward<T>& c);

template <class T>
void backward_node(Tape<T>& tape, std::uint32_t index) {
  std::vector<Node<T>>& nodes = TapeAccess<T>::nodes(tape);
  Node<T>& y = nodes[index];
  const Backward<T> c{tape, y, y.a != kNoOperand ? &nodes[y.a] : nullptr,
                      y.b != kNoOperand ? &nodes[y.b] : nullptr};
  switch (y.op) {
    case Op::constant:
    case Op::input:
    case Op::parameter:
    case Op::count:
      return;
    case Op::add:
      return add_backward(c);
    case Op::sub:
      return sub_backward(c);
    case Op::mul:
      return mul_backward(c);
    case Op::div:
      return div_backward(c);
    case Op::matmul:
      return matmul_backward(c);
    case Op::sum:
    case Op::mean:
    case Op::row_sum:
    case Op::row_mean:
    case Op::col_sum:
    case Op::col_mean:
      return reduce_backward(c);
    case Op::softplus:
      return softplus_backward(c);
    case Op::logsumexp:
    case Op::softmax:
    case Op::log_softmax:
      return rowwise_backward(c);
    case Op::loss:
      return loss_backward(c);
    case Op::reshape:
    case Op::transpose:
      return shape_backward(c);
    case Op::neg:
    case Op::add_scalar:
    case Op::mul_scalar:
    case Op::rsub_scalar:
    case Op::rdiv_scalar:
    case Op::pow_scalar:
    case Op::exp:
    case Op::log:
    case Op::sqrt:
    case Op::square:
    case Op::relu:
    case Op::leaky_relu:
    case Op::elu:
    case Op::sigmoid:
    case Op::tanh:
    case Op::gelu:
      return unary_function_backward(c);
  }
}

template void backward_node(Tape<float>&, std::uint32_t);
template void backward_node(Tape<double>&, std::uint32_t);

}  // namespace detail

#define SIMDIFF_INSTANTIATE_OPS(T)                                                           \
  template Var<T> add(Var<T>, Var<T>);                                                       \
  template Var<T> sub(Var<T>, Var<T>);                                                       \
  template Var<T> mul(Var<T>, Var<T>);                                                       \
  template Var<T> div(Var<T>, Var<T>);                                                       \
  template Var<T> neg(Var<T>);                                                               \
  template Var<T> add_scalar(Var<T>, T);                                                     \
  template Var<T> mul_scalar(Var<T>, T);                                                     \
  template Var<T> rsub_scalar(T, Var<T>);                                                    \
  template Var<T> rdiv_scalar(T, Var<T>);                                                    \
  template Var<T> pow_scalar(Var<T>, T);                                                     \
  template Var<T> sum(Var<T>);                                                               \
  template Var<T> mean(Var<T>);                                                              \
  template Var<T> row_sum(Var<T>);                                                           \
  template Var<T> row_mean(Var<T>);                                                          \
  template Var<T> col_sum(Var<T>);                                                           \
  template Var<T> col_mean(Var<T>);                                                          \
  template Var<T> exp(Var<T>);                                                               \
  template Var<T> log(Var<T>);                                                               \
  template Var<T> sqrt(Var<T>);                                                              \
  template Var<T> square(Var<T>);                                                            \
  template Var<T> relu(Var<T>);                                                              \
  template Var<T> leaky_relu(Var<T>, T);                                                     \
  template Var<T> elu(Var<T>, T);                                                            \
  template Var<T> sigmoid(Var<T>);                                                           \
  template Var<T> tanh(Var<T>);                                                              \
  template Var<T> softplus(Var<T>);                                                          \
  template Var<T> gelu(Var<T>);                                                              \
  template Var<T> logsumexp(Var<T>);                                                         \
  template Var<T> softmax(Var<T>);                                                           \
  template Var<T> log_softmax(Var<T>);                                                       \
  template Var<T> compute_loss(const Loss&, Var<T>, std::span<const T>, std::span<const T>); \
  template Var<T> reshape(Var<T>, Shape);                                                    \
  template Var<T> transpose(Var<T>);

SIMDIFF_INSTANTIATE_OPS(float)
SIMDIFF_INSTANTIATE_OPS(double)
#undef SIMDIFF_INSTANTIATE_OPS

}  // namespace simdiff
