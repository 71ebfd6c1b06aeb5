// dlpack_layout.cpp - the checks of dlpack_layout.c compiled as C++ (the host and most plugins are
// C++), plus what only C++ can check: the structs are standard-layout and trivially copyable, and
// their fields have DLPack's declared types where DLPack's are plain integers and pointers.
#include "dlpack_layout.c"

#include <type_traits>

template <typename P, typename D>
constexpr bool both_plain_structs() {
  return std::is_standard_layout_v<P> && std::is_standard_layout_v<D> && std::is_trivially_copyable_v<P>;
}
static_assert(both_plain_structs<pcv_device, DLDevice>(), "pcv_device vs DLDevice");
static_assert(both_plain_structs<pcv_dtype, DLDataType>(), "pcv_dtype vs DLDataType");
static_assert(both_plain_structs<pcv_tensor, DLTensor>(), "pcv_tensor vs DLTensor");

#define PCV_SAME_TYPE(P, D, f) \
  static_assert(std::is_same_v<decltype(P::f), decltype(D::f)>, #P "." #f ": type")
// DLDevice::device_type is an enum (int-sized with gcc), pcv's an int32_t: size only, checked in the .c.
PCV_SAME_TYPE(pcv_device, DLDevice, device_id);
PCV_SAME_TYPE(pcv_dtype, DLDataType, code);
PCV_SAME_TYPE(pcv_dtype, DLDataType, bits);
PCV_SAME_TYPE(pcv_dtype, DLDataType, lanes);
PCV_SAME_TYPE(pcv_tensor, DLTensor, data);
PCV_SAME_TYPE(pcv_tensor, DLTensor, ndim);
PCV_SAME_TYPE(pcv_tensor, DLTensor, shape);
PCV_SAME_TYPE(pcv_tensor, DLTensor, strides);
PCV_SAME_TYPE(pcv_tensor, DLTensor, byte_offset);
