// The message of the pcv::Error a call throws, for asserting on error texts.
#pragma once

#include <pcv/error.hpp>

#include <string>

namespace pcv::test {

// What f() throws as pcv::Error, or "(no error)".
template <class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace pcv::test
