// Progress of the current measuring loop, shared with the supervisor thread.
//
// The loop stores `done` with relaxed order once per message: a plain store
// to a line only this thread writes, read a few times a second by the
// supervisor (progress bar, stall detection). Relaxed is enough: the reader
// only needs "some recent value", never ordering with other data.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace sluice::bench {

struct alignas(64) Progress {
  std::atomic<std::uint64_t> done{0};
  std::atomic<std::uint64_t> total{0};
  // Bumped by the runner at each new phase so the supervisor restarts its
  // stall timer (a new phase legitimately starts at done = 0).
  std::atomic<std::uint64_t> phase{0};

  void start_phase(std::uint64_t new_total) noexcept {
    done.store(0, std::memory_order_relaxed);
    total.store(new_total, std::memory_order_relaxed);
    phase.fetch_add(1, std::memory_order_relaxed);
  }
  void set(std::uint64_t value) noexcept { done.store(value, std::memory_order_relaxed); }
};

}  // namespace sluice::bench
