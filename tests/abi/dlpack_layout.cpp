// dlpack_layout.cpp - the checks of dlpack_layout.c, compiled as C++ (the host and most plugins
// are C++): pcv_tensor, pcv_device and pcv_dtype are layout-identical to DLPack's DLTensor,
// DLDevice and DLDataType (Debian's dlpack 0.6), with the same field types where DLPack's are
// plain integers and pointers, and pcv's device and dtype codes are DLPack's.
#include <dlpack/dlpack.h>
#include <pcv/plugin.h>

#include <cstddef>
#include <type_traits>

// offsetof is only meaningful on standard-layout types; memcpy-ability is what zero-copy needs.
template <typename P, typename D>
constexpr bool same_kind_of_struct() {
  return std::is_standard_layout_v<P> && std::is_standard_layout_v<D> && std::is_trivially_copyable_v<P> &&
         sizeof(P) == sizeof(D) && alignof(P) == alignof(D);
}
static_assert(same_kind_of_struct<pcv_device, DLDevice>(), "pcv_device vs DLDevice");
static_assert(same_kind_of_struct<pcv_dtype, DLDataType>(), "pcv_dtype vs DLDataType");
static_assert(same_kind_of_struct<pcv_tensor, DLTensor>(), "pcv_tensor vs DLTensor");

// Same offset and size of field `f`; PCV_SAME_TYPED_FIELD also requires the same declared type.
#define PCV_SAME_FIELD(P, D, f)                                          \
  static_assert(offsetof(P, f) == offsetof(D, f), #P "." #f ": offset"); \
  static_assert(sizeof(P::f) == sizeof(D::f), #P "." #f ": size")
#define PCV_SAME_TYPED_FIELD(P, D, f) \
  PCV_SAME_FIELD(P, D, f);            \
  static_assert(std::is_same_v<decltype(P::f), decltype(D::f)>, #P "." #f ": type")

// DLDevice::device_type is an enum (int-sized with gcc), pcv's an int32_t: size only.
PCV_SAME_FIELD(pcv_device, DLDevice, device_type);
PCV_SAME_TYPED_FIELD(pcv_device, DLDevice, device_id);

PCV_SAME_TYPED_FIELD(pcv_dtype, DLDataType, code);
PCV_SAME_TYPED_FIELD(pcv_dtype, DLDataType, bits);
PCV_SAME_TYPED_FIELD(pcv_dtype, DLDataType, lanes);

PCV_SAME_TYPED_FIELD(pcv_tensor, DLTensor, data);
PCV_SAME_FIELD(pcv_tensor, DLTensor, device);  // pcv_device vs DLDevice, checked above
PCV_SAME_TYPED_FIELD(pcv_tensor, DLTensor, ndim);
PCV_SAME_FIELD(pcv_tensor, DLTensor, dtype);  // pcv_dtype vs DLDataType, checked above
PCV_SAME_TYPED_FIELD(pcv_tensor, DLTensor, shape);
PCV_SAME_TYPED_FIELD(pcv_tensor, DLTensor, strides);
PCV_SAME_TYPED_FIELD(pcv_tensor, DLTensor, byte_offset);

// Compared as int: comparing constants of two different enums is deprecated in C++20.
#define PCV_SAME_CODE(pcv, dl) static_assert(static_cast<int>(pcv) == static_cast<int>(dl), #pcv)
PCV_SAME_CODE(PCV_DEVICE_CPU, kDLCPU);
PCV_SAME_CODE(PCV_DEVICE_CUDA, kDLCUDA);
PCV_SAME_CODE(PCV_DEVICE_CUDA_HOST, kDLCUDAHost);
PCV_SAME_CODE(PCV_DEVICE_CUDA_MANAGED, kDLCUDAManaged);
PCV_SAME_CODE(PCV_DTYPE_INT, kDLInt);
PCV_SAME_CODE(PCV_DTYPE_UINT, kDLUInt);
PCV_SAME_CODE(PCV_DTYPE_FLOAT, kDLFloat);
PCV_SAME_CODE(PCV_DTYPE_BFLOAT, kDLBfloat);

int main() { return 0; }
