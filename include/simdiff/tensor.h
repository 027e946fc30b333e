// Dense tensors for the autodiff tape: an owning `Tensor<T>` and a non-owning `TensorView<T>`, for
// T = float or double, rank 0 (scalar), 1 ([n]) or 2 ([rows x cols]), contiguous row-major.
//
//   simdiff::Tensor<float> w({2, 3}, {1, 2, 3, 4, 5, 6});  // shape [2 x 3]
//   simdiff::Tensor<float> z({2, 3});                      // zeros [2 x 3]
//   auto b = simdiff::Tensor<float>::from({0.5f, 1.5f});    // rank 1 [2] from values
//   w(1, 2) = 7;                                           // element access, bounds-checked by
//   at() simdiff::TensorView<const float> v = w;                // a view; w must outlive it
//   std::cout << w;                                        // "Tensor[2 x 3] {{1, 2, 3}, {4, 5,
//   7}}"
//
// Every matrix operation sees a tensor as a `rows() x cols()` matrix: a scalar is 1 x 1, a rank-1
// tensor [n] is one row (1 x n), so a rank-1 tensor broadcasts as a row vector.
//
// Storage of a Tensor is 64-byte aligned (a cache line, and the widest SIMD vector). Shape
// mismatches and out-of-range indices throw std::invalid_argument / std::out_of_range with both
// shapes (or the index and the extent) in the message.
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace simdiff {

/// The extents of a tensor of rank 0 to kMaxRank.
class Shape {
 public:
  static constexpr std::size_t kMaxRank = 2;

  /// Rank 0: a scalar.
  constexpr Shape() noexcept = default;
  /// Rank = dims.size(); throws std::invalid_argument for more than kMaxRank extents.
  Shape(std::initializer_list<std::size_t> dims);

  [[nodiscard]] static constexpr Shape scalar() noexcept { return {}; }
  [[nodiscard]] static constexpr Shape vector(std::size_t n) noexcept { return Shape(1, {n, 0}); }
  [[nodiscard]] static constexpr Shape matrix(std::size_t rows, std::size_t cols) noexcept {
    return Shape(2, {rows, cols});
  }

  [[nodiscard]] constexpr std::size_t rank() const noexcept { return rank_; }
  /// Extent of dimension i < rank(); throws std::out_of_range otherwise.
  [[nodiscard]] std::size_t dim(std::size_t i) const;
  /// Number of elements (1 for a scalar).
  [[nodiscard]] constexpr std::size_t size() const noexcept {
    std::size_t n = 1;
    for (std::size_t i = 0; i < rank_; ++i) n *= dims_[i];
    return n;
  }
  /// The matrix view: rows = dim(0) for rank 2, else 1; cols = the last extent (1 for a scalar).
  [[nodiscard]] constexpr std::size_t rows() const noexcept { return rank_ == 2 ? dims_[0] : 1; }
  [[nodiscard]] constexpr std::size_t cols() const noexcept {
    return rank_ == 0 ? 1 : dims_[rank_ - 1];
  }

  friend constexpr bool operator==(const Shape& a, const Shape& b) noexcept {
    if (a.rank_ != b.rank_) return false;
    for (std::size_t i = 0; i < a.rank_; ++i) {
      if (a.dims_[i] != b.dims_[i]) return false;
    }
    return true;
  }

  /// "[2 x 3]", "[5]", "[] (scalar)".
  [[nodiscard]] std::string to_string() const;

 private:
  constexpr Shape(std::size_t rank, std::array<std::size_t, kMaxRank> dims) noexcept
      : dims_(dims), rank_(rank) {}

  std::array<std::size_t, kMaxRank> dims_{};
  std::size_t rank_ = 0;
};

std::ostream& operator<<(std::ostream& out, const Shape& shape);

/// A non-owning view of contiguous row-major data with a shape; T may be const. Views never
/// allocate; the viewed storage must outlive them.
template <class T>
class TensorView {
 public:
  using value_type = std::remove_const_t<T>;
  static_assert(std::is_same_v<value_type, float> || std::is_same_v<value_type, double>,
                "simdiff tensors hold float or double");

  constexpr TensorView() noexcept = default;
  /// Throws std::invalid_argument unless data.size() == shape.size().
  TensorView(std::span<T> data, Shape shape);
  /// A rank-1 view of the whole span.
  TensorView(std::span<T> data);  // NOLINT(google-explicit-constructor)
  /// TensorView<T> converts to TensorView<const T>.
  template <class U>
  requires(std::is_const_v<T>&& std::is_same_v<const U, T>) TensorView(TensorView<U> other)
  noexcept : data_(other.span()), shape_(other.shape()) {}  // NOLINT(google-explicit-constructor)

  [[nodiscard]] constexpr const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] constexpr std::size_t size() const noexcept { return data_.size(); }
  [[nodiscard]] constexpr std::size_t rows() const noexcept { return shape_.rows(); }
  [[nodiscard]] constexpr std::size_t cols() const noexcept { return shape_.cols(); }
  [[nodiscard]] constexpr T* data() const noexcept { return data_.data(); }
  [[nodiscard]] constexpr std::span<T> span() const noexcept { return data_; }

  /// Flat element i (unchecked).
  constexpr T& operator[](std::size_t i) const noexcept { return data_[i]; }
  /// Element (r, c) of the matrix view (unchecked).
  constexpr T& operator()(std::size_t r, std::size_t c) const noexcept {
    return data_[r * shape_.cols() + c];
  }
  /// Checked access: throws std::out_of_range naming the index and the shape.
  T& at(std::size_t i) const;
  T& at(std::size_t r, std::size_t c) const;
  /// The value of a one-element tensor; throws std::invalid_argument for any other shape.
  [[nodiscard]] value_type item() const;

  /// The same data with another shape of the same size (throws std::invalid_argument otherwise).
  [[nodiscard]] TensorView reshaped(Shape shape) const;
  /// Row r (< rows()) as a rank-1 view.
  [[nodiscard]] TensorView row(std::size_t r) const;

 private:
  std::span<T> data_;
  Shape shape_;
};

