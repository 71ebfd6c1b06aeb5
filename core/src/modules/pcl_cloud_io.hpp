// PCD and PLY through PCL, in a module of its own (pcv/modules/libpcv_pcl_io.so beside libpcv) that
// libpcv loads the first time such a file is read or written: PCL brings VTK and a hundred more
// libraries, tens of MB resident, which a program that never touches these formats (a ROS node fed
// by messages, a benchmark) should not pay for.
#pragma once

#include <pcv/point_cloud.hpp>

#include <filesystem>

#include "io/file_bytes.hpp"

namespace pcv::detail {


struct PclCloudIo {
  // Reads a .pcd (pcd) or .ply whose structure read_point_cloud() has already checked. Throws
  // pcv::Error naming the file.
  PointCloud (*read)(const std::filesystem::path& path, bool pcd);
  // Writes binary .pcd / .ply atomically (labels as a label field plus rgb). Throws pcv::Error.
  void (*write)(const std::filesystem::path& path, const PointCloud& cloud, bool pcd);
};

// The module's functions, loaded once; throws pcv::Error if the module cannot be loaded.
const PclCloudIo& pcl_cloud_io();

}  // namespace pcv::detail

// The module's entry point.
extern "C" const pcv::detail::PclCloudIo* pcv_pcl_cloud_io();
