// MpscRing: many producers, one consumer, variable-length frames, zero copy.
//
// Threads/processes: any number of producers (threads or processes), one
// consumer. Producers serialise only on one compare-and-swap of the tail;
// they fill and commit their frames concurrently, in any order.
//
// Algorithm (invariant: a frame is visible iff its length word != 0; every
// byte between head and tail that no producer wrote yet is zero):
//  - A producer reads tail and a shared cached head, checks room, and CASes
//    tail forward by its frame (plus padding if the frame would cross the
//    end). A CAS and not a fetch-add: a fetch-add cannot be undone when the
//    ring turns out to be full, and would claim space that is still unread.
//  - Right after winning, the producer records its frame's extent in the
//    header's seq word (the real seq overwrites it at commit): that is how
//    the consumer can skip a claim whose producer died (see below).
//  - The consumer reads frames from head in position order, hands each to
//    the handler in place, then zeroes what it consumed (restoring the
//    invariant for the next lap) and publishes head in batches
//    (RingConsumer, shared with SpscRing).
//  - A producer whose claim crosses a progress step (ring_layout.hpp)
//    stores its end in the TailIntent slot, a hint for a streaming consumer
//    waiting for the producers' lead. That consumer must not watch tail:
//    each producer CAS would then wait for the line to come back from it
//    (one producer, vCPUs far apart: 11-15 M msgs/s against 76-94 M spsc).
//    Producers may store the hint out of order; it is only a hint.
//  - A producer that dies between claim and commit leaves a zero length at
//    head while tail is ahead of it. unblock_stale_claim(now) turns such a
//    claim into padding once it has been stuck longer than the timeout and
//    its producer has exited. The extent comes from the seq word; if the
//    producer died before writing it, the claim is still all zero, so the
//    next non-zero length, extent or owner word (or tail) marks its end; that
//    end must hold still for the whole timeout (a live producer behind it
//    records its extent nanoseconds after its CAS).
//  - With the extent (just before it), the producer records its owner tag
//    (an opaque word its user chose, e.g. a process id) in the timestamp
//    word. A claim whose owner is alive is never skipped, however long it
//    is stuck: a producer that was only stopped would, once resumed, write
//    its frame into space handed out again (the consumer read the padding,
//    zeroed it and released it), and a later reader would take its length
//    for someone else's frame. The consumer waits for such a producer, as
//    it must for any frame it has to deliver in position order.
// Ordering edges:
//  R1/A1  frame contents before length (queue/frame.hpp).
//  R2/A2  consumer: zeroing and reading done before head moves; producers
//         acquire head before reusing the space.
//  CAS    acq_rel on tail: claims are totally ordered; a producer's extent
//         store and commit happen after its own CAS.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "queue/frame.hpp"
#include "queue/ring_consumer.hpp"
#include "queue/ring_layout.hpp"

namespace sluice::queue {

class MpscRing {
 public:
  // How long a still progress hint ends a stream (it moves in steps).
  static constexpr std::chrono::nanoseconds stream_end_still = stepped_progress_end_still;

  // Attaches to a zeroed region of ring_required_bytes(capacity) bytes.
  // `owner_tag`: recorded with every claim this object makes (0: none), for
  // unblock_stale_claim()'s `claimer_gone`.
  MpscRing(std::span<std::byte> region, RingGeometry geometry, std::uint64_t owner_tag = 0) noexcept;

  // --- producer side (any thread or process) ----------------------------
  [[nodiscard]] std::expected<Claim, RingError> try_claim(std::size_t payload_bytes) noexcept;
  // Returns the position after the frame, where the next one starts.
  std::uint64_t commit(const Claim& claim, const FrameFields& fields) noexcept;
  // Publishes the claimed space as padding: it is skipped, never delivered.
  void abort(const Claim& claim) noexcept;
  [[nodiscard]] std::expected<std::uint64_t, RingError> offer(std::span<const std::byte> payload,
                                                              const FrameFields& fields) noexcept;

  // --- consumer side (one thread) ----------------------------------------
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, FrameError> poll(Handler&& handler,
                                                            std::size_t limit) noexcept {
    return consumer_.poll(handler, limit);
  }
  // Call when poll() returns 0 while producers may be dead. Returns the bytes
  // turned into padding once the claim at head has been stuck for timeout_ns
  // and claimer_gone(owner_tag) says the owner it recorded is gone (a claim
  // with no owner recorded: after the timeout alone).
  template <class ClaimerGone>
  std::optional<std::size_t> unblock_stale_claim(std::uint64_t now_ns, std::uint64_t timeout_ns,
                                                 ClaimerGone&& claimer_gone) noexcept {
    const auto stuck = stuck_claim(now_ns, timeout_ns);
    if (!stuck || (stuck->owner != 0 && !claimer_gone(stuck->owner))) return std::nullopt;
    return pad_stuck_claim(stuck->extent);
  }
  // Every owner counts as gone: the timeout alone decides.
  std::optional<std::size_t> unblock_stale_claim(std::uint64_t now_ns, std::uint64_t timeout_ns) noexcept {
    return unblock_stale_claim(now_ns, timeout_ns, [](std::uint64_t) { return true; });
  }

  // True if a frame is committed at the consumer's position (consumer side).
  // A corrupt (misaligned) head reads as data: poll() then reports it.
  bool has_data() const noexcept { return consumer_.has_data(); }

  // Hands back everything read so far now (e.g. before the consumer closes).
  void release_consumed() noexcept { consumer_.release_consumed(); }
  // Stream position of the next frame the consumer will read.
  std::uint64_t position() const noexcept { return consumer_.position(); }

  std::uint64_t producer_position() const noexcept;
  std::uint64_t consumer_position() const noexcept;
  std::size_t capacity_bytes() const noexcept { return geometry_.capacity_bytes; }
  std::size_t max_payload_bytes() const noexcept {
    return geometry_.max_frame_bytes - frame_header_bytes;
  }

 private:
  std::byte* at(std::uint64_t position) const noexcept { return data_ + (position & mask_); }
  std::atomic_ref<std::uint64_t> counter(TrailerSlot slot) const noexcept {
    return trailer_counter(region_, geometry_.capacity_bytes, slot);
  }
  std::atomic_ref<std::uint64_t> extent_word(std::byte* frame) const noexcept {
    return std::atomic_ref<std::uint64_t>(
        *reinterpret_cast<std::uint64_t*>(frame + header_offset::seq));
  }
  std::atomic_ref<std::uint64_t> owner_word(std::byte* frame) const noexcept {
    return std::atomic_ref<std::uint64_t>(
        *reinterpret_cast<std::uint64_t*>(frame + header_offset::timestamp_ns));
  }
  std::size_t stale_claim_extent(std::uint64_t head, std::uint64_t tail) const noexcept;
  // The claim at head, once stuck for the timeout with an end that held still.
  struct StuckClaim {
    std::uint64_t owner;
    std::size_t extent;
  };
  std::optional<StuckClaim> stuck_claim(std::uint64_t now_ns, std::uint64_t timeout_ns) noexcept;
  std::size_t pad_stuck_claim(std::size_t extent) noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  std::uint64_t progress_step_;
  std::uint64_t owner_tag_;
  // Consumer-private state.
  RingConsumer consumer_;
  std::uint64_t stuck_position_ = ~std::uint64_t{0};
  std::uint64_t stuck_since_ns_ = 0;
  std::size_t stuck_extent_ = 0;  // the stuck claim's extent when first seen
};

}  // namespace sluice::queue
