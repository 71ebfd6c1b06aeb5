// The exception type of the pcv host library.
#pragma once

#include <pcv/plugin.h>

#include <stdexcept>
#include <string>

namespace pcv {

// Every failure of the host library: the message says what failed and why, naming the file,
// plugin or op involved. code() is the plugin status when the failure came from a plugin.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message, pcv_status code = PCV_ERR_INVALID_ARGUMENT)
      : std::runtime_error(message), code_(code) {}
  pcv_status code() const noexcept { return code_; }

 private:
  pcv_status code_;
};

}  // namespace pcv
