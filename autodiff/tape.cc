#include "simdiff/tape.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <string>

#include "autodiff/tape_access.h"

namespace simdiff {
namespace detail {

namespace {
constexpr std::size_t kArenaAlignment = 64;
constexpr std::size_t kSmallAlignment = 16;
// The first block holds a small network's step (the 64-32-10 MLP at batch 32 needs ~40 KiB);
// later blocks double, so a large computation takes few blocks.
constexpr std::size_t kFirstBlockBytes = std::size_t{64} << 10;
}  // namespace

void* Arena::allocate(std::size_t bytes) {
  // Requests of a cache line or more start on a cache line; smaller ones (the scalars of a chain
  // of tiny ops) are packed at 16 bytes, so that such a chain touches a quarter of the memory.
  const std::size_t alignment = bytes >= kArenaAlignment ? kArenaAlignment : kSmallAlignment;
  bytes = (std::max<std::size_t>(bytes, 1) + alignment - 1) & ~(alignment - 1);
  // Blocks are tried in order, skipping a block whose rest is too small: a repeated sequence of
  // requests makes the same choices, so it never needs a new block.
  while (block_ < blocks_.size()) {
    Block& block = blocks_[block_];
    const std::size_t start = (used_ + alignment - 1) & ~(alignment - 1);
    if (start <= block.size && block.size - start >= bytes) {
      std::byte* p = block.aligned + start;
      used_ = start + bytes;
      return p;
    }
    ++block_;
    used_ = 0;
  }
  const std::size_t size =
      std::max(bytes, blocks_.empty() ? kFirstBlockBytes : 2 * blocks_.back().size);
  // Uninitialized on purpose: every op writes its storage before reading it.
  std::unique_ptr<std::byte[]> memory(new std::byte[size + kArenaAlignment - 1]);
  const auto address = reinterpret_cast<std::uintptr_t>(memory.get());
  auto* aligned = memory.get() + ((kArenaAlignment - address % kArenaAlignment) % kArenaAlignment);
  blocks_.push_back({std::move(memory), aligned, size});
  block_ = blocks_.size() - 1;
  used_ = bytes;
  return aligned;
}

std::size_t Arena::capacity() const noexcept {
  std::size_t total = 0;
  for (const Block& block : blocks_) total += block.size;
  return total;
}

template <class T>
void TapeAccess<T>::throw_invalid(const char* op, const Var<T>& v, const char* argument) {
  if (v.tape_ == nullptr) {
    throw std::logic_error(std::string(op) + ": " + argument +
                           " is a default-constructed Var; expected a Var recorded on a tape");
  }
  throw std::logic_error(std::string(op) + ": " + argument + " (node " + std::to_string(v.index_) +
                         ") was recorded before the tape's last reset(); expected a Var "
                         "recorded since then");
}

template <class T>
void TapeAccess<T>::throw_different_tapes(const char* op) {
  throw std::logic_error(std::string(op) +
                         ": a and b belong to different tapes; expected Vars of one tape");
}

template struct TapeAccess<float>;
template struct TapeAccess<double>;

}  // namespace detail

template <class T>
const Shape& Var<T>::shape() const {
  detail::TapeAccess<T>::check("Var::shape", *this, "this Var");
  return tape_->nodes_[index_].shape;
}

template <class T>
TensorView<const T> Var<T>::value() const {
  detail::TapeAccess<T>::check("Var::value", *this, "this Var");
  const detail::Node<T>& node = tape_->nodes_[index_];
  return {std::span<const T>(node.value, node.shape.size()), node.shape};
}

template <class T>
bool Var<T>::requires_grad() const {
  detail::TapeAccess<T>::check("Var::requires_grad", *this, "this Var");
  return tape_->nodes_[index_].requires_grad;
}

template <class T>
TensorView<const T> Var<T>::grad() const {
  detail::TapeAccess<T>::check("Var::grad", *this, "this Var");
  const detail::Node<T>& node = tape_->nodes_[index_];
  const std::string where = "Var::grad: node " + std::to_string(index_) + " (" +
                            std::string(detail::op_name(node.op)) + ")";
  if (!node.requires_grad) {
    throw std::logic_error(where +
                           " depends on no input or parameter (or was recorded under no_grad), "
                           "so no gradient flows to it");
  }
  if (!tape_->backward_ran_) {
    throw std::logic_error(where + ": no backward() ran since it was recorded");
  }
  if (node.grad == nullptr) {
    throw std::logic_error(where +
                           " was recorded after the Var the last backward() started from, so it "
                           "has no gradient");
  }
  return {std::span<const T>(node.grad, node.shape.size()), node.shape};
}

template <class T>
Tape<T>::Tape() {
  // Room for a small network's nodes: growing later is allowed but allocates.
  nodes_.reserve(256);
}

template <class T>
Tape<T>::~Tape() = default;

template <class T>
Var<T> Tape<T>::constant(TensorView<const T> value) {
  const Var<T> v = detail::TapeAccess<T>::record(*this, detail::Op::constant, value.shape(),
                                                 detail::kNoOperand, detail::kNoOperand, false);
  std::copy_n(value.data(), value.size(), nodes_[v.index_].value);
  return v;
}

template <class T>
Var<T> Tape<T>::input(TensorView<const T> value) {
  const Var<T> v = detail::TapeAccess<T>::record(*this, detail::Op::input, value.shape(),
                                                 detail::kNoOperand, detail::kNoOperand, true);
  std::copy_n(value.data(), value.size(), nodes_[v.index_].value);
  return v;
}

template <class T>
Var<T> Tape<T>::parameter(TensorView<const T> value, TensorView<T> grad) {
  if (!(grad.shape() == value.shape())) {
    throw std::invalid_argument("Tape::parameter: grad has shape " + grad.shape().to_string() +
                                "; expected the shape of value, " + value.shape().to_string());
  }
  // The value is only read; the node stores a mutable pointer because every node does.
  const Var<T> v =
      detail::TapeAccess<T>::record(*this, detail::Op::parameter, value.shape(), detail::kNoOperand,
                                    detail::kNoOperand, true, const_cast<T*>(value.data()));
  nodes_[v.index_].grad = grad.data();
  return v;
}

template <class T>
void Tape<T>::backward(Var<T> loss, bool retain) {
  backward_from(loss, {}, true, retain);
}

template <class T>
void Tape<T>::backward(Var<T> y, TensorView<const T> seed, bool retain) {
  backward_from(y, seed, false, retain);
}

template <class T>
void Tape<T>::backward_from(Var<T> y, TensorView<const T> seed, bool seed_one, bool retain) {
  detail::TapeAccess<T>::check("Tape::backward", y, "y");
  if (y.tape_ != this) {
    throw std::logic_error("Tape::backward: y belongs to another tape");
  }
  const detail::Node<T>& top = nodes_[y.index_];
  if (seed_one && top.shape.size() != 1) {
    throw std::invalid_argument("Tape::backward: y has shape " + top.shape.to_string() +
                                "; expected one element, or pass a seed of that shape");
  }
  if (!seed_one && !(seed.shape() == top.shape)) {
    throw std::invalid_argument("Tape::backward: seed has shape " + seed.shape().to_string() +
                                "; expected the shape of y, " + top.shape.to_string());
  }
  if (backward_done_) {
    throw std::logic_error(
        "Tape::backward: backward() already ran since the last reset() without retain; pass "
        "retain = true to every backward() but the last to differentiate again");
  }
  if (!top.requires_grad) {
    throw std::logic_error("Tape::backward: y (node " + std::to_string(y.index_) + ", " +
                           std::string(detail::op_name(top.op)) +
                           ") depends on no input or parameter, or was recorded under no_grad");
  }
  // Gradient buffers of the nodes up to y: allocated once per reset, zeroed at every backward.
  const std::uint32_t end = y.index_ + 1;
  for (std::uint32_t i = grads_up_to_; i < end; ++i) {
    detail::Node<T>& node = nodes_[i];
    if (node.requires_grad && node.op != detail::Op::parameter) {
      node.grad = arena_.allocate_array<T>(node.shape.size());
    }
  }
  grads_up_to_ = std::max(grads_up_to_, end);
  for (std::uint32_t i = 0; i < grads_up_to_; ++i) {
    detail::Node<T>& node = nodes_[i];
    if (node.grad != nullptr && node.op != detail::Op::parameter) {
      std::memset(node.grad, 0, node.shape.size() * sizeof(T));
    }
  }
  detail::Node<T>& seeded = nodes_[y.index_];
  for (std::size_t i = 0; i < seeded.shape.size(); ++i) {
    seeded.grad[i] += seed_one ? T(1) : seed[i];
  }
  backward_ran_ = true;
  backward_done_ = !retain;
  for (std::uint32_t i = end; i-- > 0;) {
    const detail::Node<T>& node = nodes_[i];
    if (node.requires_grad && node.a != detail::kNoOperand) {
      detail::backward_node(*this, i);
    }
  }
}

template <class T>
void Tape<T>::reset() noexcept {
  nodes_.clear();
  arena_.rewind();
  ++generation_;
  backward_done_ = false;
  backward_ran_ = false;
  grads_up_to_ = 0;
}

template class Var<float>;
template class Var<double>;
template class Tape<float>;
template class Tape<double>;

}  // namespace simdiff
