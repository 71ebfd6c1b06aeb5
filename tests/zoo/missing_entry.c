/* A shared library without pcv_plugin_entry (a typo'd name): not a pcv plugin. */
#include <pcv/plugin.h>

PCV_EXPORT int pcv_plugin_entry_v2(void) { return 0; }
