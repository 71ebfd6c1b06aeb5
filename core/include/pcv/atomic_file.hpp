// Writing a file so that readers see either the old complete file or the new complete file, never a
// partial one, and a crash or failure midway leaves the old file as it was.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string_view>

namespace pcv {

// Calls write(out) on a stream for a new temporary file next to `path` (".<name>.tmp-XXXXXX" in the same
// directory), flushes and fsyncs it, renames it over `path` and fsyncs the directory.
//
// The new file gets the permission bits of the file it replaces, or 0666 less the umask if there was
// none. A symbolic link at `path` is replaced by the file, not followed.
//
// If anything fails before the rename - write() throws, leaves `out` failed, the disk fills up, the
// directory does not exist or cannot be written - the temporary file is removed and `path` is left
// untouched. An exception from write() propagates unchanged; every other failure throws pcv::Error naming
// the file and the reason the OS gave. Only a failure to sync the directory after the rename throws with
// the new file already in place (it is then complete but may not survive a power loss).
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);

// Atomically replaces `path` with a file holding exactly `contents`.
void write_file_atomically(const std::filesystem::path& path, std::string_view contents);

}  // namespace pcv
