/* example_c: a pcv plugin in plain C99, using nothing but pcv/plugin.h.
 * One op, example_c.scale: y = alpha * x, with its backward dx = alpha * dy. */
#include <pcv/plugin.h>

#include <stdlib.h>
#include <string.h>

typedef struct scale_kernel {
  const pcv_host_api* host;
  double alpha;
} scale_kernel;

static int is_float(pcv_dtype t, int bits) {
  return t.code == PCV_DTYPE_FLOAT && t.bits == bits && t.lanes == 1;
}

static int64_t count(const pcv_tensor* t) {
  int64_t n = 1;
  for (int32_t i = 0; i < t->ndim; ++i) n *= t->shape[i];
  return n;
}

static pcv_status check_input(const scale_kernel* k, const pcv_tensor* x) {
  if (x->device.device_type != PCV_DEVICE_CPU)
    return k->host->set_error(k->host->host_ctx, PCV_ERR_NOT_SUPPORTED,
                              "example_c.scale runs on the CPU only");
  if (!is_float(x->dtype, 32) && !is_float(x->dtype, 64))
    return k->host->set_error(k->host->host_ctx, PCV_ERR_NOT_SUPPORTED,
                              "example_c.scale: input 'x' must be float32 or float64");
  if (x->strides != NULL)
    return k->host->set_error(k->host->host_ctx, PCV_ERR_NOT_SUPPORTED,
                              "example_c.scale: input 'x' must be contiguous");
  return PCV_OK;
}

/* out = alpha * in, elementwise, for either float width. */
static void scale_values(const pcv_tensor* in, pcv_tensor* out, double alpha) {
  const int64_t n = count(in);
  const char* src = (const char*)in->data + in->byte_offset;
  char* dst = (char*)out->data + out->byte_offset;
  int64_t i;
  if (in->dtype.bits == 32) {
    for (i = 0; i < n; ++i) ((float*)dst)[i] = (float)(alpha * ((const float*)src)[i]);
  } else {
    for (i = 0; i < n; ++i) ((double*)dst)[i] = alpha * ((const double*)src)[i];
  }
}

static pcv_status scale_create(const pcv_host_api* host, const pcv_attrs* attrs, void** kernel) {
  scale_kernel* k = (scale_kernel*)malloc(sizeof *k);
  uint32_t i;
  if (k == NULL) return host->set_error(host->host_ctx, PCV_ERR_OUT_OF_MEMORY, "example_c: out of memory");
  k->host = host;
  k->alpha = 1.0; /* the declared default */
  for (i = 0; attrs != NULL && i < attrs->count; ++i)
    if (strcmp(attrs->items[i]->name, "alpha") == 0) k->alpha = attrs->items[i]->f;
  *kernel = k;
  return PCV_OK;
}

static pcv_status scale_destroy(void* kernel) {
  free(kernel);
  return PCV_OK;
}

static pcv_status scale_infer_shapes(void* kernel, uint32_t num_inputs, const pcv_tensor* const* inputs,
                                     uint32_t num_outputs, pcv_tensor* const* outputs) {
  const scale_kernel* k = (const scale_kernel*)kernel;
  pcv_status status;
  if (num_inputs < 1 || num_outputs < 1 || inputs[0] == NULL)
    return k->host->set_error(k->host->host_ctx, PCV_ERR_INVALID_ARGUMENT, "example_c.scale needs input 'x'");
  if ((status = check_input(k, inputs[0])) != PCV_OK) return status;
  outputs[0]->dtype = inputs[0]->dtype;
  outputs[0]->device = inputs[0]->device;
  outputs[0]->ndim = inputs[0]->ndim;
  memcpy(outputs[0]->shape, inputs[0]->shape, sizeof(int64_t) * (size_t)inputs[0]->ndim);
  return PCV_OK;
}

static pcv_status scale_forward(void* kernel, const pcv_forward_args* args) {
  const scale_kernel* k = (const scale_kernel*)kernel;
  pcv_status status = check_input(k, args->inputs[0]);
  if (status != PCV_OK) return status;
  scale_values(args->inputs[0], args->outputs[0], k->alpha);
  return PCV_OK;
}

static pcv_status scale_backward(void* kernel, const pcv_backward_args* args) {
  const scale_kernel* k = (const scale_kernel*)kernel;
  if (args->grad_inputs[0] != NULL) scale_values(args->grad_outputs[0], args->grad_inputs[0], k->alpha);
  return PCV_OK;
}

/* ---- descriptors: static data, valid as long as the plugin is loaded */

static const pcv_arg_spec input_x = {sizeof(pcv_arg_spec), 0, "x", "any shape", "float32|float64"};
static const pcv_arg_spec output_y = {sizeof(pcv_arg_spec), 0, "y", "alpha * x", "float32|float64"};
static const pcv_arg_spec* const inputs[] = {&input_x};
static const pcv_arg_spec* const outputs[] = {&output_y};

static const pcv_attr alpha_default = {
    sizeof(pcv_attr), PCV_ATTR_FLOAT, "alpha", 0, 1.0, NULL, NULL, NULL, 0};
static const pcv_attr_spec alpha_spec = {sizeof(pcv_attr_spec), PCV_ATTR_FLOAT, "alpha", "the factor",
                                         &alpha_default};
static const pcv_attr_spec* const attrs[] = {&alpha_spec};

static const pcv_op_desc scale_op = {sizeof(pcv_op_desc),
                                     PCV_CAP_CPU | PCV_CAP_THREADSAFE_COMPUTE | PCV_CAP_BACKWARD,
                                     "scale",
                                     "Multiplies every element by the attribute alpha.",
                                     1, /* op_version */
                                     1, /* num_inputs */
                                     1, /* num_outputs */
                                     1, /* num_attrs */
                                     inputs,
                                     outputs,
                                     attrs,
                                     scale_infer_shapes,
                                     scale_create,
                                     scale_destroy,
                                     scale_forward,
                                     scale_backward};

static const pcv_op_desc* const ops[] = {&scale_op};

static const pcv_plugin_info info = {sizeof(pcv_plugin_info),
                                     PCV_ABI_VERSION_MAJOR,
                                     PCV_ABI_VERSION_MINOR,
                                     1,
                                     "example_c",
                                     "1.0.0",
                                     "Example plugin written in plain C",
                                     ops};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  if (host == NULL || out == NULL) return PCV_ERR_INVALID_ARGUMENT;
  *out = &info;
  return host->abi_major == PCV_ABI_VERSION_MAJOR ? PCV_OK : PCV_ERR_VERSION_MISMATCH;
}
