# Installation and the package config that lets third parties build plugins out of tree.
include(CMakePackageConfigHelpers)

set(_pcv_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/pcv)
install(TARGETS pcv_sdk pcv EXPORT pcvTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS pcv_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY core/include/pcv ${PROJECT_BINARY_DIR}/include/pcv
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} PATTERN "*.in" EXCLUDE)
install(EXPORT pcvTargets NAMESPACE pcv:: DESTINATION ${_pcv_cmake_dir})

configure_package_config_file(cmake/pcvConfig.cmake.in ${PROJECT_BINARY_DIR}/pcvConfig.cmake
  INSTALL_DESTINATION ${_pcv_cmake_dir})
# Same major version = same plugin ABI major.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/pcvConfigVersion.cmake
  COMPATIBILITY SameMajorVersion)
install(FILES
  ${PROJECT_BINARY_DIR}/pcvConfig.cmake
  ${PROJECT_BINARY_DIR}/pcvConfigVersion.cmake
  cmake/PcvPlugin.cmake
  cmake/pcv_plugin.map
  DESTINATION ${_pcv_cmake_dir})
