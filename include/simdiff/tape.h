// Reverse-mode automatic differentiation: a tape that records tensor operations in creation order
// and replays their vector-Jacobian products backwards.
//
//   simdiff::Tape<float> tape;
//   simdiff::Parameter<float> w(simdiff::Tensor<float>({3, 2}, {...}));   // outlives the tape
//   for (step...) {
//     tape.reset();                               // keeps the arena: no allocation once warm
//     auto x = tape.constant(batch);              // data: no gradient
//     auto h = simdiff::relu(simdiff::matmul(x, tape.parameter(w)));
//     auto loss = simdiff::compute_loss(simdiff::Loss(...), h, labels);
//     w.zero_grad();                              // parameter gradients accumulate (+=)
//     tape.backward(loss);                        // w.grad() now holds d loss / d w
//   }
//
// Model (Stan's tape, micrograd's rules):
// - Every op appends one node: its value, computed at once, and the rule for its gradient. Nodes
//   are numbered in creation order, so `backward` is a plain loop from the seed down to node 0.
// - Values, gradients and saved intermediates live in an arena owned by the tape. `reset()` forgets
//   every node but keeps the memory, so a warm forward+backward step of the same computation
//   performs no heap allocation.
// - Gradients accumulate (`+=`): a value used twice receives both contributions.
//
// Gradients, and when they are zeroed:
// - Tape-owned gradients (of `input` leaves and of every intermediate) are set to zero at the start
//   of each `backward`, then hold that call's gradient until the next `backward` or `reset`.
// - A parameter's gradient is accumulated into the buffer the caller passed to `parameter()`
//   (a `Parameter`'s own `grad()`, or any buffer an optimizer owns). The tape never zeroes it: call
//   `Parameter::zero_grad()` (or clear your buffer) once per step, as with PyTorch's `zero_grad`.
//   The parameter's value is read, not copied: do not modify it between the forward pass and the
//   end of `backward`.
//
// Errors (std::invalid_argument, or std::logic_error for misuse of the tape's state): a Var of
// another tape or recorded before the last `reset()`, `backward(y)` on a non-scalar `y` without a
// seed, a second `backward` after one without `retain`, a seed or gradient buffer of the wrong
// shape (both shapes in the message), gradient requests for a Var that needs none.
//
// Thread safety: a tape is used by one thread at a time; different tapes are independent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "simdiff/tensor.h"

namespace simdiff {

template <class T>
class Tape;

namespace detail {

/// Every op the tape records, with its name in op_name(); ops.cc keeps both in sync (ggml's
/// habit: a static_assert on the count).
enum class Op : std::uint8_t {
  constant,
  input,
  parameter,
  add,
  sub,
  mul,
  div,
  neg,
  add_scalar,
  mul_scalar,
  rsub_scalar,  // s - x
  rdiv_scalar,  // s / x
  pow_scalar,   // x^s
  matmul,
  sum,
  mean,
  row_sum,
  row_mean,
  col_sum,
  col_mean,
  exp,
  log,
  sqrt,
  square,
  relu,
  leaky_relu,
  elu,
  sigmoid,
  tanh,
  softplus,
  gelu,
  logsumexp,
  softmax,
  log_softmax,
  loss,
  reshape,
  transpose,
  count
};

/// "add", "matmul", ...
[[nodiscard]] std::string_view op_name(Op op) noexcept;

/// How an operand of an element-wise binary op maps onto the result: the same shape, a row vector
/// repeated over rows, a column vector repeated over columns, or one element.
enum class Broadcast : std::uint8_t { none, row, col, scalar };

inline constexpr std::uint32_t kNoOperand = 0xffffffffu;

/// One recorded op. Plain data: reset() drops nodes without running destructors.
template <class T>
struct Node {
  T* value = nullptr;  ///< shape.size() elements in the arena (a parameter's: the caller's)
  T* grad = nullptr;   ///< set by backward; a parameter's points to the caller's buffer
  T* saved = nullptr;  ///< op-specific intermediate in the arena (e.g. the loss gradient)
  Shape shape;
  std::uint32_t a = kNoOperand;  ///< operand node indices
  std::uint32_t b = kNoOperand;
  T scalar = 0;  ///< op constant (the scalar of scalar ops, alpha of leaky_relu and elu)
  Op op = Op::constant;
  bool requires_grad = false;
  Broadcast broadcast_a = Broadcast::none;  ///< element-wise binary ops
  Broadcast broadcast_b = Broadcast::none;
  bool transpose_a = false;  ///< matmul
  bool transpose_b = false;
};

/// Bump allocator of 64-byte aligned blocks: requests of 64 bytes or more are 64-byte aligned,
/// smaller ones 16-byte aligned. Blocks are reused in order after rewind(), so the
/// same sequence of requests is served by the same blocks without allocating.
class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) noexcept = default;
  Arena& operator=(Arena&&) noexcept = default;

