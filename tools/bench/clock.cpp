#include "tools/bench/clock.hpp"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

namespace sluice::bench {
namespace {

bool cpu_has_invariant_tsc() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) != 0) continue;
    std::istringstream words(line);
    bool constant = false, nonstop = false;
    for (std::string w; words >> w;) {
      constant = constant || w == "constant_tsc";
      nonstop = nonstop || w == "nonstop_tsc";
    }
    return constant && nonstop;
  }
  return false;
}

double measure_read_overhead_ns(const TickClock& clock) {
  // Median of many back-to-back pairs: robust against a preemption.
  std::array<std::uint64_t, 1001> deltas{};
  for (auto& d : deltas) {
    const std::uint64_t a = clock.ticks();
    const std::uint64_t b = clock.ticks();
    d = b - a;
  }
  std::nth_element(deltas.begin(), deltas.begin() + deltas.size() / 2, deltas.end());
  return static_cast<double>(clock.to_ns(deltas[deltas.size() / 2] * 1024)) / 1024.0;
}

}  // namespace

TickClock TickClock::calibrate() {
  TickClock clock;
  if (cpu_has_invariant_tsc()) {
    // Three 7 ms windows; keep the median rate (a preempted window is off).
    std::array<double, 3> rates{};
    for (auto& rate : rates) {
      const std::uint64_t ns0 = monotonic_ns();
      const std::uint64_t t0 = __rdtsc();
      std::uint64_t ns1 = ns0;
      while (ns1 - ns0 < 7'000'000) ns1 = monotonic_ns();
      const std::uint64_t t1 = __rdtsc();
      rate = static_cast<double>(t1 - t0) / static_cast<double>(ns1 - ns0);  // ticks per ns
    }
    std::sort(rates.begin(), rates.end());
    if (rates[1] > 0.01) {
      clock.use_tsc_ = true;
      clock.ns_per_tick_q32_ = static_cast<std::uint64_t>(4294967296.0 / rates[1]);
    }
  }
  clock.read_overhead_ns_ = measure_read_overhead_ns(clock);
  return clock;
}

double TickClock::ticks_per_second() const noexcept {
  return 1e9 * 4294967296.0 / static_cast<double>(ns_per_tick_q32_);
}

}  // namespace sluice::bench
