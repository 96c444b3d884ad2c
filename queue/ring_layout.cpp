#include "queue/ring_layout.hpp"

#if defined(__x86_64__)
#include <cpuid.h>
#endif

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

bool can_evict_lines() noexcept {
#if defined(__x86_64__)
  static const bool has_clflushopt = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (ebx & bit_CLFLUSHOPT) != 0;
  }();
  return has_clflushopt;
#else
  return false;
#endif
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
