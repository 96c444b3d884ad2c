// Is the publisher of a segment still there?
// A publisher stamps its pid and a CLOCK_MONOTONIC heartbeat into the
// descriptor; a subscriber declares it gone when the pid no longer exists
// or the heartbeat is older than the stale timeout (a hung or frozen
// process, or one in another pid namespace).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "shm/segment_descriptor.hpp"

namespace sluice::shm {

std::uint64_t monotonic_ns() noexcept;
bool process_exists(std::uint64_t pid) noexcept;

enum class PublisherState : std::uint8_t { None, Alive, Closed, Gone };

// Registers this process as the publisher: a new session id, pid, heartbeat.
// With `exclusive`, refuses (nullopt + the live owner's pid in *owner) while
// another live publisher that has not closed is attached.
std::optional<std::uint32_t> attach_publisher(SegmentDescriptor& d, bool exclusive,
                                              std::uint64_t* owner) noexcept;
// Claims the single-subscriber slot unless a live process holds it.
bool attach_subscriber(SegmentDescriptor& d, std::uint64_t* owner) noexcept;
void detach_subscriber(SegmentDescriptor& d) noexcept;
void heartbeat(SegmentDescriptor& d) noexcept;
// Marks a clean close once the last attached publisher leaves (subscribers
// see Closed, not Gone). On an mpsc channel, Gone is judged by the most
// recently attached publisher only: the others are not tracked by pid.
// `last_seq` is the session's last seq: a subscriber that was lapped at the
// end can still count what it lost.
void detach_publisher(SegmentDescriptor& d, std::uint64_t last_seq) noexcept;

PublisherState publisher_state(const SegmentDescriptor& d, std::chrono::nanoseconds stale_after) noexcept;

}  // namespace sluice::shm
