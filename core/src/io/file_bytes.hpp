// File helpers for libpcv's readers and writers and its modules.
#pragma once

#include <filesystem>
#include <string>

namespace pcv::detail {

// Throws pcv::Error naming the file when it cannot be opened or read.
std::string read_bytes(const std::filesystem::path& path);

// The extension with its dot, lower case: ".pcd", ".png".
std::string lower_extension(const std::filesystem::path& path);

}  // namespace pcv::detail
