// Are the publishers of a segment still there?
// Each attached publication (and an spsc/mpsc subscription) holds a slot in
// the descriptor with its process tag (pid and pid namespace) and its own
// CLOCK_MONOTONIC heartbeat, which its process refreshes. A slot's holder
// is live while its pid exists and its heartbeat is fresh; a subscriber
// declares the publishers gone once no slot has a live holder (all were
// killed, or hung). A process in another pid namespace (a container sharing
// /dev/shm) cannot be looked up by its pid: only its heartbeat tells. One
// of several mpsc publishers leaving or dying is not news: the others are
// alive.
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <expected>
#include <optional>
#include <string>

#include "shm/segment_descriptor.hpp"

namespace sluice::shm {

// Nanoseconds of `clock` (CLOCK_MONOTONIC, CLOCK_BOOTTIME, ...).
std::uint64_t clock_ns(clockid_t clock) noexcept;
inline std::uint64_t monotonic_ns() noexcept { return clock_ns(CLOCK_MONOTONIC); }
// Whether a CLOCK_MONOTONIC stamp in a descriptor is older than
// `stale_after`. One more than a second ahead of our clock is stale too (it
// was stamped before a reboot, kept by a journal file).
bool is_stale(std::uint64_t stamp_ns, std::chrono::nanoseconds stale_after) noexcept;
// Whether a stamp is so far ahead of `now_ns` that it was made before a
// reboot.
bool is_from_before_reboot(std::uint64_t stamp_ns, std::uint64_t now_ns) noexcept;

// A process as a descriptor slot holds it: its pid, the inode of its pid
// namespace (/proc/self/ns/pid) and 10 bits of the boot id, packed into
// one word so that a slot is taken and freed with one CAS. A pid means
// nothing in another pid namespace (the same number there is no process
// here, or an unrelated one), nor after a reboot (a journal file keeps its
// slots, and services tend to get the same pids again each boot).
struct ProcessTag {
  static constexpr unsigned pid_bits = 22;  // the kernel's PID_MAX_LIMIT is 2^22
  static constexpr unsigned boot_bits = 10;
  std::uint32_t pid = 0;
  std::uint32_t pid_namespace = 0;  // 0: unknown (no /proc)
  std::uint32_t boot = 0;           // hash of /proc/sys/kernel/random/boot_id, boot_bits wide; 0: unknown

  static ProcessTag self() noexcept;
  // This process's namespace and boot, another pid (tests, tools).
  static ProcessTag of_pid(std::uint32_t pid) noexcept {
    ProcessTag t = self();
    t.pid = pid;
    return t;
  }
  static ProcessTag unpack(std::uint64_t word) noexcept {
    return {static_cast<std::uint32_t>(word & ((1u << pid_bits) - 1)), static_cast<std::uint32_t>(word >> 32),
            static_cast<std::uint32_t>(word >> pid_bits) & ((1u << boot_bits) - 1)};
  }
  std::uint64_t pack() const noexcept {
    return std::uint64_t{pid_namespace} << 32 | std::uint64_t{boot & ((1u << boot_bits) - 1)} << pid_bits |
           (pid & ((1u << pid_bits) - 1));
  }
  bool in_my_namespace() const noexcept { return pid_namespace == self().pid_namespace; }
};

// What this process can tell about a slot's holder.
enum class Presence : std::uint8_t {
  Alive,
  Dead,    // no such pid here, or tagged in another boot (1 in 1024 boots look alike)
  Unseen,  // in another pid namespace (or one unknown: no /proc): only a heartbeat can tell
};
Presence presence(ProcessTag holder) noexcept;
// Whether the publisher whose packed tag `owner` an mpsc claim recorded is
// gone: no publisher slot holds it (it detached, or was reclaimed as dead),
// or its slot could be taken over (is_free_or_dead in liveness.cpp: its
// process exited, or its pid was reused and its beat is older than
// `stale_after`, or in another pid namespace that beat is). Reads /proc.
bool claim_owner_gone(const SegmentDescriptor& d, std::uint64_t owner, std::chrono::nanoseconds stale_after) noexcept;
// "pid N", plus where it lives if not in this process's pid namespace.
std::string describe(ProcessTag holder);

enum class PublisherState : std::uint8_t { None, Alive, Closed, Gone };

// A publication's place in the descriptor.
struct PublisherSlot {
  std::uint32_t index;       // into SegmentDescriptor::publishers
  std::uint32_t session_id;  // fresh per attach
};
// Why attach_publisher() refused.
struct PublisherRefusal {
  ProcessTag owner;  // the live exclusive publisher; pid 0: all max_publishers slots are live
  // How long the owner has not beaten, if longer than the stale timeout:
  // it is stopped or hung.
  std::chrono::nanoseconds silent_for{0};
};
// Registers this process as a publisher: a slot with its tag and a
// heartbeat, and a new session id. With `exclusive` (spsc, broadcast) the
// one slot must be free or its holder dead. A holder in this pid namespace
// is dead when its pid is, or when its heartbeat is older than
// `stale_after` and the process under its pid now started after that beat
// (the pid was reused); one in another namespace, once its heartbeat is
// older than `stale_after`.
std::expected<PublisherSlot, PublisherRefusal> attach_publisher(SegmentDescriptor& d, bool exclusive,
                                                                std::chrono::nanoseconds stale_after) noexcept;
// Claims the single-subscriber slot unless a live process holds it, by the
// rules of attach_publisher: a holder in another pid namespace is known by
// its heartbeat (subscriber_beat) only, and loses the slot once that is
// older than `stale_after`. One that was merely stopped finds out when it
// resumes (its tag is no longer in the slot) and must stop reading: two
// readers of one ring would corrupt each other's view.
bool attach_subscriber(SegmentDescriptor& d, std::chrono::nanoseconds stale_after, ProcessTag* owner) noexcept;
void detach_subscriber(SegmentDescriptor& d) noexcept;
// Whether the slot word `slot` still holds `self`, the packed tag this
// process took it with: false once the slot went to another holder.
inline bool holds_slot(std::uint64_t& slot, std::uint64_t self) noexcept {
  return shared(slot).load(std::memory_order_acquire) == self;
}
// Stamps a heartbeat word of this process's (publisher_beats[i], subscriber_beat).
void heartbeat(std::uint64_t& beat) noexcept;
// Frees this publisher's slot; the last one to leave marks a clean close
// (subscribers see Closed, not Gone) with its session's last seq, so a
// subscriber that was lapped at the end can still count what it lost. A
// slot no longer ours (taken over) is left alone, and nothing is closed.
void detach_publisher(SegmentDescriptor& d, PublisherSlot slot, std::uint64_t last_seq) noexcept;

// Closed once the last publisher left cleanly; Gone when slots are held but
// none by a live holder (dead, or silent past `stale_after`); None when no
// slot is held. A slot that changes while it is judged (a publisher leaving
// or arriving) reads Alive: no verdict until it settles.
PublisherState publisher_state(const SegmentDescriptor& d, std::chrono::nanoseconds stale_after) noexcept;

}  // namespace sluice::shm
