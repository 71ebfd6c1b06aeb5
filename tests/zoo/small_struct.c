/* An op descriptor whose struct_size is below ABI 1.0's: the host must not read past it. */
#include "zoo_common.h"

static const pcv_op_desc op = ZOO_IDENTITY_OP("identity", 8);
static const pcv_op_desc* const ops[] = {&op};
static const pcv_plugin_info info = {sizeof(pcv_plugin_info), PCV_ABI_VERSION_MAJOR,
                                     PCV_ABI_VERSION_MINOR,   1,
                                     "zoo_small_struct",      "1.0",
                                     "op struct_size 8",      ops};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  (void)host;
  *out = &info;
  return PCV_OK;
}
