// What every ring shares: capacity rules, the trailer of position counters
// placed after the data area, claim handles and errors.
//
// A ring region is [data: capacity bytes][trailer: ring_trailer_bytes].
// Positions are free-running 64-bit byte counts (they never wrap in practice:
// 2^64 bytes at 100 GB/s is 5 years); index = position & (capacity - 1).
// Each counter sits alone in a 128-byte block so neither it nor the adjacent
// line the hardware prefetcher pairs with it is shared with another writer.
#pragma once

#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string_view>

#include "queue/frame.hpp"

namespace sluice::queue {

inline constexpr std::size_t counter_block_bytes = 128;
inline constexpr std::size_t ring_trailer_counters = 4;
inline constexpr std::size_t ring_trailer_bytes = counter_block_bytes * ring_trailer_counters;
inline constexpr std::size_t min_ring_capacity_bytes = 1024;

// Trailer slots. Which side writes each one is stated per ring.
enum class TrailerSlot : std::uint8_t { Tail = 0, Head = 1, TailIntent = 2, HeadCache = 3 };

// How far writers let a progress word lag: broadcast's intent and mpsc's
// progress hint move once per step rather than per frame, so that a
// reader watching them does not take their line from the writer after
// every frame. 4 KiB, at most 1/16 of the ring; a power of two.
constexpr std::uint64_t progress_step(std::size_t capacity_bytes) noexcept {
  return capacity_bytes / 16 < 4096 ? capacity_bytes / 16 : 4096;
}
// How long a still stepped progress word ends a stream
// (queue/stream_pacer.hpp): the word moves once per step, 40-odd small
// frames, under a microsecond at full speed.
inline constexpr std::chrono::nanoseconds stepped_progress_end_still{2000};
// Whether a write from `from` to `to` crossed a progress step boundary.
constexpr bool crosses_step(std::uint64_t from, std::uint64_t to, std::uint64_t step) noexcept {
  return ((from ^ to) & ~(step - 1)) != 0;
}

enum class RingError : std::uint8_t {
  BackPressured,  // no room now: the reader is behind; retry later (never blocks)
  TooLarge,       // the frame exceeds max_frame_bytes: fragment it or give up
  Corrupt,        // a frame or position failed validation: the ring is unusable
  Lapped,         // a broadcast reader fell a whole lap behind: frames were lost
};
std::string_view to_string(RingError e) noexcept;

// Ring geometry, validated once at attach time.
struct RingGeometry {
  std::size_t capacity_bytes = 0;   // power of two, >= min_ring_capacity_bytes
  std::size_t max_frame_bytes = 0;  // header included; <= capacity / 8

  // Why the geometry is unusable, or empty when it is fine.
  std::string_view problem() const noexcept;
  static constexpr std::size_t required_bytes(std::size_t capacity_bytes) noexcept {
    return capacity_bytes + ring_trailer_bytes;
  }
};

// Region bytes a ring of this capacity needs (data area plus trailer).
constexpr std::size_t ring_required_bytes(std::size_t capacity_bytes) noexcept {
  return RingGeometry::required_bytes(capacity_bytes);
}

// A counter in the trailer, as an atomic in place.
inline std::atomic_ref<std::uint64_t> trailer_counter(std::span<std::byte> region,
                                                      std::size_t capacity_bytes,
                                                      TrailerSlot slot) noexcept {
  auto* at = region.data() + capacity_bytes +
             static_cast<std::size_t>(slot) * counter_block_bytes;
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(at));
}

// Asks for the cache line at `at` with intent to write (PREFETCHW): a line
// another core last wrote then arrives once, ready for our stores, instead
// of being fetched by a load and then taken over again by the first store.
// GCC's __builtin_prefetch(p, 1) is a plain read prefetch unless the whole
// build targets PRFCHW, hence the instruction itself. Elsewhere: nothing.
inline void prefetch_for_write(const std::byte* at) noexcept {
#if defined(__x86_64__)
  asm volatile("prefetchw %0" : : "m"(*at));
#else
  (void)at;
#endif
}

// Whether this CPU can evict_line() (CLFLUSHOPT, x86 only); checked once.
bool can_evict_lines() noexcept;
// Writes the cache line holding `at` back to memory and drops it from every
// core's cache; its contents do not change (CLFLUSHOPT: weakly ordered, so a
// burst of them overlaps). Only where can_evict_lines().
inline void evict_line(const std::byte* at) noexcept {
#if defined(__x86_64__)
  asm volatile("clflushopt %0" : : "m"(*at));
#else
  (void)at;
#endif
}

// Whether a tail read from shared memory is a frame boundary. Producers
// keep it one; any other value is corruption, and writing a frame there
// would run a header past the data area into the trailer.
constexpr bool is_frame_boundary(std::uint64_t position) noexcept {
  return position % frame_alignment == 0;
}

// A reserved, not yet visible frame. Fill payload(), then commit or abort it
// through the ring that issued it. Move-only by convention: commit it once.
struct Claim {
  std::byte* frame = nullptr;
  std::uint64_t position = 0;    // stream position of the frame
  std::size_t payload_bytes = 0;
  std::span<std::byte> payload() const noexcept {
    return {frame + frame_header_bytes, payload_bytes};
  }
  std::size_t frame_bytes() const noexcept { return frame_bytes_for(payload_bytes); }
};

// Claim, copy, commit: the copying offer of the mpsc and broadcast rings
// (SpscRing has its own). Returns the position after the frame, as commit
// does.
template <class Ring>
std::expected<std::uint64_t, RingError> offer_copy(Ring& ring, std::span<const std::byte> payload,
                                                   const FrameFields& fields) noexcept {
  auto claim = ring.try_claim(payload.size());
  if (!claim) return std::unexpected(claim.error());
  if (!payload.empty()) std::memcpy(claim->payload().data(), payload.data(), payload.size());
  return ring.commit(*claim, fields);
}

// Writes a padding frame covering `bytes` (a multiple of 32) and publishes
// it. `flags`: ring-only flags (an spsc padding frame may restart a lap).
inline void publish_padding(std::byte* at, std::size_t bytes, std::uint16_t flags = 0) noexcept {
  write_header(at, FrameFields{.type = FrameType::Pad, .flags = flags});
  publish_length(at, -static_cast<std::int32_t>(bytes));
}

}  // namespace sluice::queue
