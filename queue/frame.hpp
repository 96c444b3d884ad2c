// Frames: the unit every ring and every transport moves.
//
// A frame is a 32-byte FrameHeader (schema/sluice.fbs) followed by the
// payload, padded so the next frame starts 32-byte aligned. The header's
// `length` word doubles as the commit flag: a writer fills everything else,
// then release-stores `length`; a reader acquire-loads it and ignores the
// frame while it reads 0. Negative lengths mark padding to the region's end.
//
// Anything read from memory another process or host wrote is untrusted:
// `check_frame` validates a header against its region before any field
// other than `length` is used, and reports what was wrong as a value.
#pragma once

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <expected>
#include <span>
#include <string_view>

#include "schema/sluice_generated.h"

namespace sluice::queue {

using schema::FrameFlags;
using schema::FrameHeader;
using schema::FrameType;

inline constexpr std::size_t frame_header_bytes = 32;
inline constexpr std::size_t frame_alignment = 32;
inline constexpr std::size_t cache_line_bytes = 64;

static_assert(sizeof(FrameHeader) == frame_header_bytes);
static_assert(alignof(FrameHeader) == 8);
static_assert(std::is_trivially_copyable_v<FrameHeader>);

// The layout is frozen: every ring, segment and wire format depends on it.
namespace header_offset {
inline constexpr std::size_t length = 0;
inline constexpr std::size_t type = 4;
inline constexpr std::size_t flags = 6;
inline constexpr std::size_t stream_id = 8;
inline constexpr std::size_t session_id = 12;
inline constexpr std::size_t seq = 16;
inline constexpr std::size_t timestamp_ns = 24;
}  // namespace header_offset

constexpr std::size_t align_frame(std::size_t bytes) noexcept {
  return (bytes + frame_alignment - 1) & ~(frame_alignment - 1);
}

// Bytes a frame with `payload_bytes` of payload occupies in a ring.
constexpr std::size_t frame_bytes_for(std::size_t payload_bytes) noexcept {
  return align_frame(frame_header_bytes + payload_bytes);
}

constexpr std::uint16_t flags_value(FrameFlags f) noexcept {
  return static_cast<std::uint16_t>(f);
}
inline constexpr std::uint16_t unfragmented_flags =
    flags_value(FrameFlags::Begin) | flags_value(FrameFlags::End);
// Flags a ring sets for its own consumer; FrameView::flags() hides them.
inline constexpr std::uint16_t ring_only_flags = flags_value(FrameFlags::LapRestart);

// What a reader found wrong with a frame it did not write.
enum class FrameError : std::uint8_t {
  NotCommitted,  // length 0: the writer has not published it yet; poll again
  TooShort,      // length below the header size: corrupt, stop reading this region
  TooLong,       // length above the region's max frame: corrupt or foreign
  PastRegion,    // frame would extend beyond the region: corrupt or foreign
  Misaligned,    // offset or length not a multiple of 32: corrupt
  BadType,       // unknown FrameType: corrupt or from a newer version
};
std::string_view to_string(FrameError e) noexcept;

// The length word as an atomic, in place. Frames are 32-byte aligned, so the
// word is 4-byte aligned and lock-free atomic across processes.
inline std::atomic_ref<std::int32_t> length_word(std::byte* frame) noexcept {
  return std::atomic_ref<std::int32_t>(*reinterpret_cast<std::int32_t*>(frame));
}
inline std::int32_t load_length_acquire(const std::byte* frame) noexcept {
  // A1: pairs with R1 in publish_length(): seeing length != 0 makes every
  // header field and payload byte written before it visible.
  return length_word(const_cast<std::byte*>(frame)).load(std::memory_order_acquire);
}
inline void publish_length(std::byte* frame, std::int32_t length) noexcept {
  // R1: header fields and payload before length. Without release a reader
  // could see the length and then read stale payload bytes.
  length_word(frame).store(length, std::memory_order_release);
}

// Whether a committed frame (length already acquired) carries LapRestart.
inline bool restarts_lap(const std::byte* frame) noexcept {
  std::uint16_t flags;
  std::memcpy(&flags, frame + header_offset::flags, sizeof flags);
  return (flags & flags_value(FrameFlags::LapRestart)) != 0;
}

// Where the frame after the one at `position` starts. After a frame that
// restarts a lap, the next one starts on a fresh cache line: a consumer
// waiting there then polls a line the producer does not write while it
// fills the restarting frame (sharing it cost ~1.35x per round trip in a
// bare two-process probe).
inline std::uint64_t next_frame_position(std::uint64_t position, std::size_t frame_bytes,
                                         std::uint16_t flags) noexcept {
  const std::uint64_t end = position + frame_bytes;
  if ((flags & flags_value(FrameFlags::LapRestart)) == 0) return end;
  return (end + cache_line_bytes - 1) & ~std::uint64_t{cache_line_bytes - 1};
}

// Header fields other than length, as the writer supplies them.
struct FrameFields {
  FrameType type = FrameType::Data;
  std::uint16_t flags = unfragmented_flags;
  std::uint32_t stream_id = 0;
  std::uint32_t session_id = 0;
  std::uint64_t seq = 0;
  std::uint64_t timestamp_ns = 0;
};

// Writes every header field but length (left alone: a reader may be
// polling it), with `ring_flags` (ring_only_flags) added to the writer's.
// Field by field into place: composing a FrameHeader on the stack and
// copying it at an offset stalls on store forwarding (so does copying
// FrameFields to add a flag: GCC moves seq and timestamp as one 16-byte
// load of the two 8-byte stores that made them).
inline void write_header(std::byte* frame, const FrameFields& f, std::uint16_t ring_flags = 0) noexcept {
  const auto type = static_cast<std::uint16_t>(f.type);
  const auto flags = static_cast<std::uint16_t>(f.flags | ring_flags);
  std::memcpy(frame + header_offset::type, &type, sizeof type);
  std::memcpy(frame + header_offset::flags, &flags, sizeof flags);
  std::memcpy(frame + header_offset::stream_id, &f.stream_id, sizeof f.stream_id);
  std::memcpy(frame + header_offset::session_id, &f.session_id, sizeof f.session_id);
  std::memcpy(frame + header_offset::seq, &f.seq, sizeof f.seq);
  std::memcpy(frame + header_offset::timestamp_ns, &f.timestamp_ns, sizeof f.timestamp_ns);
}
static_assert(std::endian::native == std::endian::little,
              "frames are little-endian and written in place");

// A header's stream_id and session_id, adjacent and little-endian, as one
// word: a reader tells its stream's frames apart with one compare.
static_assert(header_offset::session_id == header_offset::stream_id + 4);
constexpr std::uint64_t pack_stream_session(std::uint32_t stream_id, std::uint32_t session_id) noexcept {
  return std::uint64_t{stream_id} | std::uint64_t{session_id} << 32;
}

// A committed frame, read in place. Never copies; valid while the region
// it points into is not reused by the writer.
class FrameView {
 public:
  FrameView() = default;
  explicit FrameView(const std::byte* frame, std::int32_t length) noexcept
      : frame_(frame), length_(length) {}

