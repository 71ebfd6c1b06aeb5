/* Shared parts of the bad-plugin zoo: a valid do-nothing op that each zoo plugin breaks
 * in its own way. Plain C99, like a third-party C plugin. */
#ifndef PCV_ZOO_COMMON_H
#define PCV_ZOO_COMMON_H

#include <pcv/plugin.h>

#include <stddef.h>
#include <string.h>

static int zoo_kernel; /* every kernel is this one object: the ops keep no state */

static pcv_status zoo_create(const pcv_host_api* host, const pcv_attrs* attrs, void** kernel) {
  (void)host;
  (void)attrs;
  *kernel = &zoo_kernel;
  return PCV_OK;
}
static pcv_status zoo_destroy(void* kernel) {
  (void)kernel;
  return PCV_OK;
}
/* Output 0 takes the dtype and shape of input 0. */
static pcv_status zoo_infer(void* kernel, uint32_t ni, const pcv_tensor* const* in, uint32_t no,
                            pcv_tensor* const* out) {
  (void)kernel;
  (void)ni;
  (void)no;
  out[0]->dtype = in[0]->dtype;
  out[0]->device = in[0]->device;
  out[0]->ndim = in[0]->ndim;
  memcpy(out[0]->shape, in[0]->shape, sizeof(int64_t) * (size_t)in[0]->ndim);
  return PCV_OK;
}
/* Copies input 0 to output 0. */
static pcv_status zoo_forward(void* kernel, const pcv_forward_args* args) {
  const pcv_tensor* x = args->inputs[0];
  size_t bytes = (size_t)(x->dtype.bits / 8) * x->dtype.lanes;
  int32_t i;
  (void)kernel;
  for (i = 0; i < x->ndim; ++i) bytes *= (size_t)x->shape[i];
  memcpy(args->outputs[0]->data, x->data, bytes);
  return PCV_OK;
}

static const pcv_arg_spec zoo_x = {sizeof(pcv_arg_spec), 0, "x", "any tensor", "any"};
static const pcv_arg_spec zoo_y = {sizeof(pcv_arg_spec), 0, "y", "a copy of x", "any"};
static const pcv_arg_spec* const zoo_inputs[] = {&zoo_x};
static const pcv_arg_spec* const zoo_outputs[] = {&zoo_y};

/* A valid identity op descriptor named NAME, with the given struct_size. */
#define ZOO_IDENTITY_OP(NAME, SIZE)                                                                \
  {                                                                                                \
    (SIZE), PCV_CAP_CPU, (NAME), "copies x", 1, 1, 1, 0, zoo_inputs, zoo_outputs, NULL, zoo_infer, \
        zoo_create, zoo_destroy, zoo_forward, NULL                                                 \
  }

#endif