  /// `bytes` bytes, uninitialized, aligned as stated above.
  void* allocate(std::size_t bytes);
  template <class T>
  T* allocate_array(std::size_t n) {
    return static_cast<T*>(allocate(n * sizeof(T)));
  }
  /// Forgets every allocation, keeps the blocks.
  void rewind() noexcept {
    block_ = 0;
    used_ = 0;
  }
  /// Total bytes of the blocks held.
  [[nodiscard]] std::size_t capacity() const noexcept;

 private:
  struct Block {
    std::unique_ptr<std::byte[]> memory;
    std::byte* aligned;
    std::size_t size;
  };
  std::vector<Block> blocks_;
  std::size_t block_ = 0;  // the block serving requests
  std::size_t used_ = 0;   // bytes used in it
};

template <class T>
struct TapeAccess;

}  // namespace detail

/// A handle to a node of a tape: cheap to copy, valid until the tape's next reset() (using it
/// afterwards throws). A default-constructed Var belongs to no tape.
template <class T>
class Var {
 public:
  Var() = default;

  /// The tape this Var belongs to (nullptr if default-constructed).
  [[nodiscard]] Tape<T>* tape() const noexcept { return tape_; }
  /// Throws std::logic_error if the Var is not valid on its tape.
  [[nodiscard]] const Shape& shape() const;
  /// The value computed when the op was recorded (valid until reset()).
  [[nodiscard]] TensorView<const T> value() const;
  /// The value of a one-element Var.
  [[nodiscard]] T item() const { return value().item(); }
  /// The gradient of the last backward() with respect to this Var (for a parameter: its gradient
  /// buffer, which accumulates over backward calls until zeroed). Throws std::logic_error if no
  /// backward() ran since the Var was recorded, or if the Var does not depend on any input or
  /// parameter (so no gradient flows to it).
  [[nodiscard]] TensorView<const T> grad() const;
  /// Whether gradients flow to this Var (it depends on an input or a parameter, outside no_grad).
  [[nodiscard]] bool requires_grad() const;

 private:
  friend class Tape<T>;
  friend struct detail::TapeAccess<T>;
  Var(Tape<T>* tape, std::uint32_t index, std::uint32_t generation) noexcept
      : tape_(tape), index_(index), generation_(generation) {}

  Tape<T>* tape_ = nullptr;
  std::uint32_t index_ = 0;
  std::uint32_t generation_ = 0;
};

/// A trainable tensor that outlives tapes: its value and a gradient buffer of the same shape,
/// which backward() accumulates into. An optimizer reads grad() and updates value().
template <class T>
class Parameter {
 public:
  explicit Parameter(Tensor<T> value) : value_(std::move(value)), grad_(value_.shape()) {}

