// Frame validation over arbitrary bytes: check_frame_bytes (a datagram) and
// check_frame (ring memory at an offset) must never read outside their
// input, and a view they return must describe a frame that lies inside it.
//
// Input: [max_frame_bytes: u64][offset: u64][bytes...]
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "queue/frame.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using sluice::fuzz::check;
using namespace sluice::queue;

// What every accepted frame must satisfy, whatever the bytes were.
void check_view(const FrameView& v, const std::byte* base, std::size_t size, std::size_t offset,
                std::size_t max_frame_bytes) {
  check(v.data() == base + offset, "the view starts where it was asked to look");
  const std::size_t room = size - offset;
  const std::size_t bytes = v.frame_bytes();
  check(bytes >= frame_alignment && bytes <= room, "the frame lies inside the input");
  if (v.is_padding()) {
    check(bytes % frame_alignment == 0, "padding covers whole 32-byte slots");
    return;
  }
  check(bytes >= frame_header_bytes && bytes <= max_frame_bytes, "data frame within max_frame");
  check(align_frame(bytes) <= room, "the aligned frame ends inside the input");
  check(v.type() != FrameType::Pad, "a positive length is never padding");
  const auto payload = v.payload();
  check(payload.data() >= base && payload.data() + payload.size() <= base + size,
        "the payload lies inside the input");
  // Every header field and payload byte must be readable (ASan checks).
  volatile std::uint64_t sink = v.flags() + v.stream_id() + v.session_id() + v.seq() +
                                v.timestamp_ns() + static_cast<std::uint16_t>(v.type());
  (void)sink;
  sluice::fuzz::touch(payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::InputReader in(data, size);
  const auto max_frame_bytes = in.take<std::uint64_t>();
  const auto offset = in.take<std::uint64_t>();
  sluice::fuzz::AlignedBytes bytes(in.rest(), in.rest_size());
  const std::span<const std::byte> region(bytes.data(), bytes.size());

  // A datagram: the first frame of the bytes as received.
  if (auto v = check_frame_bytes(region, max_frame_bytes))
    check_view(*v, bytes.data(), bytes.size(), 0, max_frame_bytes);

  // Ring memory: the fuzzed offset (any value, aligned or not, in range or
  // not), then every slot a reader could be at.
  if (auto v = check_frame(region, offset, max_frame_bytes))
    check_view(*v, bytes.data(), bytes.size(), offset, max_frame_bytes);
  for (std::size_t at = 0; at <= bytes.size(); at += frame_alignment)
    if (auto v = check_frame(region, at, max_frame_bytes))
      check_view(*v, bytes.data(), bytes.size(), at, max_frame_bytes);

  // The same bytes where a FrameHeader cannot be read in place (1..7 bytes
  // off): refused, never read misaligned (UBSan would say).
  const std::size_t shift = 1 + offset % 7;
  sluice::fuzz::AlignedBytes shifted(shift + bytes.size());
  std::memcpy(shifted.data() + shift, bytes.data(), bytes.size());
  const std::span<const std::byte> misaligned(shifted.data() + shift, bytes.size());
  check(!check_frame_bytes(misaligned, max_frame_bytes), "misaligned datagram is refused");
  check(!check_frame(misaligned, 0, max_frame_bytes), "misaligned region is refused");
  return 0;
}
