#include "queue/frame.hpp"

namespace sluice::queue {

std::string_view to_string(FrameError e) noexcept {
  switch (e) {
    case FrameError::NotCommitted: return "frame not committed";
    case FrameError::TooShort: return "frame length below header size";
    case FrameError::TooLong: return "frame length above max frame";
    case FrameError::PastRegion: return "frame extends past its region";
    case FrameError::Misaligned: return "frame offset or length not 32-byte aligned";
    case FrameError::BadType: return "unknown frame type";
  }
  return "unknown frame error";
}

namespace {

// FrameView reads the header in place, as a FrameHeader (8-byte aligned):
// memory that is not must be refused, not read misaligned.
bool is_header_aligned(const std::byte* at) noexcept {
  return reinterpret_cast<std::uintptr_t>(at) % alignof(FrameHeader) == 0;
}

}  // namespace

std::expected<FrameView, FrameError> check_frame(std::span<const std::byte> region,
                                                 std::size_t offset,
                                                 std::size_t max_frame_bytes) noexcept {
  if (offset % frame_alignment != 0 || !is_header_aligned(region.data()))
    return std::unexpected(FrameError::Misaligned);
  if (offset > region.size() || region.size() - offset < frame_header_bytes)
    return std::unexpected(FrameError::PastRegion);
  const std::byte* frame = region.data() + offset;
  return check_loaded_frame(frame, load_length_acquire(frame), region.size() - offset, max_frame_bytes);
}

std::expected<FrameView, FrameError> check_frame_bytes(std::span<const std::byte> bytes,
                                                       std::size_t max_frame_bytes) noexcept {
  if (bytes.size() < frame_header_bytes) return std::unexpected(FrameError::PastRegion);
  if (!is_header_aligned(bytes.data())) return std::unexpected(FrameError::Misaligned);
  std::int32_t length;
  std::memcpy(&length, bytes.data(), sizeof length);
  return check_loaded_frame(bytes.data(), length, bytes.size(), max_frame_bytes);
}

}  // namespace sluice::queue