  [[nodiscard]] Tensor<T>& value() noexcept { return value_; }
  [[nodiscard]] const Tensor<T>& value() const noexcept { return value_; }
  [[nodiscard]] Tensor<T>& grad() noexcept { return grad_; }
  [[nodiscard]] const Tensor<T>& grad() const noexcept { return grad_; }
  [[nodiscard]] const Shape& shape() const noexcept { return value_.shape(); }
  /// Sets the gradient to zero (no allocation); gradients accumulate until this is called.
  void zero_grad() noexcept { grad_.fill(T(0)); }

 private:
  Tensor<T> value_;
  Tensor<T> grad_;
};

template <class T>
class Tape {
 public:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "simdiff tapes hold float or double");

  Tape();
  ~Tape();
  Tape(const Tape&) = delete;
  Tape& operator=(const Tape&) = delete;
  // Not movable either: Vars point to their tape.
  Tape(Tape&&) = delete;
  Tape& operator=(Tape&&) = delete;

  /// A leaf holding a copy of `value` that needs no gradient (data, labels).
  Var<T> constant(TensorView<const T> value);
  /// A leaf holding a copy of `value` whose gradient the tape computes (read it with Var::grad()).
  /// Inside a no_grad scope it needs no gradient.
  Var<T> input(TensorView<const T> value);
  /// A leaf that reads `value` in place (no copy) and accumulates its gradient into `grad` (same
  /// shape; throws std::invalid_argument otherwise). Both must stay valid and `value` unchanged
  /// until backward() has returned. Inside a no_grad scope, `grad` is never written.
  Var<T> parameter(TensorView<const T> value, TensorView<T> grad);
  /// parameter(p.value(), p.grad()).
  Var<T> parameter(Parameter<T>& p) { return parameter(p.value().view(), p.grad().view()); }

  /// Back-propagates from a one-element `loss` with seed 1. Throws std::invalid_argument if `loss`
  /// has more than one element, std::logic_error if a backward() without `retain` already ran
  /// since the last reset(). With `retain`, backward may run again on the same nodes.
  void backward(Var<T> loss, bool retain = false);
  /// Back-propagates the cotangent `seed` (the shape of y; both shapes in the message otherwise).
  void backward(Var<T> y, TensorView<const T> seed, bool retain = false);

  /// Forgets every node (invalidating every Var) and keeps the arena's memory.
  void reset() noexcept;

  /// While alive, ops compute values only: no node requires a gradient, nothing is saved for the
  /// backward pass (inference). Scopes nest.
  class NoGradGuard {
   public:
    explicit NoGradGuard(Tape& tape) noexcept : tape_(tape) { ++tape_.no_grad_depth_; }
    ~NoGradGuard() { --tape_.no_grad_depth_; }
    NoGradGuard(const NoGradGuard&) = delete;
    NoGradGuard& operator=(const NoGradGuard&) = delete;

   private:
    Tape& tape_;
  };
  /// `auto guard = tape.no_grad();`
  [[nodiscard]] NoGradGuard no_grad() noexcept { return NoGradGuard(*this); }
  [[nodiscard]] bool grad_enabled() const noexcept { return no_grad_depth_ == 0; }

  /// Nodes recorded since the last reset().
  [[nodiscard]] std::size_t size() const noexcept { return nodes_.size(); }
  /// Bytes held by the arena (kept across reset()).
  [[nodiscard]] std::size_t arena_capacity() const noexcept { return arena_.capacity(); }

 private:
  friend class Var<T>;
  friend struct detail::TapeAccess<T>;

  void backward_from(Var<T> y, TensorView<const T> seed, bool seed_one, bool retain);

  std::vector<detail::Node<T>> nodes_;
  detail::Arena arena_;
  std::uint32_t generation_ = 1;
  int no_grad_depth_ = 0;
  bool backward_done_ = false;     // a backward ran without retain since the last reset
  bool backward_ran_ = false;      // any backward ran since the last reset (gradients readable)
  std::uint32_t grads_up_to_ = 0;  // nodes [0, grads_up_to_) have arena gradient buffers
};

extern template class Var<float>;
extern template class Var<double>;
extern template class Tape<float>;
extern template class Tape<double>;

}  // namespace simdiff
