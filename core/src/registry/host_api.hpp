// The services the host offers plugins (pcv_host_api), and turning plugin statuses into errors.
#pragma once

#include <pcv/plugin.h>

#include <string>

namespace pcv::detail {

const pcv_host_api* host_api();

// Forgets any message a plugin left on this thread; call before each plugin call.
void clear_plugin_error();

// Throws pcv::Error("<what> failed (<status name>): <plugin's message>") unless status is OK.
void check_plugin_status(pcv_status status, const std::string& what);

}  // namespace pcv::detail
