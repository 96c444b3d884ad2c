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

// The longest a blocking reader sleeps at once: after that it polls again
// (so liveness is checked), and a writer knows that a reader which counted
// itself parked longer ago than this is not waiting any more.
inline constexpr std::chrono::milliseconds longest_park{50};

class IdleWaiter {
 public:
  IdleWaiter(WaitKind kind, SegmentDescriptor& descriptor) noexcept;

  // Called after a poll found nothing. `has_data` re-checks the ring after
  // the reader announced it may park (so a commit racing with it is seen).
  // Returns within longest_park at the latest.
  template <class HasData>
  void idle(HasData&& has_data) noexcept {
    if (kind_ == WaitKind::Spin || ++idle_polls_ < spin_polls) return pause();
    if (kind_ == WaitKind::Yield) return yield();
    const std::uint32_t seen = announce_parking();
    if (!has_data()) sleep(seen);
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
  void sleep(std::uint32_t seen) noexcept;
  void leave_parking() noexcept;

  WaitKind kind_;
  SegmentDescriptor& descriptor_;
  std::uint32_t idle_polls_ = 0;
};

// Call on taking a channel's only reader slot (spsc/mpsc): a reader killed
// while parked left its count behind, and the writer would pay a
// FUTEX_WAKE per commit until it found the count stale (below).
void forget_parked_readers(SegmentDescriptor& descriptor) noexcept;

// Writer side: wakes parked readers after a commit, if any can exist.
// A reader killed while parked leaves its count behind (a broadcast
// channel's readers hold no slot that would tell). When no reader has
// announced parking for stale_parking_after, none can still be waiting
// (each sleeps longest_park at most): the writer then clears the count
// instead of paying a FUTEX_WAKE per commit for it. A reader that timed
// out but was held off the CPU for longer than the margin before leaving
// may then take a newer reader's count off: that one sleeps out its
// longest_park once; no frame waits longer.
class WakeNotifier {
 public:
  static constexpr std::chrono::milliseconds stale_parking_after = 2 * longest_park;

  explicit WakeNotifier(SegmentDescriptor& descriptor) noexcept : descriptor_(descriptor) {}
  void after_commit() noexcept {
    // Relaxed: this flag flips once, when the first blocking reader attaches;
    // a reader parks only with a timeout, so a late view costs no hang.
    if (shared(descriptor_.wake_enabled).load(std::memory_order_relaxed) != 0) wake_parked();
  }

 private:
  void wake_parked() noexcept;
  SegmentDescriptor& descriptor_;
};

}  // namespace sluice::shm
