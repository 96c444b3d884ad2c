// How a reader waits when a poll finds nothing.
//   Spin   re-poll at once: lowest latency, burns the core (benchmark default)
//   Yield  spin a while, then sched_yield between polls
//   Block  spin a while, then sleep on a futex in the segment descriptor
// Blocking costs the writer nothing until a blocking reader attaches: only
// then does it check, after each commit, whether a reader is parked, and
// only a parked reader costs it a FUTEX_WAKE syscall.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "shm/segment_descriptor.hpp"

namespace sluice::shm {

enum class WaitKind : std::uint8_t { Spin, Yield, Block };
std::string_view to_string(WaitKind k) noexcept;

class IdleWaiter {
 public:
  IdleWaiter(WaitKind kind, SegmentDescriptor& descriptor) noexcept;

  // Called after a poll found nothing. `has_data` re-checks the ring after
  // the reader announced it may park (so a commit racing with it is seen).
  // Returns within max_sleep at the latest.
  template <class HasData>
  void idle(HasData&& has_data, std::chrono::microseconds max_sleep) noexcept {
    if (kind_ == WaitKind::Spin || ++idle_polls_ < spin_polls) return pause();
    if (kind_ == WaitKind::Yield) return yield();
    const std::uint32_t seen = announce_parking();
    if (!has_data()) sleep(seen, max_sleep);
    leave_parking();
  }
  // Called after a poll found work: the next idle period starts spinning.
  void reset() noexcept { idle_polls_ = 0; }

  // A spinning reader re-reads the line the writer is about to write; a
  // PAUSE between reads lets the writer's store take the line sooner (and
  // spares the sibling hyperthread).
  static void pause() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

 private:
  static constexpr std::uint32_t spin_polls = 2000;
  static void yield() noexcept;
  std::uint32_t announce_parking() noexcept;
  void sleep(std::uint32_t seen, std::chrono::microseconds max_sleep) noexcept;
  void leave_parking() noexcept;

  WaitKind kind_;
  SegmentDescriptor& descriptor_;
  std::uint32_t idle_polls_ = 0;
};

// Call on taking a channel's only reader slot (spsc/mpsc): a reader killed
// while parked left its count behind, and the writer would pay a
// FUTEX_WAKE per commit until it noticed (see WakeNotifier).
void forget_parked_readers(SegmentDescriptor& descriptor) noexcept;

// Writer side: wakes parked readers after a commit, if any can exist.
// A reader killed while parked leaves its count behind (a broadcast
// channel's readers hold no slot that would tell), and every commit would
// pay a FUTEX_WAKE. So the writer compares the count with the readers each
// wake finds waiting: when every wake for stale_parking_after found fewer,
// it takes the smallest shortfall off the count. A live reader is counted
// but not waiting only for microseconds (between its announcement and its
// futex wait, or its timeout and leaving); one stopped in between finds
// the wake word moved when it resumes and does not sleep. A count taken
// too low costs at most one reader's bounded sleep, never a frame.
class WakeNotifier {
 public:
  static constexpr std::chrono::milliseconds stale_parking_after{100};

  explicit WakeNotifier(SegmentDescriptor& descriptor) noexcept : descriptor_(descriptor) {}
  void after_commit() noexcept {
    // Relaxed: this flag flips once, when the first blocking reader attaches;
    // a reader parks only with a timeout, so a late view costs no hang.
    if (shared(descriptor_.wake_enabled).load(std::memory_order_relaxed) != 0) wake_parked();
  }

 private:
  void wake_parked() noexcept;
  // A wake found `woken` of the `parked` readers counted.
  void judge_count(std::uint32_t parked, std::uint32_t woken) noexcept;
  SegmentDescriptor& descriptor_;
  // Since when every wake found fewer readers than counted (epoch: the
  // last one found them all), and the smallest shortfall since then.
  std::chrono::steady_clock::time_point short_since_{};
  std::uint32_t least_shortfall_ = 0;
};

}  // namespace sluice::shm
