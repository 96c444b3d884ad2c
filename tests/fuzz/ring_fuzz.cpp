// Ring consumers over hostile memory. The other side of a ring may be
// another process, buggy, dead mid-write or malicious: whatever the data
// area and the trailer counters hold, a consumer must not crash, read or
// write outside the region, hang, or hand out a frame outside the data area.
// Geometry is not fuzzed here: it is validated once at attach time (see
// segment_descriptor_fuzz.cpp); the rings trust it, and nothing else.
//
// Input: [capacity: u8][max_frame: u8][limit: u8][stale_timeout: u8][4 spare]
//        [tail][head][tail_intent][head_cache: u64 each, the trailer slots]
//        [data area bytes, zero-filled to capacity]
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/spsc_ring.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using sluice::fuzz::check;
using namespace sluice::queue;

constexpr int polls_per_ring = 8;

struct Params {
  RingGeometry geometry;
  std::size_t limit;
  std::uint64_t stale_timeout_ns;
};

Params read_params(sluice::fuzz::InputReader& in) {
  Params p{};
  // 1 or 2 KiB: small enough that the fuzzer's inputs cover the whole area.
  p.geometry.capacity_bytes = min_ring_capacity_bytes << (in.take<std::uint8_t>() & 1);
  // Every valid max_frame: 64 .. capacity / 8 in 32-byte steps.
  const std::size_t choices = p.geometry.capacity_bytes / 8 / frame_alignment - 1;
  p.geometry.max_frame_bytes = 2 * frame_alignment + frame_alignment * (in.take<std::uint8_t>() % choices);
  p.limit = 1 + in.take<std::uint8_t>() % 16;
  p.stale_timeout_ns = in.take<std::uint8_t>() % 4;
  in.take<std::uint32_t>();  // spare, keeps the counters 8-byte aligned in the input
  return p;
}

// Lays the input out as a ring region: counters into their trailer slots,
// then the data area.
void fill_region(sluice::fuzz::AlignedBytes& region, std::size_t capacity,
                 sluice::fuzz::InputReader in) {
  for (auto slot : {TrailerSlot::Tail, TrailerSlot::Head, TrailerSlot::TailIntent,
                    TrailerSlot::HeadCache})
    trailer_counter(region.span(), capacity, slot).store(in.take<std::uint64_t>());
  std::memcpy(region.data(), in.rest(), std::min(capacity, in.rest_size()));
}

// A frame delivered in place must lie inside the data area and be a whole,
// readable data frame.
auto in_place_checker(const sluice::fuzz::AlignedBytes& region, const Params& p) {
  const std::byte* area = region.data();
  return [area, p](const FrameView& v) {
    check(!v.is_padding(), "padding is never delivered");
    check(v.frame_bytes() >= frame_header_bytes && v.frame_bytes() <= p.geometry.max_frame_bytes,
          "a delivered frame is within max_frame");
    check(v.data() >= area && v.data() + v.frame_bytes() <= area + p.geometry.capacity_bytes,
          "a delivered frame lies inside the data area");
    sluice::fuzz::touch(v.payload());
  };
}

void run_spsc(const Params& p, const sluice::fuzz::InputReader& in) {
  sluice::fuzz::AlignedBytes region(ring_required_bytes(p.geometry.capacity_bytes));
  fill_region(region, p.geometry.capacity_bytes, in);
  SpscRing ring(region.span(), p.geometry);
  const auto checker = in_place_checker(region, p);
  for (int i = 0; i < polls_per_ring; ++i) {
    auto got = ring.poll(checker, p.limit);
    check(!got || *got <= p.limit, "poll delivers at most limit frames");
    (void)ring.has_data();
  }
}

void run_mpsc(const Params& p, const sluice::fuzz::InputReader& in) {
  sluice::fuzz::AlignedBytes region(ring_required_bytes(p.geometry.capacity_bytes));
  fill_region(region, p.geometry.capacity_bytes, in);
  MpscRing ring(region.span(), p.geometry);
  const auto checker = in_place_checker(region, p);
  for (int i = 0; i < polls_per_ring; ++i) {
    auto got = ring.poll(checker, p.limit);
    check(!got || *got <= p.limit, "poll delivers at most limit frames");
    // A fake clock one tick per poll: stale claims time out within the run.
    if (got && *got == 0) {
      if (auto padded = ring.unblock_stale_claim(static_cast<std::uint64_t>(i), p.stale_timeout_ns))
        check(*padded >= frame_alignment && *padded % frame_alignment == 0 &&
                  *padded <= p.geometry.capacity_bytes,
              "a stale claim becomes whole padding slots inside the area");
    }
  }
}

void run_broadcast(const Params& p, const sluice::fuzz::InputReader& in, ReaderStart start) {
  sluice::fuzz::AlignedBytes region(ring_required_bytes(p.geometry.capacity_bytes));
  fill_region(region, p.geometry.capacity_bytes, in);
  BroadcastReader reader(region.span(), p.geometry, start);
  for (int i = 0; i < polls_per_ring; ++i) {
    // Broadcast frames are copies in the reader's scratch: ASan checks the
    // payload reads stay inside it.
    auto got = reader.poll(
        [&](const FrameView& v) {
          check(!v.is_padding(), "padding is never delivered");
          check(v.frame_bytes() >= frame_header_bytes &&
                    v.frame_bytes() <= p.geometry.max_frame_bytes,
                "a delivered frame is within max_frame");
          sluice::fuzz::touch(v.payload());
        },
        p.limit);
    check(!got || *got <= p.limit, "poll delivers at most limit frames");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  sluice::fuzz::InputReader in(data, size);
  const Params p = read_params(in);
  run_spsc(p, in);
  run_mpsc(p, in);
  run_broadcast(p, in, ReaderStart::Earliest);
  run_broadcast(p, in, ReaderStart::Live);
  return 0;
}
