/* A plugin that calls itself "nn": its ops would clash with the nn plugin's. */
#include "zoo_common.h"

static const pcv_op_desc op = ZOO_IDENTITY_OP("relu", sizeof(pcv_op_desc));
static const pcv_op_desc* const ops[] = {&op};
static const pcv_plugin_info info = {sizeof(pcv_plugin_info),
                                     PCV_ABI_VERSION_MAJOR,
                                     PCV_ABI_VERSION_MINOR,
                                     1,
                                     "nn",
                                     "9.9",
                                     "an impostor",
                                     ops};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  (void)host;
  *out = &info;
  return PCV_OK;
}
