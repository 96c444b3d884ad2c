// Clocks for the measuring loops.
//
// Why the TSC: the measured quantity (a cache-line round trip) is ~100 ns
// here, and every sample includes about one clock read. clock_gettime
// (vDSO) costs ~23 ns on this VM, a bare RDTSC ~10 ns, so the TSC keeps the
// floor row honest. RDTSC is not serialising; after a spin-wait exit the
// branch mispredict orders it well enough (a few cycles), and we document
// the per-read cost in the results (`clock.read_overhead_ns`).
//
// The TSC is used only when the CPU says it is invariant (constant_tsc and
// nonstop_tsc in /proc/cpuinfo); it is calibrated against CLOCK_MONOTONIC
// once per process. Otherwise CLOCK_MONOTONIC is read directly. Either way
// ticks() is cheap and to_ns() converts a tick difference with integer math.
#pragma once

#include <cstdint>
#include <ctime>
#include <string>

#include <x86intrin.h>

namespace sluice::bench {

// CLOCK_MONOTONIC in nanoseconds (vDSO, no syscall on this kernel).
inline std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

class TickClock {
 public:
  // Calibrates (~20 ms) when the TSC is usable; otherwise falls back.
  static TickClock calibrate();

  std::uint64_t ticks() const noexcept { return use_tsc_ ? __rdtsc() : monotonic_ns(); }
  // Tick difference to nanoseconds: (d * mult) >> 32, no division.
  std::uint64_t to_ns(std::uint64_t tick_delta) const noexcept {
    return static_cast<std::uint64_t>(
        (static_cast<unsigned __int128>(tick_delta) * ns_per_tick_q32_) >> 32);
  }

  bool uses_tsc() const noexcept { return use_tsc_; }
  double ticks_per_second() const noexcept;
  std::string source_name() const { return use_tsc_ ? "tsc" : "clock_monotonic"; }
  // Median cost of one ticks() call, measured at calibration.
  double read_overhead_ns() const noexcept { return read_overhead_ns_; }

 private:
  bool use_tsc_ = false;
  std::uint64_t ns_per_tick_q32_ = std::uint64_t{1} << 32;  // 32.32 fixed point
  double read_overhead_ns_ = 0.0;
};

// When send i of a fixed-rate run is due: `start` plus i intervals, in the
// units of the clock `start` was read from. The interval is kept in 32.32
// fixed point so that a non-integer interval does not drift.
class RateSchedule {
 public:
  RateSchedule(std::uint64_t start, double units_per_second, double rate_per_second) noexcept
      : start_(start),
        interval_q32_(static_cast<unsigned __int128>(units_per_second / rate_per_second * 4294967296.0)) {}

  std::uint64_t due(std::uint64_t i) const noexcept {
    return start_ + static_cast<std::uint64_t>((interval_q32_ * i) >> 32);
  }
  // Spins until now() reaches due(i); returns due(i).
  template <class Now>
  std::uint64_t wait_for(std::uint64_t i, Now&& now) const noexcept {
    const std::uint64_t at = due(i);
    while (now() < at) __builtin_ia32_pause();
    return at;
  }

 private:
  std::uint64_t start_;
  unsigned __int128 interval_q32_;
};

}  // namespace sluice::bench
