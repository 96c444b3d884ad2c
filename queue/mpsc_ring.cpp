#include "queue/mpsc_ring.hpp"

#include <cstring>

namespace sluice::queue {

MpscRing::MpscRing(std::span<std::byte> region, RingGeometry geometry, std::uint64_t owner_tag) noexcept
    : region_(region),
      data_(region.data()),
      geometry_(geometry),
      mask_(geometry.capacity_bytes - 1),
      progress_step_(progress_step(geometry.capacity_bytes)),
      owner_tag_(owner_tag),
      consumer_(region, geometry, FollowsRestart::no, {TrailerSlot::TailIntent, stream_end_still}) {}

std::uint64_t MpscRing::producer_position() const noexcept {
  return counter(TrailerSlot::Tail).load(std::memory_order_acquire);
}

std::uint64_t MpscRing::consumer_position() const noexcept {
  return counter(TrailerSlot::Head).load(std::memory_order_acquire);
}

std::expected<Claim, RingError> MpscRing::try_claim(std::size_t payload_bytes) noexcept {
  if (payload_bytes > max_payload_bytes()) return std::unexpected(RingError::TooLarge);
  const std::size_t frame_bytes = frame_bytes_for(payload_bytes);
  const std::size_t capacity = geometry_.capacity_bytes;
  auto tail_word = counter(TrailerSlot::Tail);
  auto head_cache = counter(TrailerSlot::HeadCache);
  std::uint64_t tail = tail_word.load(std::memory_order_acquire);
  std::size_t padding;
  for (;;) {
    if (!is_frame_boundary(tail)) [[unlikely]] return std::unexpected(RingError::Corrupt);
    const std::size_t to_end = capacity - (tail & mask_);
    padding = frame_bytes > to_end ? to_end : 0;
    const std::uint64_t end = tail + padding + frame_bytes;
    // A stale cached head only under-estimates the room. Acquire/release
    // (free on x86): the producer that cached head acquired it from the
    // consumer (A2), and this one must inherit that edge, or its writes
    // race the consumer's zeroing below head (TSan saw it).
    // A head past our tail: our tail is older than it (others claimed and
    // were read since), or a head word was written over, which would read
    // as room over unread frames, or as full for good. Head is never past
    // a tail loaded after it.
    std::uint64_t head = head_cache.load(std::memory_order_acquire);
    if (end - head > capacity || static_cast<std::int64_t>(head - tail) > 0) {
      head = consumer_position();  // A2: pairs with R2 in RingConsumer::release()
      if (static_cast<std::int64_t>(head - tail) > 0) {
        tail = tail_word.load(std::memory_order_acquire);
        if (static_cast<std::int64_t>(head - tail) > 0) return std::unexpected(RingError::Corrupt);
        continue;
      }
      if (end - head > capacity) return std::unexpected(RingError::BackPressured);
      head_cache.store(head, std::memory_order_release);
    }
    if (tail_word.compare_exchange_weak(tail, end, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
      if (crosses_step(tail, end, progress_step_))
        counter(TrailerSlot::TailIntent).store(end, std::memory_order_relaxed);
      break;
    }
  }
  if (padding != 0) publish_padding(at(tail), padding);
  const std::uint64_t position = tail + padding;
  // Relaxed: only the consumer's stale-claim recovery reads it, after the
  // claim has been stuck for a timeout far longer than any store delay.
  owner_word(at(position)).store(owner_tag_, std::memory_order_relaxed);
  extent_word(at(position)).store(frame_bytes, std::memory_order_relaxed);
  return Claim{at(position), position, payload_bytes};
}

std::uint64_t MpscRing::commit(const Claim& claim, const FrameFields& fields) noexcept {
  write_header(claim.frame, fields);
  publish_length(claim.frame, static_cast<std::int32_t>(frame_header_bytes + claim.payload_bytes));
  return claim.position + claim.frame_bytes();
}

void MpscRing::abort(const Claim& claim) noexcept {
  publish_padding(claim.frame, claim.frame_bytes());
}

std::expected<std::uint64_t, RingError> MpscRing::offer(std::span<const std::byte> payload,
                                        const FrameFields& fields) noexcept {
  return offer_copy(*this, payload, fields);
}

std::size_t MpscRing::stale_claim_extent(std::uint64_t head, std::uint64_t tail) const noexcept {
  std::byte* frame = at(head);
  const std::size_t to_end = geometry_.capacity_bytes - (head & mask_);
  const std::size_t limit = std::min<std::uint64_t>(to_end, tail - head);
  const std::uint64_t recorded = extent_word(frame).load(std::memory_order_relaxed);
  if (recorded >= frame_alignment && recorded % frame_alignment == 0 &&
      recorded <= align_frame(geometry_.max_frame_bytes) && recorded <= limit)
    return static_cast<std::size_t>(recorded);
  // Died before recording: its bytes are still zero up to the next claim,
  // which shows a length, an extent or an owner.
  std::size_t extent = frame_alignment;
  while (extent < limit && load_length_acquire(frame + extent) == 0 &&
         extent_word(frame + extent).load(std::memory_order_relaxed) == 0 &&
         owner_word(frame + extent).load(std::memory_order_relaxed) == 0)
    extent += frame_alignment;
  return extent;
}

std::optional<MpscRing::StuckClaim> MpscRing::stuck_claim(std::uint64_t now_ns,
                                                           std::uint64_t timeout_ns) noexcept {
  const std::uint64_t tail = producer_position();
  const std::uint64_t head = consumer_.position();
  // A misaligned head is corruption, not a stale claim: poll() reports it.
  if (tail == head || head % frame_alignment != 0 || load_length_acquire(at(head)) != 0) {
    stuck_position_ = ~std::uint64_t{0};
    return std::nullopt;
  }
  const std::size_t extent = stale_claim_extent(head, tail);
  // A claim behind an unrecorded one that records its extent moves the
  // end: the end must hold still for the whole timeout.
  if (stuck_position_ != head || stuck_extent_ != extent) {
    stuck_position_ = head;
    stuck_since_ns_ = now_ns;
    stuck_extent_ = extent;
    return std::nullopt;
  }
  if (now_ns - stuck_since_ns_ < timeout_ns) return std::nullopt;
  return StuckClaim{owner_word(at(head)).load(std::memory_order_relaxed), extent};
}

std::size_t MpscRing::pad_stuck_claim(std::size_t extent) noexcept {
  publish_padding(at(consumer_.position()), extent);
  stuck_position_ = ~std::uint64_t{0};
  return extent;
}

}  // namespace sluice::queue
