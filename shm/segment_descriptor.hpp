// The first 1.25 KiB of every sluice shared-memory segment or journal file.
//
// Layout (frozen per layout_version; offsets pinned below):
//   line 0   identity, written once by the creator, magic last
//   line 4   publisher liveness, written by the publishers
//   line 8   wake-up word for blocking readers
//   line 12  the publishers' process tags, one slot per attached publication
//   line 16  each slot's heartbeat
// The ring region follows at ring_offset (4 KiB, page aligned).
// Incompatible change = any field moved, resized or re-interpreted: bump
// layout_version. Readers refuse any other version.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

namespace sluice::shm {

inline constexpr std::uint64_t segment_magic = 0x3130454349554c53ull;  // "SLUICE01"
inline constexpr std::uint32_t segment_layout_version = 7;
// Publications attached to one channel at once (an mpsc channel's producers).
inline constexpr std::size_t max_publishers = 32;
inline constexpr std::size_t ring_offset = 4096;

enum class RingKind : std::uint32_t { Spsc = 1, Mpsc = 2, Broadcast = 3 };
std::string_view to_string(RingKind k) noexcept;

struct alignas(64) SegmentDescriptor {
  // --- identity (creator; magic is release-stored last) ---
  std::uint64_t magic;
  std::uint32_t layout_version;
  RingKind ring_kind;
  std::uint64_t capacity_bytes;
  std::uint64_t max_frame_bytes;
  std::uint64_t segment_bytes;       // ring_offset + ring bytes
  std::uint64_t creator_pid;
  std::uint64_t created_ns;          // CLOCK_REALTIME
  std::uint32_t stream_id;
  std::uint32_t reserved0;
  std::byte pad0[256 - 64];
  // --- liveness (every publisher) ---
  std::uint32_t next_session_id;     // counter the next publisher draws from
  std::uint32_t closed;              // the last attached publisher closed the stream cleanly
  std::uint64_t subscriber;          // spsc/mpsc: the one attached subscriber's process tag, 0 = none
  std::uint64_t final_seq;           // last seq of the session that closed (valid with closed)
  std::uint32_t final_session_id;    // that session
  std::uint32_t reserved1;
  // CLOCK_MONOTONIC ns: stamped by each subscriber before it takes the slot,
  // then refreshed by its process's heartbeat like publisher_beats (a
  // subscriber of another pid namespace is only known by it). 0 = never.
  std::uint64_t subscriber_beat;
  std::byte pad1[256 - 40];
  // --- blocking wait ---
  std::uint32_t wake_word;           // futex: bumped by the writer on commit
  std::uint32_t parked_readers;      // readers inside futex_wait
  std::uint32_t wake_enabled;        // a blocking reader attached: writers check parked_readers
  std::uint32_t reserved2;
  // CLOCK_MONOTONIC ns of the latest parking announced (readers raise it
  // before counting themselves in parked_readers). 0 = never.
  std::uint64_t last_parked_ns;
  std::byte pad2[256 - 24];
  // --- publishers: a process tag (shm/liveness.hpp: pid, pid namespace, boot)
  // per attached publication, 0 = free; a killed publisher's tag stays
  // until the next publisher reclaims the slot ---
  std::uint64_t publishers[max_publishers];
  // CLOCK_MONOTONIC ns of each slot's holder's last heartbeat, stored before
  // the holder's tag so that a reader of the tag never sees an older beat.
  std::uint64_t publisher_beats[max_publishers];
};

static_assert(std::is_trivially_copyable_v<SegmentDescriptor>);
static_assert(sizeof(SegmentDescriptor) == 1280);
static_assert(offsetof(SegmentDescriptor, magic) == 0);
static_assert(offsetof(SegmentDescriptor, capacity_bytes) == 16);
static_assert(offsetof(SegmentDescriptor, next_session_id) == 256);
static_assert(offsetof(SegmentDescriptor, subscriber) == 264);
static_assert(offsetof(SegmentDescriptor, final_seq) == 272);
static_assert(offsetof(SegmentDescriptor, subscriber_beat) == 288);
static_assert(offsetof(SegmentDescriptor, wake_word) == 512);
static_assert(offsetof(SegmentDescriptor, last_parked_ns) == 528);
static_assert(offsetof(SegmentDescriptor, publishers) == 768);
static_assert(offsetof(SegmentDescriptor, publisher_beats) == 1024);
static_assert(sizeof(SegmentDescriptor) <= ring_offset);

// A descriptor field as an atomic, in place (fields shared across processes).
template <class T>
std::atomic_ref<T> shared(T& field) noexcept {
  static_assert(std::atomic_ref<T>::is_always_lock_free);
  return std::atomic_ref<T>(field);
}

}  // namespace sluice::shm
