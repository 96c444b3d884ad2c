// Error kinds of the tool, mapped to exit codes by main.cpp.
#pragma once

#include <stdexcept>

namespace sluice::bench {

// Bad command line or an impossible request (unknown transport, size too
// large, count 0, unwritable output): exit code 2, nothing was run.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;  // a run failed (peer died, transport broke)
inline constexpr int exit_usage = 2;

}  // namespace sluice::bench