/// An owning tensor with 64-byte aligned storage. Copying copies the data; moving is cheap.
template <class T>
class Tensor {
 public:
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>,
                "simdiff tensors hold float or double");
  static constexpr std::size_t kAlignment = 64;

  /// An empty rank-1 tensor [0].
  Tensor();
  /// Zeros of the given shape.
  explicit Tensor(Shape shape);
  /// `value` everywhere.
  Tensor(Shape shape, T value);
  /// Copies `values`; throws std::invalid_argument unless values.size() == shape.size().
  Tensor(Shape shape, std::span<const T> values);
  Tensor(Shape shape, std::initializer_list<T> values);
  Tensor(Shape shape, const std::vector<T>& values) : Tensor(shape, std::span<const T>(values)) {}
  /// A rank-1 tensor holding a copy of `values`. (A factory, not a constructor: `Tensor({2, 3})`
  /// would be ambiguous between a shape and two values; it is the shape [2 x 3].)
  [[nodiscard]] static Tensor from(std::span<const T> values) {
    return Tensor(Shape::vector(values.size()), values);
  }
  [[nodiscard]] static Tensor from(std::initializer_list<T> values) {
    return Tensor(Shape::vector(values.size()), values);
  }
  [[nodiscard]] static Tensor from(const std::vector<T>& values) {
    return from(std::span<const T>(values));
  }
  /// A copy of a view.
  explicit Tensor(TensorView<const T> view);

  Tensor(const Tensor& other);
  Tensor& operator=(const Tensor& other);
  Tensor(Tensor&& other) noexcept;
  Tensor& operator=(Tensor&& other) noexcept;
  ~Tensor() = default;

  [[nodiscard]] const Shape& shape() const noexcept { return shape_; }
  [[nodiscard]] std::size_t size() const noexcept { return shape_.size(); }
  [[nodiscard]] std::size_t rows() const noexcept { return shape_.rows(); }
  [[nodiscard]] std::size_t cols() const noexcept { return shape_.cols(); }
  [[nodiscard]] T* data() noexcept { return storage_.get(); }
  [[nodiscard]] const T* data() const noexcept { return storage_.get(); }
  [[nodiscard]] std::span<T> span() noexcept { return {data(), size()}; }
  [[nodiscard]] std::span<const T> span() const noexcept { return {data(), size()}; }
  [[nodiscard]] TensorView<T> view() noexcept { return {span(), shape_}; }
  [[nodiscard]] TensorView<const T> view() const noexcept { return {span(), shape_}; }
  operator TensorView<T>() noexcept { return view(); }              // NOLINT
  operator TensorView<const T>() const noexcept { return view(); }  // NOLINT

  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& operator()(std::size_t r, std::size_t c) noexcept { return data()[r * cols() + c]; }
  const T& operator()(std::size_t r, std::size_t c) const noexcept {
    return data()[r * cols() + c];
  }
  T& at(std::size_t i) { return view().at(i); }
  const T& at(std::size_t i) const { return view().at(i); }
  T& at(std::size_t r, std::size_t c) { return view().at(r, c); }
  const T& at(std::size_t r, std::size_t c) const { return view().at(r, c); }
  [[nodiscard]] T item() const { return view().item(); }

  /// Sets every element to `value` (does not allocate).
  void fill(T value) noexcept;
  /// Changes the shape in place; the size must stay the same (throws std::invalid_argument).
  void reshape(Shape shape);

 private:
  struct Free {
    void operator()(T* p) const noexcept;
  };
  Shape shape_;
  std::unique_ptr<T[], Free> storage_;
};

template <class T>
std::ostream& operator<<(std::ostream& out, TensorView<T> view);
template <class T>
std::ostream& operator<<(std::ostream& out, const Tensor<T>& tensor) {
  return out << tensor.view();
}

extern template class TensorView<float>;
extern template class TensorView<const float>;
extern template class TensorView<double>;
extern template class TensorView<const double>;
extern template class Tensor<float>;
extern template class Tensor<double>;

}  // namespace simdiff
