/* probe.c - the ABI probe: a tiny shared library whose exported functions reach every public
 * struct and function-pointer type of pcv/plugin.h. abidw and abi-dumper only describe types that
 * are reachable from exported symbols, so check_abi.sh builds this file against the old and the new
 * header (-I<dir>, default visibility, -g) and diffs the two libraries.
 *
 * Pure C99 that compiles against every 1.x header: besides type names it touches only the first
 * fields of pcv_host_api and pcv_plugin_info, which are frozen across all versions. */
#include <pcv/plugin.h>

/* One exported function per struct: returns sizeof so the argument type is really used. */
#define PCV_PROBE_STRUCT(type) \
  PCV_EXPORT uint64_t pcv_probe_##type(const type* p) { return p ? (uint64_t)sizeof(*p) : 0u; }

PCV_PROBE_STRUCT(pcv_device)
PCV_PROBE_STRUCT(pcv_dtype)
PCV_PROBE_STRUCT(pcv_tensor)
PCV_PROBE_STRUCT(pcv_attr)
PCV_PROBE_STRUCT(pcv_attrs)
PCV_PROBE_STRUCT(pcv_arg_spec)
PCV_PROBE_STRUCT(pcv_attr_spec)
PCV_PROBE_STRUCT(pcv_host_api)
PCV_PROBE_STRUCT(pcv_forward_args)
PCV_PROBE_STRUCT(pcv_backward_args)
PCV_PROBE_STRUCT(pcv_op_desc)
PCV_PROBE_STRUCT(pcv_plugin_info)

/* The function-pointer types, all in one signature: a changed parameter list shows up here. */
PCV_EXPORT pcv_status pcv_probe_fn_types(pcv_create_fn create, pcv_destroy_fn destroy,
                                         pcv_infer_shapes_fn infer_shapes, pcv_forward_fn forward,
                                         pcv_backward_fn backward, pcv_plugin_entry_fn entry) {
  int all = create && destroy && infer_shapes && forward && backward && entry;
  return all ? PCV_OK : PCV_ERR_INVALID_ARGUMENT;
}

/* The one symbol real plugins export, with its frozen signature (declared in plugin.h, which
 * abi-dumper's -public-headers filter keeps). It reaches pcv_host_api and pcv_plugin_info, and
 * through them every other struct. */
pcv_status pcv_plugin_entry(const pcv_host_api* host, const pcv_plugin_info** info) {
  static const pcv_plugin_info probe_info = {.struct_size = sizeof(pcv_plugin_info),
                                             .abi_major = PCV_ABI_VERSION_MAJOR,
                                             .abi_minor = PCV_ABI_VERSION_MINOR};
  if (!info) return PCV_ERR_INVALID_ARGUMENT;
  *info = &probe_info;
  return (host && host->abi_major == PCV_ABI_VERSION_MAJOR) ? PCV_OK : PCV_ERR_VERSION_MISMATCH;
}
