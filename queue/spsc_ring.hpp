// SpscRing: one producer, one consumer, variable-length frames, zero copy.
//
// Threads/processes: exactly one producer and one consumer, each may be in a
// different process mapping the same region. Either side may die at any
// point; the other never blocks on it (back-pressure is a return value).
//
// Algorithm (invariant: a frame is visible iff its length word != 0, and
// every byte the producer has not written this lap is zero):
//  - The producer claims [tail, tail + F) if tail + F <= head + capacity.
//  - A frame that would cross the end is preceded by a padding frame
//    (negative length) covering the rest of the data area.
//  - The consumer (RingConsumer) walks frames from its position, hands each
//    to the handler in place, and later zeroes what it read and publishes
//    head (in batches, or when it finds nothing to read).
//    Measured: a producer that instead zeroed the next frame's length word
//    before each commit put that store's cache miss on the latency path
//    (ping-pong 1.6x slower).
//  - The producer reads the consumer's head only when its cached copy says
//    the ring is full: reading it every time would bounce its cache line.
//  - Restart when drained: if the consumer has released everything (it
//    cleared the length word of the producer's last frame), the next frame
//    goes to offset 0 of the next lap, flagged LapRestart, rather than to
//    fresh lines further on; the skipped bytes are free and zero, and the
//    consumer finds the frame there (RingConsumer). The frame after a
//    restarting one starts on the next cache line, so the word a waiting
//    consumer polls is not on a line the restarting frame fills (sharing
//    it cost ~1.35x per round trip in a bare two-process probe; the
//    skipped bytes stay zero). A request/response exchange
//    then keeps reusing the same few lines: walking to a new line per
//    message cost 1.5-2x a reused line in a bare two-process probe on
//    this VM. Positions then advance by up to a lap per message: all
//    position arithmetic is modulo 2^64 (differences only).
// Ordering edges:
//  R1/A1  frame contents before its length (queue/frame.hpp).
//  R2/A2  consumer's head store after it finished reading and zeroing the
//         frames it releases; the producer's acquire of head before reuse.
//  R3     producer's tail store, for observers and a restarted producer.
//  R4/A4  the consumer clears the length word of the last frame it releases
//         (release) after zeroing the rest; the producer's acquire of that
//         word before restarting at offset 0.
// Failure modes: a consumer that stops reading back-pressures the producer;
// a frame that fails validation stops the consumer with FrameError (the
// region is never read out of bounds).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <optional>
#include <span>

#include "queue/frame.hpp"
#include "queue/ring_consumer.hpp"
#include "queue/ring_layout.hpp"

namespace sluice::queue {

class SpscRing {
 public:
  // How long a still tail ends a stream (queue/stream_pacer.hpp): the
  // producer stores its tail with every frame, tens of nanoseconds apart
  // at full speed.
  static constexpr std::chrono::nanoseconds stream_end_still{1000};

  // Attaches to a region of ring_required_bytes(geometry.capacity_bytes)
  // bytes. The region must have been zeroed (or formatted) once by its creator.
  SpscRing(std::span<std::byte> region, RingGeometry geometry) noexcept;

  // --- producer side ---------------------------------------------------
  // Reserves a frame with `payload_bytes` of payload. Never blocks.
  [[nodiscard]] std::expected<Claim, RingError> try_claim(std::size_t payload_bytes) noexcept;
  // Publishes a claimed frame with the given header fields.
  // Returns the position after the frame, where the next one starts.
  std::uint64_t commit(const Claim& claim, const FrameFields& fields) noexcept;
  // Gives a claim back unpublished (the space is reused by the next claim).
  // Zeroes the payload the caller may have written: bytes a smaller frame
  // in its place does not cover must read 0, or the consumer would take
  // them for the next frame's length.
  void abort(const Claim& claim) noexcept;
  // Asks for the lines offer() looks at first (see drained_for) for
  // writing, ahead of a caller's own checks before it offers: the request
  // then travels while those run.
  void prefetch_last_frame_lines() const noexcept {
    if (!last_frame_) return;
    prefetch_for_write(at(*last_frame_));
    prefetch_for_write(at(*last_frame_) + cache_line_bytes);
  }
  // Claim, copy, commit; returns the position after the frame. A drained
  // ring's restarting frame takes a shorter path (offer_restarting), inline
  // so that a caller's header fields stay in registers.
  [[nodiscard]] std::expected<std::uint64_t, RingError> offer(std::span<const std::byte> payload,
                                                              const FrameFields& fields) noexcept {
    if (const auto refused = refusal_before_claim(payload.size())) [[unlikely]]
      return std::unexpected(*refused);
    const std::size_t frame_bytes = frame_bytes_for(payload.size());
    if (drained_for(frame_bytes)) return offer_restarting(payload, fields, frame_bytes);
    return offer_at_tail(payload, fields, frame_bytes);
  }

