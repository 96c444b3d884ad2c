// Writes the seed corpora under tests/fuzz/corpus/<target>/: a few valid
// inputs per target, made with the real writers (rings, FlatBufferBuilder),
// so the fuzzer starts from the formats' happy paths and mutates out.
//   fuzz_make_seeds DIR   (DIR = tests/fuzz/corpus)
#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/spsc_ring.hpp"
#include "schema/sluice_generated.h"
#include "shm/segment_descriptor.hpp"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

namespace fs = std::filesystem;
using namespace sluice::queue;
using Bytes = std::vector<std::uint8_t>;

fs::path root;

void write_seed(const std::string& target, const std::string& name, const Bytes& bytes) {
  fs::create_directories(root / target);
  std::ofstream(root / target / name, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

template <class T>
void append(Bytes& out, const T& value) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(&value);
  out.insert(out.end(), p, p + sizeof value);
}
void append(Bytes& out, std::span<const std::byte> bytes) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  out.insert(out.end(), p, p + bytes.size());
}

// --- frame_fuzz: [max_frame u64][offset u64][bytes] ------------------------

// Appends one committed frame (or padding when type is Pad) to `area`.
void put_frame(Bytes& area, FrameType type, std::string_view payload) {
  const std::size_t at = area.size();
  const std::size_t bytes = type == FrameType::Pad ? frame_alignment : frame_bytes_for(payload.size());
  area.resize(at + bytes);
  sluice::fuzz::AlignedBytes frame(bytes);
  write_header(frame.data(), FrameFields{.type = type, .stream_id = 7, .session_id = 3, .seq = 1});
  std::memcpy(frame.data() + frame_header_bytes, payload.data(), payload.size());
  const auto length = type == FrameType::Pad ? -static_cast<std::int32_t>(bytes)
                                             : static_cast<std::int32_t>(frame_header_bytes + payload.size());
  publish_length(frame.data(), length);
  std::memcpy(area.data() + at, frame.data(), bytes);
}

void frame_seed(const std::string& name, std::uint64_t max_frame, std::uint64_t offset,
                const Bytes& area) {
  Bytes out;
  append(out, max_frame);
  append(out, offset);
  out.insert(out.end(), area.begin(), area.end());
  write_seed("frame_fuzz", name, out);
}

void frame_seeds() {
  Bytes one;
  put_frame(one, FrameType::Data, "a data frame with forty bytes of payload");
  frame_seed("data", 256, 0, one);
  Bytes padded;
  put_frame(padded, FrameType::Pad, "");
  put_frame(padded, FrameType::Data, "after padding");
  frame_seed("padding_then_data", 256, 32, padded);
  Bytes heartbeat;
  put_frame(heartbeat, FrameType::Heartbeat, "");
  frame_seed("heartbeat", 64, 0, heartbeat);
  Bytes two;
  put_frame(two, FrameType::Data, "first");
  put_frame(two, FrameType::Control, "second, a control frame");
  frame_seed("two_frames", 128, 64, two);
}

// --- control_message_fuzz: one ControlMessage buffer ------------------------

void control_seed(const std::string& name, flatbuffers::FlatBufferBuilder& b) {
  write_seed("control_message_fuzz", name, Bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()));
}

