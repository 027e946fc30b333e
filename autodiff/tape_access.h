// What the ops need from a tape besides its public API: node storage, operand validation and the
// backward dispatch. Internal to the library.
#pragma once

#include <cstdint>
#include <vector>

#include "simdiff/tape.h"

namespace simdiff::detail {

template <class T>
struct TapeAccess {
  static std::vector<Node<T>>& nodes(Tape<T>& tape) noexcept { return tape.nodes_; }
  static Node<T>& node(const Var<T>& v) noexcept { return v.tape_->nodes_[v.index_]; }
  static std::uint32_t index(const Var<T>& v) noexcept { return v.index_; }
  static Arena& arena(Tape<T>& tape) noexcept { return tape.arena_; }

  /// Throws std::logic_error unless `v` is a valid Var of a tape (messages name `op`). Inline:
  /// every op runs it, and the tape's overhead per op is a few tens of nanoseconds.
  static void check(const char* op, const Var<T>& v, const char* argument) {
    if (v.tape_ == nullptr || v.generation_ != v.tape_->generation_ ||
        v.index_ >= v.tape_->nodes_.size()) [[unlikely]] {
      throw_invalid(op, v, argument);
    }
  }
  /// check() of both, and that they share a tape.
  static Tape<T>& check_same_tape(const char* op, const Var<T>& a, const Var<T>& b) {
    check(op, a, "a");
    check(op, b, "b");
    if (a.tape_ != b.tape_) [[unlikely]] {
      throw_different_tapes(op);
    }
    return *a.tape_;
  }
  [[noreturn]] static void throw_invalid(const char* op, const Var<T>& v, const char* argument);
  [[noreturn]] static void throw_different_tapes(const char* op);

  /// Appends a node of `shape` with fresh value storage (or `value`, when given: an alias or the
  /// caller's buffer). It requires a gradient if `requires_grad` and gradients are enabled.
  static Var<T> record(Tape<T>& tape, Op op, Shape shape, std::uint32_t a, std::uint32_t b,
                       bool requires_grad, T* value = nullptr) {
    Node<T> node;
    node.value = value != nullptr ? value : tape.arena_.template allocate_array<T>(shape.size());
    node.shape = shape;
    node.a = a;
    node.b = b;
    node.op = op;
    node.requires_grad = requires_grad && tape.grad_enabled();
    const auto index = static_cast<std::uint32_t>(tape.nodes_.size());
    tape.nodes_.push_back(node);
    return Var<T>(&tape, index, tape.generation_);
  }
};

// The operands of the node being differentiated; a and b may be null (no such operand).
template <class T>
struct Backward {
  Tape<T>& tape;
  const Node<T>& y;
  Node<T>* a;
  Node<T>* b;
  [[nodiscard]] std::size_t n() const noexcept { return y.shape.size(); }
  /// Scratch memory from the tape's arena, valid until reset().
  T* scratch(std::size_t count) const {
    return TapeAccess<T>::arena(tape).template allocate_array<T>(count);
  }
  [[nodiscard]] bool a_needs() const noexcept { return a != nullptr && a->requires_grad; }
  [[nodiscard]] bool b_needs() const noexcept { return b != nullptr && b->requires_grad; }
};

/// Runs the vector-Jacobian product of node `index` (which requires a gradient and has its
/// gradient buffer set): adds its contribution to the gradients of its operands. Defined in
/// ops.cc next to the forward functions.
template <class T>
void backward_node(Tape<T>& tape, std::uint32_t index);

}  // namespace simdiff::detail
