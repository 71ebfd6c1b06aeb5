/* v1_offsets.c - the frozen v1.0 layout of pcv/plugin.h, pinned by hand, without any tool: the
 * byte offset of every field and the size of every struct on 64-bit targets, and every constant.
 * Never edit these numbers within major version 1: a 1.x header may only append fields, which
 * moves nothing pinned here (sizes of size-prefixed structs are lower bounds), so any failure is an
 * ABI break. Fields appended later are pinned by adding lines. C99 with GNU _Static_assert. */
#include <pcv/plugin.h>
#include <stddef.h>

/* The numbers below assume 8-byte pointers and 8-byte-aligned int64_t/double (LP64, LLP64). */
_Static_assert(sizeof(void*) == 8 && _Alignof(int64_t) == 8 && _Alignof(double) == 8,
               "v1_offsets.c pins the 64-bit layout");

#define OFF(T, f, n) _Static_assert(offsetof(T, f) == (n), #T "." #f " is not at byte " #n)
/* At least the v1.0 size: a 1.x header may grow a size-prefixed struct at its end. */
#define SIZE(T, n) _Static_assert(sizeof(T) >= (n), "sizeof(" #T ") shrank below " #n)
/* Exactly the v1.0 size: DLPack's layout, and pcv_device/pcv_dtype are embedded in pcv_tensor. */
#define SIZE_EXACT(T, n) _Static_assert(sizeof(T) == (n), "sizeof(" #T ") is not " #n)
#define VALUE(c, v) _Static_assert((c) == (v), #c " is not " #v)

OFF(pcv_device, device_type, 0);
OFF(pcv_device, device_id, 4);
SIZE_EXACT(pcv_device, 8);

OFF(pcv_dtype, code, 0);
OFF(pcv_dtype, bits, 1);
OFF(pcv_dtype, lanes, 2);
SIZE_EXACT(pcv_dtype, 4);

OFF(pcv_tensor, data, 0);
OFF(pcv_tensor, device, 8);
OFF(pcv_tensor, ndim, 16);
OFF(pcv_tensor, dtype, 20);
OFF(pcv_tensor, shape, 24);
OFF(pcv_tensor, strides, 32);
OFF(pcv_tensor, byte_offset, 40);
SIZE_EXACT(pcv_tensor, 48);

OFF(pcv_attr, struct_size, 0);
OFF(pcv_attr, type, 4);
OFF(pcv_attr, name, 8);
OFF(pcv_attr, i, 16);
OFF(pcv_attr, f, 24);
OFF(pcv_attr, s, 32);
OFF(pcv_attr, ints, 40);
OFF(pcv_attr, floats, 48);
OFF(pcv_attr, count, 56);
SIZE(pcv_attr, 64);

OFF(pcv_attrs, struct_size, 0);
OFF(pcv_attrs, count, 4);
OFF(pcv_attrs, items, 8);
SIZE(pcv_attrs, 16);

OFF(pcv_arg_spec, struct_size, 0);
OFF(pcv_arg_spec, flags, 4);
OFF(pcv_arg_spec, name, 8);
OFF(pcv_arg_spec, doc, 16);
OFF(pcv_arg_spec, dtypes, 24);
SIZE(pcv_arg_spec, 32);

OFF(pcv_attr_spec, struct_size, 0);
OFF(pcv_attr_spec, type, 4);
OFF(pcv_attr_spec, name, 8);
OFF(pcv_attr_spec, doc, 16);
OFF(pcv_attr_spec, default_value, 24);
SIZE(pcv_attr_spec, 32);

OFF(pcv_host_api, struct_size, 0);
OFF(pcv_host_api, abi_major, 4);
OFF(pcv_host_api, abi_minor, 8);
OFF(pcv_host_api, reserved0, 12);
OFF(pcv_host_api, host_ctx, 16);
OFF(pcv_host_api, host_version, 24);
OFF(pcv_host_api, set_error, 32);
OFF(pcv_host_api, alloc, 40);
OFF(pcv_host_api, free, 48);
OFF(pcv_host_api, log, 56);
SIZE(pcv_host_api, 64);

