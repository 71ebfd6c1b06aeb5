# Optional parts, detected and never required: CUDA (nvcc) and ROS 1 (roscpp via pkg-config).
# Sets PCV_HAVE_CUDA and PCV_HAVE_ROS for the parts that use them.
set(PCV_HAVE_CUDA OFF)
if(PCV_WITH_CUDA)
  # nvcc is often installed off PATH, in /usr/local/cuda/bin.
  if(NOT CMAKE_CUDA_COMPILER AND NOT DEFINED ENV{CUDACXX} AND EXISTS /usr/local/cuda/bin/nvcc)
    set(CMAKE_CUDA_COMPILER /usr/local/cuda/bin/nvcc CACHE FILEPATH "CUDA compiler")
  endif()
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(PCV_HAVE_CUDA ON)
  endif()
endif()

set(PCV_HAVE_ROS OFF)
if(PCV_WITH_ROS)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(PCV_ROS QUIET IMPORTED_TARGET roscpp sensor_msgs std_msgs)
    if(PCV_ROS_FOUND)
      set(PCV_HAVE_ROS ON)
    endif()
  endif()
endif()

message(STATUS "pcv: CUDA ${PCV_HAVE_CUDA} (option PCV_WITH_CUDA=${PCV_WITH_CUDA}, compiler: ${CMAKE_CUDA_COMPILER})")
message(STATUS "pcv: ROS ${PCV_HAVE_ROS} (option PCV_WITH_ROS=${PCV_WITH_ROS}; scripts/setup-deps --ros installs it)")
