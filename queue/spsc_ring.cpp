#include "queue/spsc_ring.hpp"

#include <cstring>

namespace sluice::queue {

SpscRing::SpscRing(std::span<std::byte> region, RingGeometry geometry) noexcept
    : region_(region),
      data_(region.data()),
      geometry_(geometry),
      mask_(geometry.capacity_bytes - 1),
      consumer_(region, geometry, FollowsRestart::yes, {TrailerSlot::Tail, stream_end_still}) {
  // A producer or consumer re-attaching (restart) resumes where the ring is.
  tail_ = producer_position();
  cached_head_ = consumer_.position();
}

std::uint64_t SpscRing::producer_position() const noexcept {
  return trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Tail)
      .load(std::memory_order_acquire);
}

std::uint64_t SpscRing::consumer_position() const noexcept {
  return trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Head)
      .load(std::memory_order_acquire);
}

std::optional<RingError> SpscRing::room_for(std::uint64_t end_position) noexcept {
  if (end_position - cached_head_ <= geometry_.capacity_bytes) return std::nullopt;
  // A2: pairs with R2 in poll(): space below head is no longer being read.
  // After a restart the published head trails the lap start we skipped to
  // until the consumer releases past it: only ever move forward.
  const std::uint64_t head = consumer_position();
  // The consumer never releases what was not written: a head past our
  // tail was written over (read as full, it would back-pressure for good).
  if (static_cast<std::int64_t>(head - tail_) > 0) return RingError::Corrupt;
  if (static_cast<std::int64_t>(head - cached_head_) > 0) cached_head_ = head;
  if (end_position - cached_head_ <= geometry_.capacity_bytes) return std::nullopt;
  return RingError::BackPressured;
}

void SpscRing::restart_lap() noexcept {
  // The consumer skips to the new lap without reading the bytes in
  // between, so all of the ring below the new tail is free: a burst after
  // the restart may use the whole capacity at once. Only the word where
  // the consumer waits must hold nothing but frame starts until it has
  // seen the restart: it loads that word between two loads of offset 0's
  // and trusts it unless the second shows the restart (RingConsumer).
  // Guarded until something is published up to it or past it
  // (claim_at_tail, advance_past): a claim that ends there may still be
  // aborted, and a larger one in its place would cover the word.
  const std::size_t offset = tail_ & mask_;
  tail_ += geometry_.capacity_bytes - offset;
  consumer_wait_word_ = tail_ + offset;
  cached_head_ = tail_;
  restart_position_ = tail_;
}

std::expected<Claim, RingError> SpscRing::try_claim(std::size_t payload_bytes) noexcept {
  if (const auto refused = refusal_before_claim(payload_bytes)) return std::unexpected(*refused);
  const std::size_t frame_bytes = frame_bytes_for(payload_bytes);
  if (drained_for(frame_bytes)) restart_lap();
  return claim_at_tail(frame_bytes, payload_bytes);
}

std::expected<Claim, RingError> SpscRing::claim_at_tail(std::size_t frame_bytes,
                                                        std::size_t payload_bytes) noexcept {
  std::size_t padding = 0;
  bool reaches_wait_word = false;
  if (consumer_wait_word_) {
    // A frame across the waiting consumer's word would put payload bytes
    // under its load: pad up to the word so that a frame starts there.
    // Then every claim from here on starts at or past the word, aborted
    // or not: the guard is done.
    const std::uint64_t to_word = *consumer_wait_word_ - tail_;
    if (to_word < frame_bytes) padding = to_word;
    reaches_wait_word = to_word < frame_bytes;
  }
  const std::size_t to_end = geometry_.capacity_bytes - ((tail_ + padding) & mask_);
  if (frame_bytes > to_end) padding += to_end;
  if (const auto refused = room_for(tail_ + padding + frame_bytes)) return std::unexpected(*refused);
  if (reaches_wait_word) consumer_wait_word_.reset();
  if (padding != 0) {
    // Padding is a frame like any other to the restart rule: the ring is
    // drained only once the consumer released it (a claim aborted after it
    // must not let the producer restart with the padding unread). Padding
    // at a restart position is the restarting frame (the claim that
    // restarted may have been aborted): it carries the flag the consumer
    // looks for at offset 0.
    publish_padding(at(tail_), padding,
                    tail_ == restart_position_ ? flags_value(FrameFlags::LapRestart) : 0);
    last_frame_ = tail_;
    tail_ += padding;
    // R3 for the padding, published now: if the claim is aborted and this
    // producer goes, the consumer reads past the padding, and the next
    // producer must attach after it, not behind head (once a lap).
    trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Tail)
        .store(tail_, std::memory_order_release);
  }
  return Claim{at(tail_), tail_, payload_bytes};
}

