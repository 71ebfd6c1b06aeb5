/*
 * pcv/plugin.h - the stable C ABI between the pcv host and its operator plugins.
 *
 * ABI version 1.1. Pure C99; compiles unchanged as C++. Fields and enum values added after
 * 1.0 are marked "1.1"; check PCV_HAS_FIELD before reading one from the other side.
 *
 * Promise: within one major version this header only ever grows at the end of its
 * structs and enums. A plugin built against 1.x loads in every host 1.y; each side reads
 * a newer field of the other only after checking the struct's struct_size
 * (PCV_HAS_FIELD). A new major version is refused by both sides with a message that
 * names both versions.
 *
 * Rules every struct follows:
 *   - the first member is uint32_t struct_size, set by the writer to sizeof(struct)
 *     as the writer was compiled;
 *   - fixed-width types only (enums are int32_t fields, never enum types);
 *   - structs are reached through pointers and arrays of pointers, never embedded
 *     by value in another size-prefixed struct nor stored in arrays of structs.
 *
 * Ownership: whoever allocates frees. Tensor memory handed to the host comes from
 * host->alloc; kernel state is created and destroyed by the plugin; strings and
 * descriptors in pcv_plugin_info are static in the plugin and live until unload.
 * The host never unloads a plugin while one of its kernels is alive.
 *
 * Errors: every function returns a pcv_status. On failure the plugin passes a message
 * to host->set_error, which copies it; nothing the plugin owns outlives the call.
 * No C++ exception may cross this boundary: every function type is PCV_NOEXCEPT.
 */
#ifndef PCV_PLUGIN_H
#define PCV_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#define PCV_ABI_VERSION_MAJOR 1
#define PCV_ABI_VERSION_MINOR 1

#ifdef __cplusplus
#define PCV_NOEXCEPT noexcept
#define PCV_EXTERN_C extern "C"
#else
#define PCV_NOEXCEPT
#define PCV_EXTERN_C
#endif

#if defined(_WIN32)
#define PCV_EXPORT __declspec(dllexport)
#else
#define PCV_EXPORT __attribute__((visibility("default")))
#endif

/* True when the struct *p, as written by the other side, contains `field`. */
#define PCV_HAS_FIELD(p, type, field) \
  ((p)->struct_size >= offsetof(type, field) + sizeof(((const type*)0)->field))

/* Size of a struct up to and including `last_field`: the smallest struct_size a reader
 * accepts is the size at the version that introduced the struct. */
#define PCV_SIZE_THROUGH(type, last_field) (offsetof(type, last_field) + sizeof(((const type*)0)->last_field))

/* ---------------------------------------------------------------- status codes */

typedef int32_t pcv_status;

enum {
  PCV_OK = 0,
  PCV_ERR_INVALID_ARGUMENT = 1, /* a bad attribute, input or call */
  PCV_ERR_SHAPE = 2,            /* tensor shapes or dtypes do not fit the op */
  PCV_ERR_VERSION_MISMATCH = 3, /* incompatible ABI major version */
  PCV_ERR_OUT_OF_MEMORY = 4,
  PCV_ERR_NOT_SUPPORTED = 5, /* device, dtype or feature not implemented */
  PCV_ERR_INTERNAL = 6       /* a bug or an unexpected exception in the plugin */
};

/* ---------------------------------------------------------------- tensors */

/* Device and dtype codes are DLPack's, so tensors can be exchanged without copies. */
enum { PCV_DEVICE_CPU = 1, PCV_DEVICE_CUDA = 2, PCV_DEVICE_CUDA_HOST = 3, PCV_DEVICE_CUDA_MANAGED = 13 };

enum { PCV_DTYPE_INT = 0, PCV_DTYPE_UINT = 1, PCV_DTYPE_FLOAT = 2, PCV_DTYPE_BFLOAT = 4 };

/* Same layout as DLPack's DLDevice. */
typedef struct pcv_device {
  int32_t device_type; /* PCV_DEVICE_* */
  int32_t device_id;
} pcv_device;

/* Same layout as DLPack's DLDataType: float32 is {PCV_DTYPE_FLOAT, 32, 1}. */
typedef struct pcv_dtype {
  uint8_t code; /* PCV_DTYPE_* */
  uint8_t bits;
  uint16_t lanes;
} pcv_dtype;

/* Same layout as DLPack's DLTensor. A borrowed view: the struct, shape and strides
 * belong to whoever passed it and are valid for the duration of the call. */
typedef struct pcv_tensor {
  void* data; /* element 0 is at (char*)data + byte_offset */
  pcv_device device;
  int32_t ndim;
  pcv_dtype dtype;
  int64_t* shape;   /* ndim entries */
  int64_t* strides; /* in elements; NULL means compact row-major */
  uint64_t byte_offset;
} pcv_tensor;

/* The host gives output shape buffers of this capacity to infer_shapes and forward. */
#define PCV_MAX_NDIM 16

/* ---------------------------------------------------------------- attributes */

