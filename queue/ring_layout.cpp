#include "queue/ring_layout.hpp"

#include <algorithm>
#include <cstring>

namespace sluice::queue {

std::string_view to_string(RingError e) noexcept {
  switch (e) {
    case RingError::BackPressured: return "back-pressured";
    case RingError::TooLarge: return "frame larger than max_frame";
    case RingError::Corrupt: return "ring corrupt";
    case RingError::Lapped: return "reader lapped";
  }
  return "unknown ring error";
}

void ConsumerRelease::release(std::uint64_t consumed) noexcept {
  if (consumed == released_) return;
  const std::uint64_t mask = capacity_bytes_ - 1;
  std::uint64_t from = released_;
  while (from != consumed) {
    const std::size_t index = from & mask;
    const std::size_t n = std::min<std::uint64_t>(consumed - from, capacity_bytes_ - index);
    std::memset(region_.data() + index, 0, n);
    from += n;
  }
  released_ = consumed;
  // R2: the handler is done with, and this consumer has zeroed, every byte
  // below head. Pairs with A2 in the producers' room checks; without release
  // a producer could overwrite a frame still being read, or see the zeroing
  // land on top of its new frame.
  trailer_counter(region_, capacity_bytes_, TrailerSlot::Head).store(consumed, std::memory_order_release);
}

std::string_view RingGeometry::problem() const noexcept {
  if (!std::has_single_bit(capacity_bytes)) return "capacity is not a power of two";
  if (capacity_bytes < min_ring_capacity_bytes) return "capacity below 1 KiB";
  if (capacity_bytes > (std::size_t{1} << 30)) return "capacity above 1 GiB";
  if (max_frame_bytes < frame_header_bytes + 1) return "max_frame too small";
  if (max_frame_bytes % frame_alignment != 0) return "max_frame not a multiple of 32";
  if (max_frame_bytes > capacity_bytes / 8) return "max_frame above capacity / 8";
  return {};
}

}  // namespace sluice::queue