void control_seeds() {
  using namespace sluice::schema;
  {
    flatbuffers::FlatBufferBuilder b;
    auto hello = CreateHello(b, 3, 7, 1, 1500, 65536, b.CreateString("orders"));
    b.Finish(CreateControlMessage(b, ControlBody::Hello, hello.Union()));
    control_seed("hello", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    b.Finish(CreateControlMessage(b, ControlBody::Nak, CreateNak(b, 3, 7, 100, 5).Union()));
    control_seed("nak", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    b.Finish(CreateControlMessage(b, ControlBody::Status, CreateStatus(b, 3, 7, 4096, 65536).Union()));
    control_seed("status", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    auto d = CreateRdmaRingDescriptor(b, 0x7f0000001000, 0x1234, 1 << 20, 65536, 0x7f0000200000, 0x5678);
    b.Finish(CreateControlMessage(b, ControlBody::RdmaRingDescriptor, d.Union()));
    control_seed("rdma_ring_descriptor", b);
  }
  {
    flatbuffers::FlatBufferBuilder b;
    b.Finish(CreateControlMessage(b));
    control_seed("no_body", b);
  }
}

// --- uri_fuzz: URI text -----------------------------------------------------

void uri_seeds() {
  const std::pair<const char*, std::string_view> uris[] = {
      {"name_only", "shm:orders"},
      {"spsc_sizes", "shm:orders?kind=spsc&capacity=1m&max_frame=64k&max_message=256k"},
      {"mpsc_block", "shm:fills.v2?kind=mpsc&wait=block&stream=42&mode=0640"},
      {"broadcast_journal", "shm:md_feed-A?kind=broadcast&start=earliest&file=/tmp/md.journal&capacity=4M"},
  };
  for (const auto& [name, text] : uris) write_seed("uri_fuzz", name, Bytes(text.begin(), text.end()));
}

// --- segment_descriptor_fuzz: [mapped_bytes u64][descriptor] ----------------

void descriptor_seed(const std::string& name, sluice::shm::RingKind kind, std::uint64_t capacity,
                     std::uint64_t max_frame, std::uint64_t mapped_bytes) {
  sluice::shm::SegmentDescriptor d{};
  d.magic = sluice::shm::segment_magic;
  d.layout_version = sluice::shm::segment_layout_version;
  d.ring_kind = kind;
  d.capacity_bytes = capacity;
  d.max_frame_bytes = max_frame;
  d.segment_bytes = sluice::shm::ring_offset + ring_required_bytes(capacity);
  d.creator_pid = 4242;
  d.stream_id = 7;
  Bytes out;
  append(out, mapped_bytes == 0 ? d.segment_bytes : mapped_bytes);
  append(out, d);
  write_seed("segment_descriptor_fuzz", name, out);
}

void descriptor_seeds() {
  using sluice::shm::RingKind;
  descriptor_seed("spsc_1k", RingKind::Spsc, 1024, 128, 0);
  descriptor_seed("mpsc_64k", RingKind::Mpsc, 64 << 10, 8 << 10, 0);
  descriptor_seed("broadcast_1m", RingKind::Broadcast, 1 << 20, 64 << 10, 0);
  descriptor_seed("truncated", RingKind::Spsc, 4096, 512, 4096);
}

// --- ring_fuzz: [params][trailer counters][data area] -----------------------

constexpr std::size_t seed_capacity = 1024;
const RingGeometry seed_geometry{seed_capacity, 128};

void ring_seed(const std::string& name, sluice::fuzz::AlignedBytes& region, std::uint8_t limit) {
  Bytes out{0 /* 1 KiB */, 2 /* max_frame 128 */, limit, 2 /* stale timeout */, 0, 0, 0, 0};
  for (auto slot : {TrailerSlot::Tail, TrailerSlot::Head, TrailerSlot::TailIntent,
                    TrailerSlot::HeadCache})
    append(out, trailer_counter(region.span(), seed_capacity, slot).load());
  append(out, std::span<const std::byte>(region.data(), seed_capacity));
  write_seed("ring_fuzz", name, out);
}

std::vector<std::byte> payload(std::size_t bytes, int fill) {
  return std::vector<std::byte>(bytes, static_cast<std::byte>(fill));
}

template <class Ring>
void offer_n(Ring& ring, int count, std::size_t bytes) {
  for (int i = 0; i < count; ++i)
    (void)ring.offer(payload(bytes, i), FrameFields{.seq = static_cast<std::uint64_t>(i + 1)});
}

void ring_seeds() {
  const auto drain = [](const FrameView&) {};
  {  // Unread frames after a wrap: padding at the end, frames at the start.
    sluice::fuzz::AlignedBytes region(ring_required_bytes(seed_capacity));
    SpscRing ring(region.span(), seed_geometry);
    offer_n(ring, 8, 70);
    (void)ring.poll(drain, 6);
    offer_n(ring, 5, 40);
    ring_seed("spsc_wrapped", region, 4);
  }
  {  // A producer that died between claim and commit, frames behind it.
    sluice::fuzz::AlignedBytes region(ring_required_bytes(seed_capacity));
    MpscRing ring(region.span(), seed_geometry);
    offer_n(ring, 3, 20);
    (void)ring.try_claim(50);
    offer_n(ring, 3, 60);
    ring_seed("mpsc_stale_claim", region, 8);
  }
  {  // Several laps: the earliest intact lap and a padding frame per lap.
    sluice::fuzz::AlignedBytes region(ring_required_bytes(seed_capacity));
    BroadcastWriter writer(region.span(), seed_geometry);
    offer_n(writer, 40, 50);
    ring_seed("broadcast_laps", region, 16);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];
  frame_seeds();
  control_seeds();
  uri_seeds();
  descriptor_seeds();
  ring_seeds();
  return 0;
}