OFF(pcv_forward_args, struct_size, 0);
OFF(pcv_forward_args, num_inputs, 4);
OFF(pcv_forward_args, num_outputs, 8);
OFF(pcv_forward_args, reserved0, 12);
OFF(pcv_forward_args, inputs, 16);
OFF(pcv_forward_args, outputs, 24);
OFF(pcv_forward_args, stream, 32);
SIZE(pcv_forward_args, 40);

OFF(pcv_backward_args, struct_size, 0);
OFF(pcv_backward_args, num_inputs, 4);
OFF(pcv_backward_args, num_outputs, 8);
OFF(pcv_backward_args, reserved0, 12);
OFF(pcv_backward_args, inputs, 16);
OFF(pcv_backward_args, outputs, 24);
OFF(pcv_backward_args, grad_outputs, 32);
OFF(pcv_backward_args, grad_inputs, 40);
OFF(pcv_backward_args, stream, 48);
SIZE(pcv_backward_args, 56);

OFF(pcv_op_desc, struct_size, 0);
OFF(pcv_op_desc, caps, 4);
OFF(pcv_op_desc, name, 8);
OFF(pcv_op_desc, doc, 16);
OFF(pcv_op_desc, op_version, 24);
OFF(pcv_op_desc, num_inputs, 28);
OFF(pcv_op_desc, num_outputs, 32);
OFF(pcv_op_desc, num_attrs, 36);
OFF(pcv_op_desc, inputs, 40);
OFF(pcv_op_desc, outputs, 48);
OFF(pcv_op_desc, attrs, 56);
OFF(pcv_op_desc, infer_shapes, 64);
OFF(pcv_op_desc, create, 72);
OFF(pcv_op_desc, destroy, 80);
OFF(pcv_op_desc, forward, 88);
OFF(pcv_op_desc, backward, 96);
SIZE(pcv_op_desc, 104);

OFF(pcv_plugin_info, struct_size, 0);
OFF(pcv_plugin_info, abi_major, 4);
OFF(pcv_plugin_info, abi_minor, 8);
OFF(pcv_plugin_info, num_ops, 12);
OFF(pcv_plugin_info, name, 16);
OFF(pcv_plugin_info, version, 24);
OFF(pcv_plugin_info, description, 32);
OFF(pcv_plugin_info, ops, 40);
SIZE(pcv_plugin_info, 48);

SIZE_EXACT(pcv_status, 4); /* int32_t */

VALUE(PCV_ABI_VERSION_MAJOR, 1);
VALUE(PCV_MAX_NDIM, 16);

VALUE(PCV_OK, 0);
VALUE(PCV_ERR_INVALID_ARGUMENT, 1);
VALUE(PCV_ERR_SHAPE, 2);
VALUE(PCV_ERR_VERSION_MISMATCH, 3);
VALUE(PCV_ERR_OUT_OF_MEMORY, 4);
VALUE(PCV_ERR_NOT_SUPPORTED, 5);
VALUE(PCV_ERR_INTERNAL, 6);

VALUE(PCV_DEVICE_CPU, 1);
VALUE(PCV_DEVICE_CUDA, 2);
VALUE(PCV_DEVICE_CUDA_HOST, 3);
VALUE(PCV_DEVICE_CUDA_MANAGED, 13);

VALUE(PCV_DTYPE_INT, 0);
VALUE(PCV_DTYPE_UINT, 1);
VALUE(PCV_DTYPE_FLOAT, 2);
VALUE(PCV_DTYPE_BFLOAT, 4);

VALUE(PCV_ATTR_INT, 1);
VALUE(PCV_ATTR_FLOAT, 2);
VALUE(PCV_ATTR_STRING, 3);
VALUE(PCV_ATTR_INTS, 4);
VALUE(PCV_ATTR_FLOATS, 5);
VALUE(PCV_ATTR_BOOL, 6);

VALUE(PCV_ARG_OPTIONAL, 1);

VALUE(PCV_LOG_DEBUG, 0);
VALUE(PCV_LOG_INFO, 1);
VALUE(PCV_LOG_WARN, 2);
VALUE(PCV_LOG_ERROR, 3);

VALUE(PCV_CAP_CPU, 1);
VALUE(PCV_CAP_CUDA, 2);
VALUE(PCV_CAP_THREADSAFE_COMPUTE, 4);
VALUE(PCV_CAP_BACKWARD, 8);

int main(void) { return 0; }