std::uint64_t SpscRing::commit(const Claim& claim, const FrameFields& fields) noexcept {
  // Header fields and length back to back: the reader spins on this line,
  // and every store to it that is not adjacent can cost a transfer.
  const std::uint16_t ring_flags =
      claim.position == restart_position_ ? flags_value(FrameFlags::LapRestart) : 0;
  write_header(claim.frame, fields, ring_flags);
  publish_length(claim.frame, static_cast<std::int32_t>(frame_header_bytes + claim.payload_bytes));
  return advance_past(claim.position, claim.frame_bytes(), ring_flags);
}

void SpscRing::abort(const Claim& claim) noexcept {
  std::memset(claim.payload().data(), 0, claim.payload_bytes);
}

std::uint64_t SpscRing::advance_past(std::uint64_t position, std::size_t frame_bytes,
                                     std::uint16_t flags) noexcept {
  last_frame_ = position;
  tail_ = next_frame_position(position, frame_bytes, flags);
  // A published frame that ends at the waiting consumer's word (or rounds
  // up past it) leaves a frame start there for good.
  if (consumer_wait_word_ && static_cast<std::int64_t>(tail_ - *consumer_wait_word_) >= 0)
    consumer_wait_word_.reset();
  // Ask early for the lines the next frames will write (the consumer zeroed
  // them, so they sit modified in its cache). Built without PRFCHW, GCC
  // emits this as a read prefetch; a PREFETCHW build streamed no faster.
  __builtin_prefetch(at(tail_ + 2 * cache_line_bytes), 1);
  // R3: for observers and a producer re-attaching; the consumer never reads it.
  trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Tail)
      .store(tail_, std::memory_order_release);
  return tail_;
}

std::uint64_t SpscRing::after_restarting_frame(std::size_t frame_bytes) noexcept {
  // The frame restarted the lap at offset 0 with the whole lap free: no
  // padding and no room to check. It was written and published straight
  // after the drained check (offer_restarting), this bookkeeping after:
  // from when the line comes over until the commit store, a consumer
  // polling offset 0 may pull it back, and each time costs a transfer.
  // With the consumer's side of it (RingConsumer), a 64-byte ping-pong went
  // from 1.54-1.86x raw-cacheline to 1.15-1.39x with the vCPUs close;
  // through the Publication (which used try_claim and commit before) from
  // 2.27-2.29x to 1.75-1.86x.
  restart_lap();
  return advance_past(tail_, frame_bytes, flags_value(FrameFlags::LapRestart));
}

std::expected<std::uint64_t, RingError> SpscRing::offer_at_tail(std::span<const std::byte> payload,
                                                                const FrameFields& fields,
                                                                std::size_t frame_bytes) noexcept {
  auto claim = claim_at_tail(frame_bytes, payload.size());
  if (!claim) return std::unexpected(claim.error());
  if (!payload.empty()) std::memcpy(claim->payload().data(), payload.data(), payload.size());
  return commit(*claim, fields);
}

}  // namespace sluice::queue