enum {
  PCV_ATTR_INT = 1,    /* value in i */
  PCV_ATTR_FLOAT = 2,  /* value in f */
  PCV_ATTR_STRING = 3, /* value in s: NUL-terminated UTF-8 */
  PCV_ATTR_INTS = 4,   /* count values in ints */
  PCV_ATTR_FLOATS = 5, /* count values in floats */
  PCV_ATTR_BOOL = 6    /* value in i: 0 or 1 */
};

/* One typed key/value pair. Only the field(s) named by `type` are meaningful. */
typedef struct pcv_attr {
  uint32_t struct_size;
  int32_t type; /* PCV_ATTR_* */
  const char* name;
  int64_t i;
  double f;
  const char* s;
  const int64_t* ints;
  const double* floats;
  uint64_t count;
} pcv_attr;

/* The attributes a kernel is created with. The host has checked names and types against
 * the op's schema; attributes left out take the schema's defaults (the SDK applies them). */
typedef struct pcv_attrs {
  uint32_t struct_size;
  uint32_t count;
  const pcv_attr* const* items;
} pcv_attrs;

/* ---------------------------------------------------------------- op schema */

enum {
  PCV_ARG_OPTIONAL = 1u << 0, /* the caller may leave the input out (NULL) */
  /* 1.1: a state input: a buffer the op updates in place during a training-mode forward
   * (running statistics, say). The host keeps it with the model's weights and never asks
   * for its gradient. */
  PCV_ARG_STATE = 1u << 1,
  /* 1.1: on the last input only: it may be given one or more times (concatenation, say);
   * num_inputs then counts every copy. */
  PCV_ARG_VARIADIC = 1u << 2,
  /* 1.1: the op does not differentiate this input (class weights, say); the host never asks
   * backward for its gradient. On an output: backward ignores that output's gradient (a
   * by-product such as a loss's probabilities). */
  PCV_ARG_NO_GRAD = 1u << 3
};

/* One input or output of an op. */
typedef struct pcv_arg_spec {
  uint32_t struct_size;
  uint32_t flags; /* PCV_ARG_* */
  const char* name;
  const char* doc;
  const char* dtypes; /* accepted dtypes for people, e.g. "float32|float64" */
} pcv_arg_spec;

/* One attribute of an op. */
typedef struct pcv_attr_spec {
  uint32_t struct_size;
  int32_t type; /* PCV_ATTR_* */
  const char* name;
  const char* doc;
  const pcv_attr* default_value; /* NULL: the attribute is required */
} pcv_attr_spec;

/* ---------------------------------------------------------------- host services */

enum { PCV_LOG_DEBUG = 0, PCV_LOG_INFO = 1, PCV_LOG_WARN = 2, PCV_LOG_ERROR = 3 };

/* Given to pcv_plugin_entry and to every create. Every callback is thread-safe.
 * Messages passed in are copied before the callback returns. */
typedef struct pcv_host_api {
  uint32_t struct_size;
  uint32_t abi_major; /* PCV_ABI_VERSION_MAJOR of the host */
  uint32_t abi_minor;
  uint32_t reserved0;
  void* host_ctx; /* first argument of every callback */
  const char* host_version;

  /* Records the message of the error the calling thread is about to return; returns
   * `code`, so a plugin can write `return host->set_error(ctx, PCV_ERR_SHAPE, "...")`. */
  pcv_status (*set_error)(void* host_ctx, pcv_status code, const char* message) PCV_NOEXCEPT;

  /* Tensor memory. alignment is a power of two (0 means the default, 64). On CUDA devices
   * the memory is device memory. Memory from alloc is released only with free. */
  pcv_status (*alloc)(void* host_ctx, pcv_device device, uint64_t bytes, uint64_t alignment,
                      void** out) PCV_NOEXCEPT;
  void (*free)(void* host_ctx, pcv_device device, void* ptr) PCV_NOEXCEPT;

  void (*log)(void* host_ctx, int32_t level, const char* message) PCV_NOEXCEPT;
} pcv_host_api;

/* ---------------------------------------------------------------- kernels */

/* Flags of a forward or backward call (1.1). */
enum {
  PCV_RUN_TRAINING = 1u << 0 /* training mode: batch statistics, dropout, state updates */
};

/* Arguments of forward. Inputs are read-only. For each output the host gives a pcv_tensor
 * with a shape buffer of PCV_MAX_NDIM entries. If infer_shapes gave the output a fully
 * known shape, data is already allocated with that shape; if it left a dimension at -1
 * (known only after computing), data is NULL and forward sets ndim and shape and
 * allocates data with host->alloc; the host then owns it. */
typedef struct pcv_forward_args {
  uint32_t struct_size;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t reserved0;
  const pcv_tensor* const* inputs; /* an optional input left out is NULL */
  pcv_tensor* const* outputs;
  void* stream; /* cudaStream_t for CUDA work, NULL on the CPU; never synchronised */
  /* 1.1 */
  uint32_t run_flags;  /* PCV_RUN_* */
  int32_t num_threads; /* CPU threads the call may use (>= 1); 0 means the plugin's choice */
  uint64_t seed;       /* seed for random ops (dropout), fixed per call by the host */
} pcv_forward_args;

