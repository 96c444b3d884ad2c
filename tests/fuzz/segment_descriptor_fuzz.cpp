// A segment's descriptor is written by whichever process created it:
// describe_invalid() is what stands between those bytes and the geometry
// every ring trusts. Whatever it accepts must be a geometry the rings can
// run on without leaving the mapping.
//
// Input: [mapped_bytes: u64][SegmentDescriptor bytes, zero-filled to 1 KiB]
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/spsc_ring.hpp"
#include "shm/segment.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using sluice::fuzz::check;
using namespace sluice::shm;
using namespace sluice::queue;

// Rings small enough to build per input: a round trip proves the accepted
// geometry works, not just that it passes arithmetic.
constexpr std::size_t max_round_trip_capacity = 64 << 10;

template <class Writer, class Reader>
void round_trip(Writer& writer, Reader& reader, std::size_t payload_bytes) {
  const FrameFields fields{.stream_id = 1, .session_id = 2, .seq = 3};
  sluice::fuzz::AlignedBytes payload(payload_bytes);
  std::memset(payload.data(), 0x5a, payload_bytes);
  check(writer.offer(payload.span(), fields).has_value(), "an empty ring takes a max-size frame");
  std::size_t seen = 0;
  auto got = reader.poll([&](const FrameView& v) { seen = v.payload().size(); }, 4);
  check(got.has_value() && *got == 1 && seen == payload_bytes, "the frame comes back whole");
}

void exercise(const SegmentDescriptor& d) {
  const RingGeometry g{d.capacity_bytes, d.max_frame_bytes};
  sluice::fuzz::AlignedBytes region(ring_required_bytes(g.capacity_bytes));
  const std::size_t payload_bytes = g.max_frame_bytes - frame_header_bytes;
  switch (d.ring_kind) {
    case RingKind::Spsc: {
      SpscRing ring(region.span(), g);
      round_trip(ring, ring, payload_bytes);
      break;
    }
    case RingKind::Mpsc: {
      MpscRing ring(region.span(), g);
      round_trip(ring, ring, payload_bytes);
      break;
    }
    case RingKind::Broadcast: {
      BroadcastWriter writer(region.span(), g);
      BroadcastReader reader(region.span(), g, ReaderStart::Earliest);
      round_trip(writer, reader, payload_bytes);
      break;
    }
  }
}

void check_accepted(const SegmentDescriptor& d, std::uint64_t mapped_bytes) {
  check(d.magic == segment_magic && d.layout_version == segment_layout_version,
        "identity checked");
  check(d.ring_kind == RingKind::Spsc || d.ring_kind == RingKind::Mpsc ||
            d.ring_kind == RingKind::Broadcast,
        "ring kind is known");
  check(std::has_single_bit(d.capacity_bytes), "capacity is a power of two");
  check(d.capacity_bytes >= min_ring_capacity_bytes, "capacity at least the minimum");
  check(d.max_frame_bytes > frame_header_bytes && d.max_frame_bytes % frame_alignment == 0,
        "max_frame holds a header and payload, in whole slots");
  check(d.max_frame_bytes <= d.capacity_bytes / 8, "max_frame <= capacity / 8");
  check(d.segment_bytes == ring_offset + ring_required_bytes(d.capacity_bytes),
        "segment_bytes matches the capacity");
  check(d.segment_bytes <= mapped_bytes, "the mapping holds the whole segment");
  if (d.capacity_bytes <= max_round_trip_capacity) exercise(d);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::InputReader in(data, size);
  const auto mapped_bytes = in.take<std::uint64_t>();
  // Aligned like the mapping (alignas(64)), zero past the input's end.
  SegmentDescriptor d{};
  std::memcpy(&d, in.rest(), std::min(sizeof d, in.rest_size()));
  if (describe_invalid(d, mapped_bytes).empty()) check_accepted(d, mapped_bytes);
  return 0;
}
