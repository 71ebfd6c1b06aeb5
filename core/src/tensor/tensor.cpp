#include <pcv/error.hpp>
#include <pcv/tensor.hpp>

#include <cstring>
#include <new>

#include "tensor/allocator.hpp"

namespace pcv {

Tensor::Tensor(pcv_dtype dtype, Shape shape) : Tensor(dtype, std::move(shape), Uninitialised{}) {
  std::memset(storage_.get(), 0, nbytes());
}

Tensor Tensor::empty(pcv_dtype dtype, Shape shape) {
  return Tensor(dtype, std::move(shape), Uninitialised{});
}

Tensor::Tensor(pcv_dtype dtype, Shape shape, Uninitialised) : dtype_(dtype), shape_(std::move(shape)) {
  for (std::int64_t d : shape_)
    if (d < 0) throw Error("tensor shape " + shape_string(shape_) + " has a negative dimension");
  if (shape_.size() > PCV_MAX_NDIM)
    throw Error("tensor shape " + shape_string(shape_) + " has more than " + std::to_string(PCV_MAX_NDIM) +
                " dimensions");
  void* p = detail::allocate(device_, nbytes(), detail::kDefaultAlignment);
  if (p == nullptr) throw std::bad_alloc();
  storage_ = std::shared_ptr<void>(p, [device = device_](void* q) { detail::deallocate(device, q); });
}

Tensor Tensor::adopt(void* data, pcv_dtype dtype, Shape shape, pcv_device device) {
  Tensor t;
  t.dtype_ = dtype;
  t.device_ = device;
  t.shape_ = std::move(shape);
  t.storage_ = std::shared_ptr<void>(data, [device](void* q) { detail::deallocate(device, q); });
  return t;
}

Tensor Tensor::empty_on(pcv_device device, pcv_dtype dtype, Shape shape) {
  if (device.device_type == PCV_DEVICE_CPU) return empty(dtype, std::move(shape));
  Tensor t;
  t.dtype_ = dtype;
  t.device_ = device;
  t.shape_ = std::move(shape);
  void* p = detail::allocate(device, t.nbytes(), detail::kDefaultAlignment);
  if (p == nullptr)
    throw Error("cannot allocate " + std::to_string(t.nbytes()) + " bytes on " + device_name(device) + ": " +
                    detail::allocation_failure(device),
                PCV_ERR_OUT_OF_MEMORY);
  t.storage_ = std::shared_ptr<void>(p, [device](void* q) { detail::deallocate(device, q); });
  return t;
}

Tensor Tensor::placeholder(pcv_dtype dtype, Shape shape) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.placeholder_ = true;
  return t;
}

Tensor Tensor::wrap(void* data, pcv_dtype dtype, Shape shape, std::shared_ptr<void> owner) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.storage_ = std::shared_ptr<void>(std::move(owner), data);  // aliasing: owner's lifetime, our pointer
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  if (pcv::numel(shape) != numel())
    throw Error("cannot reshape a tensor of shape " + shape_string(shape_) + " to " + shape_string(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

Tensor Tensor::clone() const {
  if (device_.device_type != PCV_DEVICE_CPU)
    throw Error("clone() copies CPU tensors only; this one is on " + device_name(device_),
                PCV_ERR_NOT_SUPPORTED);
  Tensor t = empty(dtype_, shape_);
  if (nbytes() > 0) std::memcpy(t.raw_data(), raw_data(), nbytes());
  return t;
}

pcv_tensor Tensor::view() const {
  pcv_tensor v{};
  v.data = storage_.get();
  v.device = device_;
  v.ndim = static_cast<std::int32_t>(shape_.size());
  v.dtype = dtype_;
  v.shape = const_cast<std::int64_t*>(shape_.data());  // the ABI's shape is not const; plugins only read it
  v.strides = nullptr;
  v.byte_offset = 0;
  return v;
}

void Tensor::check_dtype(pcv_dtype want) const {
  if (!same_dtype(dtype_, want))
    throw Error("tensor has dtype " + dtype_name(dtype_) + ", read as " + dtype_name(want));
}

void Tensor::check_count(std::size_t count) const {
  if (static_cast<std::int64_t>(count) != numel())
    throw Error(std::to_string(count) + " values given for a tensor of shape " + shape_string(shape_));
}

}  // namespace pcv
