#include "queue/ring_consumer.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::queue {

RingConsumer::RingConsumer(std::span<std::byte> region, RingGeometry geometry) noexcept
    : region_(region),
      geometry_(geometry),
      position_(trailer_counter(region, geometry.capacity_bytes, TrailerSlot::Head)
                    .load(std::memory_order_acquire)),
      released_(position_) {}

void RingConsumer::release(std::uint64_t consumed) noexcept {
  if (consumed == released_) return;
  const std::uint64_t capacity = geometry_.capacity_bytes;
  for (std::uint64_t from = released_; from != consumed;) {
    const std::size_t index = from & (capacity - 1);
    const std::size_t n = std::min<std::uint64_t>(consumed - from, capacity - index);
    std::memset(region_.data() + index, 0, n);
    from += n;
  }
  released_ = consumed;
  // R2: the handler is done with, and this consumer has zeroed, every byte
  // below head. Pairs with A2 in the producers' room checks; without release
  // a producer could overwrite a frame still being read, or see the zeroing
  // land on top of its new frame.
  trailer_counter(region_, capacity, TrailerSlot::Head).store(consumed, std::memory_order_release);
}

}  // namespace sluice::queue
