// Host-side tensors: typed, shaped, CPU memory from the host allocator, shared on copy.
#pragma once

#include <pcv/plugin.h>
#include <pcv/types.hpp>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace pcv {

using Shape = std::vector<std::int64_t>;

// A dense, row-major tensor. Copies share the same memory (like a PyTorch tensor); use
// clone() for a deep copy. A default-constructed Tensor is "absent" (an optional input left out).
class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor on the CPU.
  Tensor(pcv_dtype dtype, Shape shape);

  template <class T>
  static Tensor from(Shape shape, std::span<const T> values) {
    Tensor t(dtype_of<T>(), std::move(shape));
    t.check_count(values.size());
    std::copy(values.begin(), values.end(), t.data<T>());
    return t;
  }
  template <class T>
  static Tensor from(Shape shape, std::initializer_list<T> values) {
    return from<T>(std::move(shape), std::span<const T>(values.begin(), values.size()));
  }
  // Like Tensor(dtype, shape) but the memory is left uninitialised: for outputs about to be written.
  static Tensor empty(pcv_dtype dtype, Shape shape);
  // Uninitialised memory on a device: the CPU, or a CUDA GPU when libpcv was built with CUDA
  // (throws pcv::Error saying why otherwise: no CUDA build, no such device, out of memory).
  static Tensor empty_on(pcv_device device, pcv_dtype dtype, Shape shape);
  // Dtype and shape without memory: what shape inference needs (data() is null).
  static Tensor placeholder(pcv_dtype dtype, Shape shape);
  // Takes ownership of memory from the host allocator (e.g. an output a plugin allocated).
  static Tensor adopt(void* data, pcv_dtype dtype, Shape shape, pcv_device device);
  // Borrows memory someone else owns (a memory-mapped weight, say); `owner` keeps it alive
  // for as long as any copy of this tensor is.
  static Tensor wrap(void* data, pcv_dtype dtype, Shape shape, std::shared_ptr<void> owner);

  bool defined() const { return storage_ != nullptr || !shape_.empty() || placeholder_; }
  pcv_dtype dtype() const { return dtype_; }
  pcv_device device() const { return device_; }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  std::int64_t numel() const { return pcv::numel(shape_); }
  std::uint64_t nbytes() const { return static_cast<std::uint64_t>(numel()) * element_size(dtype_); }

  // Typed element pointer; throws pcv::Error if T is not the tensor's dtype.
  template <class T>
  T* data() {
    check_dtype(dtype_of<T>());
    return static_cast<T*>(storage_.get());
  }
  template <class T>
  const T* data() const {
    check_dtype(dtype_of<T>());
    return static_cast<const T*>(storage_.get());
  }
  template <class T>
  std::vector<T> to_vector() const {
    const T* p = data<T>();
    return std::vector<T>(p, p + numel());
  }
  void* raw_data() const { return storage_.get(); }

  Tensor clone() const;
  // A DLPack-layout view for plugin calls; valid while this Tensor is alive and unchanged.
  pcv_tensor view() const;

  // A tensor with the same memory and another shape of the same element count.
  Tensor reshaped(Shape shape) const;

 private:
  struct Uninitialised {};
  Tensor(pcv_dtype dtype, Shape shape, Uninitialised);
  void check_dtype(pcv_dtype want) const;
  void check_count(std::size_t count) const;

  pcv_dtype dtype_ = kFloat32;
  pcv_device device_ = kCpu;
  Shape shape_;
  std::shared_ptr<void> storage_;
  bool placeholder_ = false;
};

}  // namespace pcv
