// Where and when a result was measured: goes into every report, so a
// figure is never separated from its machine and commit.
#pragma once

#include <string>

#include "tools/bench/clock.hpp"
#include "tools/bench/cpu_pinning.hpp"

namespace sluice::bench {

struct Environment {
  std::string cpu_model;       // /proc/cpuinfo "model name"
  int logical_cpus = 0;        // online
  std::string kernel;          // uname -r
  std::string hostname;
  std::string git_commit;      // of the source tree sluice-bench was built from
  std::string tool_version;
  std::string timestamp_utc;   // ISO 8601, when the report was written
  std::string clock_source;    // "tsc" or "clock_monotonic"
  double clock_read_overhead_ns = 0.0;
  double tsc_hz = 0.0;
  CpuPlan cpus;
};

Environment describe_environment(const TickClock& clock, const CpuPlan& cpus);

// Compiled from build_info.cpp.in (meson vcs_tag).
extern const char* const build_git_commit;
extern const char* const build_version;

}  // namespace sluice::bench
