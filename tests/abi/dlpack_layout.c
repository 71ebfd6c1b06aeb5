/* dlpack_layout.c - pcv_tensor, pcv_device and pcv_dtype must stay layout-identical to DLPack's
 * DLTensor, DLDevice and DLDataType (Debian's dlpack 0.6), and pcv's device and dtype codes must
 * be DLPack's, so tensors cross to and from DLPack without copies. Checked at compile time, as C99
 * (GNU C99: _Static_assert) and, through dlpack_layout.cpp, as C++. */
#include <dlpack/dlpack.h>
#include <pcv/plugin.h>
#include <stddef.h>

#ifdef __cplusplus
#define PCV_STATIC_ASSERT static_assert
#define PCV_ALIGNOF alignof
#else
#define PCV_STATIC_ASSERT _Static_assert
#define PCV_ALIGNOF _Alignof
#endif

/* Same offset and same size of field `f` in pcv type P and DLPack type D. */
#define PCV_SAME_FIELD(P, D, f)                                                      \
  PCV_STATIC_ASSERT(offsetof(P, f) == offsetof(D, f), #P "." #f ": offset differs"); \
  PCV_STATIC_ASSERT(sizeof(((const P*)0)->f) == sizeof(((const D*)0)->f), #P "." #f ": size differs")

/* Same size and alignment of the whole struct. */
#define PCV_SAME_STRUCT(P, D)                                     \
  PCV_STATIC_ASSERT(sizeof(P) == sizeof(D), #P ": size differs"); \
  PCV_STATIC_ASSERT(PCV_ALIGNOF(P) == PCV_ALIGNOF(D), #P ": alignment differs")

/* Compared as int: they are constants of two different anonymous enums. */
#define PCV_SAME_CODE(pcv, dl) PCV_STATIC_ASSERT((int)(pcv) == (int)(dl), #pcv " != " #dl)

PCV_SAME_FIELD(pcv_device, DLDevice, device_type);
PCV_SAME_FIELD(pcv_device, DLDevice, device_id);
PCV_SAME_STRUCT(pcv_device, DLDevice);

PCV_SAME_FIELD(pcv_dtype, DLDataType, code);
PCV_SAME_FIELD(pcv_dtype, DLDataType, bits);
PCV_SAME_FIELD(pcv_dtype, DLDataType, lanes);
PCV_SAME_STRUCT(pcv_dtype, DLDataType);

PCV_SAME_FIELD(pcv_tensor, DLTensor, data);
PCV_SAME_FIELD(pcv_tensor, DLTensor, device);
PCV_SAME_FIELD(pcv_tensor, DLTensor, ndim);
PCV_SAME_FIELD(pcv_tensor, DLTensor, dtype);
PCV_SAME_FIELD(pcv_tensor, DLTensor, shape);
PCV_SAME_FIELD(pcv_tensor, DLTensor, strides);
PCV_SAME_FIELD(pcv_tensor, DLTensor, byte_offset);
PCV_SAME_STRUCT(pcv_tensor, DLTensor);

PCV_SAME_CODE(PCV_DEVICE_CPU, kDLCPU);
PCV_SAME_CODE(PCV_DEVICE_CUDA, kDLCUDA);
PCV_SAME_CODE(PCV_DEVICE_CUDA_HOST, kDLCUDAHost);
PCV_SAME_CODE(PCV_DEVICE_CUDA_MANAGED, kDLCUDAManaged);
PCV_SAME_CODE(PCV_DTYPE_INT, kDLInt);
PCV_SAME_CODE(PCV_DTYPE_UINT, kDLUInt);
PCV_SAME_CODE(PCV_DTYPE_FLOAT, kDLFloat);
PCV_SAME_CODE(PCV_DTYPE_BFLOAT, kDLBfloat);

int main(void) { return 0; }
