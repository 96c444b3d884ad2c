#include "tools/bench/cpu_pinning.hpp"

#include <pthread.h>

namespace sluice::bench {

CpuPlan plan_cpus() {
  cpu_set_t allowed;
  CPU_ZERO(&allowed);
  if (sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2) return {};
  CpuPlan plan;
  for (int cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    if (plan.tool_cpu < 0) {
      plan.tool_cpu = cpu;
    } else {
      plan.peer_cpu = cpu;
      break;
    }
  }
  return plan;
}

bool pin_this_thread(int cpu) noexcept {
  if (cpu < 0) return false;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0;
}

ScopedPin::ScopedPin(int cpu) noexcept {
  if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof saved_, &saved_) != 0) return;
  active_ = pin_this_thread(cpu);
}

ScopedPin::~ScopedPin() {
  if (active_) pthread_setaffinity_np(pthread_self(), sizeof saved_, &saved_);
}

}  // namespace sluice::bench