/* Arguments of backward: the forward call's tensors plus the gradients. grad_inputs[i]
 * is preallocated with inputs[i]'s shape and dtype and is to be overwritten (not added
 * to); it is NULL where that gradient is not wanted. */
typedef struct pcv_backward_args {
  uint32_t struct_size;
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t reserved0;
  const pcv_tensor* const* inputs;
  const pcv_tensor* const* outputs;
  const pcv_tensor* const* grad_outputs; /* same shapes as outputs */
  pcv_tensor* const* grad_inputs;
  void* stream;
  /* 1.1: as in pcv_forward_args, with the forward call's run_flags and seed */
  uint32_t run_flags;
  int32_t num_threads;
  uint64_t seed;
} pcv_backward_args;

/* Creates a kernel from attributes. Any thread; never concurrently with destroy of the
 * same kernel. `host` stays valid for the kernel's lifetime. */
typedef pcv_status (*pcv_create_fn)(const pcv_host_api* host, const pcv_attrs* attrs,
                                    void** kernel) PCV_NOEXCEPT;

/* Destroys a kernel. Any thread; once per kernel, after its last other call. */
typedef pcv_status (*pcv_destroy_fn)(void* kernel) PCV_NOEXCEPT;

/* Output dtypes and shapes from input dtypes and shapes: inputs carry ndim, dtype, shape and
 * device (data may be NULL); the plugin sets ndim, dtype, device and shape of each output.
 * A dimension it can only know after computing is -1. Same thread rules as forward. */
typedef pcv_status (*pcv_infer_shapes_fn)(void* kernel, uint32_t num_inputs, const pcv_tensor* const* inputs,
                                          uint32_t num_outputs, pcv_tensor* const* outputs) PCV_NOEXCEPT;

/* Computes the outputs. May run concurrently on different kernels; concurrently on the
 * same kernel only if the op has PCV_CAP_THREADSAFE_COMPUTE. */
typedef pcv_status (*pcv_forward_fn)(void* kernel, const pcv_forward_args* args) PCV_NOEXCEPT;

/* Gradients of the inputs from the gradients of the outputs. Same thread rules as forward. */
typedef pcv_status (*pcv_backward_fn)(void* kernel, const pcv_backward_args* args) PCV_NOEXCEPT;

/* ---------------------------------------------------------------- op and plugin descriptors */

enum {
  PCV_CAP_CPU = 1u << 0,                /* forward (and backward) accept CPU tensors */
  PCV_CAP_CUDA = 1u << 1,               /* ... and CUDA tensors, on args->stream */
  PCV_CAP_THREADSAFE_COMPUTE = 1u << 2, /* one kernel may run forward/backward concurrently */
  PCV_CAP_BACKWARD = 1u << 3            /* backward is not NULL */
};

typedef struct pcv_op_desc {
  uint32_t struct_size;
  uint32_t caps;    /* PCV_CAP_* */
  const char* name; /* unique within the plugin; the host calls it "<plugin>.<name>" */
  const char* doc;
  uint32_t op_version; /* bumped when the op's semantics change */
  uint32_t num_inputs;
  uint32_t num_outputs;
  uint32_t num_attrs;
  const pcv_arg_spec* const* inputs;
  const pcv_arg_spec* const* outputs;
  const pcv_attr_spec* const* attrs;
  pcv_infer_shapes_fn infer_shapes;
  pcv_create_fn create;
  pcv_destroy_fn destroy;
  pcv_forward_fn forward;
  pcv_backward_fn backward; /* NULL when the op has no backward */
} pcv_op_desc;

typedef struct pcv_plugin_info {
  uint32_t struct_size;
  uint32_t abi_major; /* PCV_ABI_VERSION_MAJOR the plugin was built with */
  uint32_t abi_minor;
  uint32_t num_ops;
  const char* name;    /* namespace of the plugin's ops: [a-z0-9_]+ */
  const char* version; /* the plugin's own version, for people */
  const char* description;
  const pcv_op_desc* const* ops;
} pcv_plugin_info;

/* ---------------------------------------------------------------- the entry point */

/* The one symbol a plugin exports; its name and signature are frozen forever.
 * Called once per load, under the host's loader lock. The plugin sets *info to static data
 * valid until unload. If host->abi_major differs from the major it was built with, it still
 * sets *info but returns PCV_ERR_VERSION_MISMATCH without calling back into the host: across
 * majors only the first three fields of pcv_host_api and pcv_plugin_info (struct_size,
 * abi_major, abi_minor) are guaranteed, and the host names both versions in its message. */
typedef pcv_status (*pcv_plugin_entry_fn)(const pcv_host_api* host,
                                          const pcv_plugin_info** info) PCV_NOEXCEPT;

#define PCV_PLUGIN_ENTRY_SYMBOL "pcv_plugin_entry"

PCV_EXTERN_C PCV_EXPORT pcv_status pcv_plugin_entry(const pcv_host_api* host,
                                                    const pcv_plugin_info** info) PCV_NOEXCEPT;

#endif /* PCV_PLUGIN_H */
