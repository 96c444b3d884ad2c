#include "tools/bench/machine_info.hpp"

#include <sys/utsname.h>
#include <unistd.h>

#include <ctime>
#include <fstream>

namespace sluice::bench {

// meson passes the project version; a build outside meson says so.
#ifndef SLUICE_BENCH_VERSION
#define SLUICE_BENCH_VERSION "unknown"
#endif
const char* const build_version = SLUICE_BENCH_VERSION;

namespace {

std::string cpu_model() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
  }
  return "unknown";
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

Environment describe_environment(const TickClock& clock, const CpuPlan& cpus) {
  Environment env;
  env.cpu_model = cpu_model();
  env.logical_cpus = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  utsname uts{};
  if (uname(&uts) == 0) {
    env.kernel = uts.release;
    env.hostname = uts.nodename;
  }
  env.git_commit = build_git_commit;
  env.tool_version = build_version;
  env.timestamp_utc = utc_now();
  env.clock_source = clock.source_name();
  env.clock_read_overhead_ns = clock.read_overhead_ns();
  env.tsc_hz = clock.uses_tsc() ? clock.ticks_per_second() : 0.0;
  env.cpus = cpus;
  return env;
}

}  // namespace sluice::bench
