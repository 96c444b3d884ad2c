#include "queue/ring_layout.hpp"


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
