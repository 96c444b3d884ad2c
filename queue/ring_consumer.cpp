#include "queue/ring_consumer.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::queue {

RingConsumer::RingConsumer(std::span<std::byte> region, RingGeometry geometry,
                           FollowsRestart follows_restart, ProgressWord progress) noexcept
    : region_(region),
      geometry_(geometry),
      position_(trailer_counter(region, geometry.capacity_bytes, TrailerSlot::Head)
                    .load(std::memory_order_acquire)),
      released_(position_),
      follows_restart_(follows_restart),
      progress_slot_(progress.slot),
      pacer_(geometry.capacity_bytes, progress.end_still) {}

void RingConsumer::zero(std::uint64_t from, std::uint64_t to) noexcept {
  const std::uint64_t capacity = geometry_.capacity_bytes;
  while (from != to) {
    const std::size_t index = from & (capacity - 1);
    const std::size_t n = std::min<std::uint64_t>(to - from, capacity - index);
    std::memset(region_.data() + index, 0, n);
    from += n;
  }
}

void RingConsumer::release(std::uint64_t consumed) noexcept {
  if (consumed == released_) return;
  // Everything but the last frame's length word, then that word: R4, the
  // signal a producer may restart the ring on (SpscRing). Frames never
  // wrap, so the word and the bytes after it are contiguous.
  zero(released_, last_frame_);
  zero(last_frame_ + sizeof(std::int32_t), consumed);
  length_word(region_.data() + (last_frame_ & (geometry_.capacity_bytes - 1)))
      .store(0, std::memory_order_release);
  released_ = consumed;
  // R2: the handler is done with, and this consumer has zeroed, every byte
  // below head. Pairs with A2 in the producers' room checks; without release
  // a producer could overwrite a frame still being read, or see the zeroing
  // land on top of its new frame.
  trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Head)
      .store(consumed, std::memory_order_release);
}

}  // namespace sluice::queue
