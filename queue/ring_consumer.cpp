#include "queue/ring_consumer.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::queue {

RingConsumer::RingConsumer(std::span<std::byte> region, RingGeometry geometry,
                           FollowsRestart follows_restart, ProgressWord progress) noexcept
    : region_(region),
      geometry_(geometry),
      data_(region.data()),
      mask_(geometry.capacity_bytes - 1),
      position_(trailer_counter(region, geometry.capacity_bytes, TrailerSlot::Head)
                    .load(std::memory_order_acquire)),
      released_(position_),
      pacer_(geometry.capacity_bytes, progress.end_polls),
      follows_restart_(follows_restart),
      progress_slot_(progress.slot) {
  watch_drained();
}

void RingConsumer::watch_drained() noexcept {
  idle_word_ = position_ % frame_alignment == 0 ? at(position_) : nullptr;
  const std::uint64_t lap_start = (position_ | mask_) + 1;
  restart_word_ = follows_restart_ == FollowsRestart::yes && lap_start - position_ != geometry_.capacity_bytes
                      ? at(lap_start)
                      : nullptr;
}

void RingConsumer::zero(std::uint64_t from, std::uint64_t to) noexcept {
  const std::uint64_t capacity = geometry_.capacity_bytes;
  while (from != to) {
    const std::size_t index = from & mask_;
    const std::size_t n = std::min<std::uint64_t>(to - from, capacity - index);
    std::memset(data_ + index, 0, n);
    from += n;
  }
}

void RingConsumer::release(std::uint64_t consumed) noexcept {
  if (consumed == released_) return;
  // Everything but the last frame's length word, then that word: R4, the
  // signal a producer may restart the ring on (SpscRing). Frames never
  // wrap, so the word and the bytes after it up to `consumed` (the next
  // frame's position) are contiguous.
  if (released_ != last_frame_) zero(released_, last_frame_);
  std::byte* last = at(last_frame_);
  std::memset(last + sizeof(std::int32_t), 0, consumed - last_frame_ - sizeof(std::int32_t));
  length_word(last).store(0, std::memory_order_release);
  released_ = consumed;
  // R2: the handler is done with, and this consumer has zeroed, every byte
  // below head. Pairs with A2 in the producers' room checks; without release
  // a producer could overwrite a frame still being read, or see the zeroing
  // land on top of its new frame.
  trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Head)
      .store(consumed, std::memory_order_release);
  if (released_ == position_) watch_drained();
}

}  // namespace sluice::queue
