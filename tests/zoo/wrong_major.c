/* A plugin built for a future ABI major: the host must refuse it and name both versions. */
#include "zoo_common.h"

static const pcv_op_desc op = ZOO_IDENTITY_OP("identity", sizeof(pcv_op_desc));
static const pcv_op_desc* const ops[] = {&op};
static const pcv_plugin_info info = {sizeof(pcv_plugin_info),
                                     PCV_ABI_VERSION_MAJOR + 1,
                                     4,
                                     1,
                                     "zoo_wrong_major",
                                     "1.0",
                                     "built for ABI 2.4",
                                     ops};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  *out = &info;
  return host->abi_major == info.abi_major ? PCV_OK : PCV_ERR_VERSION_MISMATCH;
}
