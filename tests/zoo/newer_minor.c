/* A plugin built against a newer minor version (1.3): its structs carry fields appended after
 * 1.0's. The host must accept it, read only what it knows, and run its op. */
#include "zoo_common.h"

typedef struct op_desc_v1_3 {
  pcv_op_desc v1_0;
  void* (*future_hook)(void);
  uint64_t future_flags;
} op_desc_v1_3;

typedef struct plugin_info_v1_3 {
  pcv_plugin_info v1_0;
  const char* future_homepage;
} plugin_info_v1_3;

static const op_desc_v1_3 op = {ZOO_IDENTITY_OP("identity", sizeof(op_desc_v1_3)), NULL, 0xffu};
static const pcv_op_desc* const ops[] = {&op.v1_0};
static const plugin_info_v1_3 info = {
    {sizeof(plugin_info_v1_3), PCV_ABI_VERSION_MAJOR, PCV_ABI_VERSION_MINOR + 3, 1, "zoo_newer_minor", "1.3",
     "built for ABI 1.3", ops},
    "https://example.invalid"};

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  (void)host;
  *out = &info.v1_0;
  return PCV_OK;
}
