// Are the publishers of a segment still there?
// Each attached publication holds a slot with its pid in the descriptor, and
// every publisher process refreshes one shared CLOCK_MONOTONIC heartbeat. A
// subscriber declares them gone when no slot holds a live pid (all were
// killed) or the heartbeat is older than the stale timeout (hung or frozen
// processes, or ones in another pid namespace). One of several mpsc
// publishers leaving or dying is not news: the others are alive.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>

#include "shm/segment_descriptor.hpp"

namespace sluice::shm {

std::uint64_t monotonic_ns() noexcept;
bool process_exists(std::uint64_t pid) noexcept;

enum class PublisherState : std::uint8_t { None, Alive, Closed, Gone };

// Why attach_publisher() refused.
struct PublisherRefusal {
  std::uint64_t owner_pid;  // the live exclusive publisher, or 0: all max_publishers slots are live
};
// Registers this process as a publisher: a slot with its pid, a new session
// id, a heartbeat. With `exclusive` (spsc, broadcast) the one slot must be
// free or held by a dead process.
std::expected<std::uint32_t, PublisherRefusal> attach_publisher(SegmentDescriptor& d,
                                                                bool exclusive) noexcept;
// Claims the single-subscriber slot unless a live process holds it.
bool attach_subscriber(SegmentDescriptor& d, std::uint64_t* owner) noexcept;
void detach_subscriber(SegmentDescriptor& d) noexcept;
void heartbeat(SegmentDescriptor& d) noexcept;
// Frees this publisher's slot; the last one to leave marks a clean close
// (subscribers see Closed, not Gone) with its session's last seq, so a
// subscriber that was lapped at the end can still count what it lost.
void detach_publisher(SegmentDescriptor& d, std::uint32_t session_id, std::uint64_t last_seq) noexcept;

PublisherState publisher_state(const SegmentDescriptor& d, std::chrono::nanoseconds stale_after) noexcept;

}  // namespace sluice::shm
