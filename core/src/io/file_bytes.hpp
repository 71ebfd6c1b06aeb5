// A whole file's bytes, for libpcv's readers and its modules.
#pragma once

#include <filesystem>
#include <string>

namespace pcv::detail {

// Throws pcv::Error naming the file when it cannot be opened or read.
std::string read_bytes(const std::filesystem::path& path);

}  // namespace pcv::detail
