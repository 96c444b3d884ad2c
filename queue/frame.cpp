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

bool is_known_type(std::uint16_t type) noexcept {
  return type >= static_cast<std::uint16_t>(FrameType::MIN) &&
         type <= static_cast<std::uint16_t>(FrameType::MAX);
}

}  // namespace

// `length` was read once; the rest of the header is only trusted after
// these checks pass.
std::expected<FrameView, FrameError> check_loaded_frame(const std::byte* frame, std::int32_t length,
                                              std::size_t room_bytes,
                                              std::size_t max_frame_bytes) noexcept {
  if (length == 0) return std::unexpected(FrameError::NotCommitted);
  if (length < 0) {
    // Padding: its extent is -length and it must end inside the region.
    const auto pad = static_cast<std::size_t>(-static_cast<std::int64_t>(length));
    if (pad < frame_alignment) return std::unexpected(FrameError::TooShort);
    if (pad % frame_alignment != 0) return std::unexpected(FrameError::Misaligned);
    if (pad > room_bytes) return std::unexpected(FrameError::PastRegion);
    return FrameView(frame, length);
  }
  const auto bytes = static_cast<std::size_t>(length);
  if (bytes < frame_header_bytes) return std::unexpected(FrameError::TooShort);
  if (bytes > max_frame_bytes) return std::unexpected(FrameError::TooLong);
  if (align_frame(bytes) > room_bytes) return std::unexpected(FrameError::PastRegion);
  FrameView view(frame, length);
  if (!is_known_type(view.header().type()) || view.type() == FrameType::Pad)
    return std::unexpected(FrameError::BadType);
  return view;
}

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
