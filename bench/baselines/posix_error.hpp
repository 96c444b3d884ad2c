// Set-up failures of the baselines: one line naming the call, the object
// and errno, thrown as std::runtime_error (the tool prints it as is).
#pragma once

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>

namespace sluice::bench::baselines {

[[noreturn]] inline void throw_errno(std::string_view what, std::string_view object, int err = errno) {
  throw std::runtime_error(std::string(what) + " " + std::string(object) + ": " + std::strerror(err));
}

}  // namespace sluice::bench::baselines
