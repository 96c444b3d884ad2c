// Which cores the tool and its peer run on.
//
// With two or more allowed CPUs the measuring thread and the peer's thread
// each get their own core (the lowest two allowed), so a round trip is a
// real cross-core hand-off and neither side is descheduled by the other.
// With one CPU nothing is pinned (and the report says so).
//
// Only the measuring thread is pinned, and only for the loop (ScopedPin):
// threads a transport creates in open() (libzmq's I/O thread) keep the
// full mask, as they would in an application.
#pragma once

#include <sched.h>

namespace sluice::bench {

struct CpuPlan {
  int tool_cpu = -1;  // -1: not pinned
  int peer_cpu = -1;
  bool pinned() const noexcept { return tool_cpu >= 0; }
};

CpuPlan plan_cpus();

// Pins the calling thread to `cpu` (no-op for -1); restores the previous
// mask when destroyed. A refused pin is not fatal: the run goes on unpinned.
class ScopedPin {
 public:
  explicit ScopedPin(int cpu) noexcept;
  ~ScopedPin();
  ScopedPin(const ScopedPin&) = delete;
  ScopedPin& operator=(const ScopedPin&) = delete;

 private:
  cpu_set_t saved_{};
  bool active_ = false;
};

// Pins the calling thread for good (the peer's loop thread).
bool pin_this_thread(int cpu) noexcept;

}  // namespace sluice::bench