  // --- consumer side ---------------------------------------------------
  // Calls handler(const FrameView&) for up to `limit` committed frames in
  // order. Returns how many were delivered, or why the frame at the
  // consumer's position is unreadable (the consumer stays at that frame).
  // Read frames go back to the producer in batches; while the producer
  // streams, frames are read in batches a lead behind it (RingConsumer).
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, FrameError> poll(Handler&& handler,
                                                            std::size_t limit) noexcept {
    return consumer_.poll(handler, limit);
  }

  // True if a frame is committed at the consumer's position (consumer side).
  bool has_data() const noexcept { return consumer_.has_data(); }

  // --- observers -------------------------------------------------------
  std::uint64_t producer_position() const noexcept;  // published tail
  std::uint64_t consumer_position() const noexcept;  // published head
  // Hands back everything read so far now (e.g. before the consumer closes).
  void release_consumed() noexcept { consumer_.release_consumed(); }
  // Stream position of the next frame the consumer will read.
  std::uint64_t position() const noexcept { return consumer_.position(); }
  std::size_t capacity_bytes() const noexcept { return geometry_.capacity_bytes; }
  std::size_t max_frame_bytes() const noexcept { return geometry_.max_frame_bytes; }
  std::size_t max_payload_bytes() const noexcept {
    return geometry_.max_frame_bytes - frame_header_bytes;
  }

 private:
  std::byte* at(std::uint64_t position) const noexcept {
    return data_ + (position & mask_);
  }
  // Why a frame ending at `end_position` cannot be written now, if it cannot.
  std::optional<RingError> room_for(std::uint64_t end_position) noexcept;
  // Why no frame of `payload_bytes` can be claimed at all (too large, or a
  // corrupt tail), checked by try_claim and offer alike.
  std::optional<RingError> refusal_before_claim(std::size_t payload_bytes) const noexcept {
    if (payload_bytes > max_payload_bytes()) return RingError::TooLarge;
    // The tail came from shared memory at attach; frames keep it aligned after.
    if (!is_frame_boundary(tail_)) [[unlikely]] return RingError::Corrupt;
    return std::nullopt;
  }
  // Whether the consumer released everything, so that a frame of
  // `frame_bytes` may restart the ring at offset 0 (see above).
  bool drained_for(std::size_t frame_bytes) noexcept {
    // The frame must fit below the current offset: [0, offset) was released
    // with everything else, so the room check then holds.
    const std::size_t offset = tail_ & mask_;
    if (offset == 0 || frame_bytes > offset || !last_frame_) return false;
    // A4: pairs with R4 in RingConsumer::release(). The consumer clears the
    // length word of the last frame it releases after zeroing everything
    // before it, so a cleared word on our last frame means all is released.
    // The word is on a line we wrote last: while the consumer has not
    // released it, this load hits our own cache; once it has, the line must
    // come back for the next frame anyway. Ask for it and the next line
    // (where a restarting frame's payload goes) for writing first: a plain
    // load would fetch the line shared and the frame's first store would
    // then wait a second trip across to take it over (vCPUs far apart: p50
    // -15..-100 ns of ~480 in sluice-bench; p99 170 -> 150 ns where they
    // are close).
    prefetch_last_frame_lines();
    return load_length_acquire(at(*last_frame_)) == 0;
  }
  // offer's frame on a drained ring: written at offset 0 of the next lap
  // and published straight after the drained check, the bookkeeping after
  // (see spsc_ring.cpp).
  std::uint64_t offer_restarting(std::span<const std::byte> payload, const FrameFields& fields,
                                 std::size_t frame_bytes) noexcept {
    std::byte* frame = data_;
    if (!payload.empty()) std::memcpy(frame + frame_header_bytes, payload.data(), payload.size());
    write_header(frame, fields, flags_value(FrameFlags::LapRestart));
    publish_length(frame, static_cast<std::int32_t>(frame_header_bytes + payload.size()));
    return after_restarting_frame(frame_bytes);
  }
  // Bookkeeping after offer_restarting published its frame.
  std::uint64_t after_restarting_frame(std::size_t frame_bytes) noexcept;
  // offer's frame on a ring that is not drained: claim, copy, commit.
  std::expected<std::uint64_t, RingError> offer_at_tail(std::span<const std::byte> payload,
                                                        const FrameFields& fields,
                                                        std::size_t frame_bytes) noexcept;
  // Moves the tail to the start of the next lap (after drained_for).
  void restart_lap() noexcept;
  // try_claim after the restart check: pads where needed, checks room.
  std::expected<Claim, RingError> claim_at_tail(std::size_t frame_bytes,
                                                std::size_t payload_bytes) noexcept;
  // The tail and last frame after publishing the frame at `position`.
  std::uint64_t advance_past(std::uint64_t position, std::size_t frame_bytes,
                             std::uint16_t flags) noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  // Producer-private state.
  std::uint64_t tail_;
  std::uint64_t cached_head_;
  std::optional<std::uint64_t> last_frame_;  // position of the last frame committed
  std::optional<std::uint64_t> restart_position_;  // where the last restart put the tail
  std::optional<std::uint64_t> consumer_wait_word_;  // after a restart, until passed
  // Consumer-private state.
  RingConsumer consumer_;
};

}  // namespace sluice::queue
