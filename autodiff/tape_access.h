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

  /// Throws std::logic_error unless `v` is a valid Var of a tape (messages name `op`).
  static void check(const char* op, const Var<T>& v, const char* argument);
  /// check() of both, and that they share a tape.
  static Tape<T>& check_same_tape(const char* op, const Var<T>& a, const Var<T>& b);

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

/// Runs the vector-Jacobian product of node `index` (which requires a gradient and has its
/// gradient buffer set): adds its contribution to the gradients of its operands. Defined in
/// ops.cc next to the forward functions.
template <class T>
void backward_node(Tape<T>& tape, std::uint32_t index);

}  // namespace simdiff::detail
