/* Two ops with the same name in one plugin: the host must refuse the plugin. */
#include "zoo_common.h"

static const pcv_op_desc first = ZOO_IDENTITY_OP("twice", sizeof(pcv_op_desc));
static const pcv_op_desc second = ZOO_IDENTITY_OP("twice", sizeof(pcv_op_desc));
static const pcv_op_desc* const ops[] = {&first, &second};
static const pcv_plugin_info info = {sizeof(pcv_plugin_info), PCV_ABI_VERSION_MAJOR,
                                     PCV_ABI_VERSION_MINOR,   2,
                                     "zoo_duplicate_op",      "1.0",
                                     "op 'twice' twice",      ops};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  (void)host;
  *out = &info;
  return PCV_OK;
}
