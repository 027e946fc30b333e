#include "simdiff/tensor.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace simdiff {

Shape::Shape(std::initializer_list<std::size_t> dims) {
  if (dims.size() > kMaxRank) {
    throw std::invalid_argument("Shape: " + std::to_string(dims.size()) +
                                " extents given; expected at most " + std::to_string(kMaxRank));
  }
  rank_ = dims.size();
  std::copy(dims.begin(), dims.end(), dims_.begin());
}

std::size_t Shape::dim(std::size_t i) const {
  if (i >= rank_) {
    throw std::out_of_range("Shape::dim: index " + std::to_string(i) + " of a shape of rank " +
                            std::to_string(rank_));
  }
  return dims_[i];
}

std::string Shape::to_string() const {
  if (rank_ == 0) return "[] (scalar)";
  std::string out = "[";
  for (std::size_t i = 0; i < rank_; ++i) {
    if (i > 0) out += " x ";
    out += std::to_string(dims_[i]);
  }
  return out + "]";
}

std::ostream& operator<<(std::ostream& out, const Shape& shape) { return out << shape.to_string(); }

template <class T>
TensorView<T>::TensorView(std::span<T> data, Shape shape) : data_(data), shape_(shape) {
  if (data.size() != shape.size()) {
    throw std::invalid_argument("TensorView: data has " + std::to_string(data.size()) +
                                " elements; expected the " + std::to_string(shape.size()) +
                                " of shape " + shape.to_string());
  }
}

template <class T>
TensorView<T>::TensorView(std::span<T> data) : data_(data), shape_(Shape::vector(data.size())) {}

template <class T>
T& TensorView<T>::at(std::size_t i) const {
  if (i >= size()) {
    throw std::out_of_range("TensorView::at: index " + std::to_string(i) + " out of range for " +
                            std::to_string(size()) + " elements (shape " + shape_.to_string() +
                            ")");
  }
  return data_[i];
}

template <class T>
T& TensorView<T>::at(std::size_t r, std::size_t c) const {
  if (r >= rows() || c >= cols()) {
    throw std::out_of_range("TensorView::at: index (" + std::to_string(r) + ", " +
                            std::to_string(c) + ") out of range for shape " + shape_.to_string());
  }
  return data_[r * cols() + c];
}

template <class T>
typename TensorView<T>::value_type TensorView<T>::item() const {
  if (size() != 1) {
    throw std::invalid_argument("item: the tensor has shape " + shape_.to_string() +
                                "; expected exactly one element");
  }
  return data_[0];
}

template <class T>
TensorView<T> TensorView<T>::reshaped(Shape shape) const {
  if (shape.size() != size()) {
    throw std::invalid_argument("reshaped: shape " + shape.to_string() + " has " +
                                std::to_string(shape.size()) + " elements; the view " +
                                shape_.to_string() + " has " + std::to_string(size()));
  }
  return TensorView(data_, shape);
}

template <class T>
TensorView<T> TensorView<T>::row(std::size_t r) const {
  if (r >= rows()) {
    throw std::out_of_range("TensorView::row: row " + std::to_string(r) +
                            " out of range for shape " + shape_.to_string());
  }
  return TensorView(data_.subspan(r * cols(), cols()), Shape::vector(cols()));
}

template <class T>
std::ostream& operator<<(std::ostream& out, TensorView<T> view) {
  std::ostringstream text;
  text.precision(out.precision());
  text << "Tensor" << view.shape() << " ";
  const auto print_row = [&](std::size_t r) {
    text << "{";
    for (std::size_t c = 0; c < view.cols(); ++c) text << (c > 0 ? ", " : "") << view(r, c);
    text << "}";
  };
  if (view.shape().rank() == 0) {
    text << view[0];
  } else if (view.shape().rank() == 1) {
    print_row(0);
  } else {
    text << "{";
    for (std::size_t r = 0; r < view.rows(); ++r) {
      if (r > 0) text << ", ";
      print_row(r);
    }
    text << "}";
  }
  return out << text.str();
}

template <class T>
void Tensor<T>::Free::operator()(T* p) const noexcept {
  ::operator delete[](p, std::align_val_t{kAlignment});
}

namespace {
template <class T>
T* allocate_aligned(std::size_t n) {
  // At least one element, so that data() is never null.
  return static_cast<T*>(
      ::operator new[](std::max<std::size_t>(n, 1) * sizeof(T), std::align_val_t{64}));
}
}  // namespace

template <class T>
Tensor<T>::Tensor() : Tensor(Shape::vector(0)) {}

template <class T>
Tensor<T>::Tensor(Shape shape) : Tensor(shape, T(0)) {}

template <class T>
Tensor<T>::Tensor(Shape shape, T value)
    : shape_(shape), storage_(allocate_aligned<T>(shape.size())) {
  std::fill_n(storage_.get(), shape.size(), value);
}

template <class T>
Tensor<T>::Tensor(Shape shape, std::span<const T> values)
    : shape_(shape), storage_(allocate_aligned<T>(shape.size())) {
  if (values.size() != shape.size()) {
    throw std::invalid_argument("Tensor: " + std::to_string(values.size()) +
                                " values given; expected the " + std::to_string(shape.size()) +
                                " of shape " + shape.to_string());
  }
  std::copy(values.begin(), values.end(), storage_.get());
}

template <class T>
Tensor<T>::Tensor(Shape shape, std::initializer_list<T> values)
    : Tensor(shape, std::span<const T>(values.begin(), values.size())) {}

template <class T>
Tensor<T>::Tensor(TensorView<const T> view) : Tensor(view.shape(), view.span()) {}

template <class T>
Tensor<T>::Tensor(const Tensor& other) : Tensor(other.shape_, other.span()) {}

template <class T>
Tensor<T>& Tensor<T>::operator=(const Tensor& other) {
  if (this == &other) return *this;
  if (other.size() != size()) storage_.reset(allocate_aligned<T>(other.size()));
  shape_ = other.shape_;
  std::copy_n(other.data(), other.size(), data());
  return *this;
}

// A moved-from tensor is an empty [0] without storage.
template <class T>
Tensor<T>::Tensor(Tensor&& other) noexcept
    : shape_(other.shape_), storage_(std::move(other.storage_)) {
  other.shape_ = Shape::vector(0);
}

template <class T>
Tensor<T>& Tensor<T>::operator=(Tensor&& other) noexcept {
  if (this == &other) return *this;
  shape_ = other.shape_;
  storage_ = std::move(other.storage_);
  other.shape_ = Shape::vector(0);
  return *this;
}

template <class T>
void Tensor<T>::fill(T value) noexcept {
  std::fill_n(data(), size(), value);
}

template <class T>
void Tensor<T>::reshape(Shape shape) {
  if (shape.size() != size()) {
    throw std::invalid_argument("Tensor::reshape: shape " + shape.to_string() + " has " +
                                std::to_string(shape.size()) + " elements; the tensor " +
                                shape_.to_string() + " has " + std::to_string(size()));
  }
  shape_ = shape;
}

template class TensorView<float>;
template class TensorView<const float>;
template class TensorView<double>;
template class TensorView<const double>;
template class Tensor<float>;
template class Tensor<double>;
template std::ostream& operator<<(std::ostream&, TensorView<float>);
template std::ostream& operator<<(std::ostream&, TensorView<const float>);
template std::ostream& operator<<(std::ostream&, TensorView<double>);
template std::ostream& operator<<(std::ostream&, TensorView<const double>);

}  // namespace simdiff