  const FrameHeader& header() const noexcept {
    return *reinterpret_cast<const FrameHeader*>(frame_);
  }
  // Bytes the frame occupies, header included (padding: its whole extent).
  std::size_t frame_bytes() const noexcept {
    return static_cast<std::size_t>(length_ < 0 ? -static_cast<std::int64_t>(length_) : length_);
  }
  bool is_padding() const noexcept { return length_ < 0; }
  FrameType type() const noexcept { return static_cast<FrameType>(header().type()); }
  // The message's flags (ring-internal ones removed).
  std::uint16_t flags() const noexcept { return header().flags() & ~ring_only_flags; }
  std::uint32_t stream_id() const noexcept { return header().stream_id(); }
  std::uint32_t session_id() const noexcept { return header().session_id(); }
  std::uint64_t seq() const noexcept { return header().seq(); }
  // stream_id and session_id as one word (pack_stream_session).
  std::uint64_t stream_and_session() const noexcept {
    std::uint64_t ids;
    std::memcpy(&ids, frame_ + header_offset::stream_id, sizeof ids);
    return ids;
  }
  std::uint64_t timestamp_ns() const noexcept { return header().timestamp_ns(); }
  bool has_flag(FrameFlags f) const noexcept { return (flags() & flags_value(f)) != 0; }
  std::span<const std::byte> payload() const noexcept {
    return {frame_ + frame_header_bytes, frame_bytes() - frame_header_bytes};
  }
  const std::byte* data() const noexcept { return frame_; }

 private:
  const std::byte* frame_ = nullptr;
  std::int32_t length_ = 0;
};

inline bool is_known_type(std::uint16_t type) noexcept {
  return type >= static_cast<std::uint16_t>(FrameType::MIN) &&
         type <= static_cast<std::uint16_t>(FrameType::MAX);
}

// Validates a frame whose length word was already loaded (acquire) as
// `length`, with `room_bytes` from the frame to the region's end. The rest
// of the header is only trusted after these checks pass. Inline: every
// ring's consumer runs it once per frame, on the latency path.
inline std::expected<FrameView, FrameError> check_loaded_frame(const std::byte* frame,
                                                               std::int32_t length,
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

// Validates the frame at `offset` of `region` (acquire-loading its length)
// without trusting anything in it. `max_frame_bytes` bounds a data frame;
// padding may run to the region's end and comes back with is_padding() set
// and frame_bytes() its extent (its other header fields mean nothing).
std::expected<FrameView, FrameError> check_frame(std::span<const std::byte> region,
                                                 std::size_t offset,
                                                 std::size_t max_frame_bytes) noexcept;

// Checks the first frame of bytes already copied out of untrusted memory (a
// datagram): like check_frame, with `bytes` as the region. Both refuse a
// region not 8-byte aligned (Misaligned): the header is read in place.
std::expected<FrameView, FrameError> check_frame_bytes(std::span<const std::byte> bytes,
                                                       std::size_t max_frame_bytes) noexcept;

}  // namespace sluice::queue
