# pcv_add_plugin(<name> SOURCES <src>... [LINK_LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>]
#                [NO_INSTALL])
#
# Builds an operator plugin <name>.so that exports exactly one symbol, pcv_plugin_entry:
# hidden visibility, a version script, --exclude-libs,ALL (so bundled static libraries cannot
# clash with other plugins) and --no-undefined (a missing symbol fails the link, not the load).
# .c sources are compiled as C99, .cpp as C++20. The plugin is installed to
# <libdir>/pcv/plugins, where the pcv host looks for plugins.
# Used by pcv's own plugins and, through find_package(pcv), by third-party plugins alike.
set(_PCV_PLUGIN_MAP "${CMAKE_CURRENT_LIST_DIR}/pcv_plugin.map")

function(pcv_add_plugin name)
  cmake_parse_arguments(PARSE_ARGV 1 ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LINK_LIBRARIES")
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "pcv_add_plugin(${name}): no SOURCES given")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE pcv::sdk ${ARG_LINK_LIBRARIES})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_STANDARD 99
    C_STANDARD_REQUIRED ON
    CXX_STANDARD 20
    CXX_STANDARD_REQUIRED ON
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LINK_DEPENDS "${_PCV_PLUGIN_MAP}")
  target_link_options(${name} PRIVATE
    "LINKER:--no-undefined" "LINKER:--exclude-libs,ALL" "LINKER:--version-script=${_PCV_PLUGIN_MAP}")
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  elseif(DEFINED PCV_PLUGIN_OUTPUT_DIR)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${PCV_PLUGIN_OUTPUT_DIR}")
  endif()
  if(NOT ARG_NO_INSTALL)
    include(GNUInstallDirs)
    install(TARGETS ${name} LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}/pcv/plugins)
  endif()
endfunction()
