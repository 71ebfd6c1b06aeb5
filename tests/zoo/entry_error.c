/* A plugin whose entry point reports an error: the host must pass its message on. */
#include <pcv/plugin.h>

pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** out) {
  (void)out;
  return host->set_error(host->host_ctx, PCV_ERR_NOT_SUPPORTED,
                         "this plugin needs a CUDA device and none was found");
}
