// Control messages come from the network (DESIGN.md §2): the Verifier is the
// only thing between those bytes and our reads. Whatever it accepts must be
// readable field by field, every union member, without leaving the buffer.
//
// Input: the bytes of one would-be ControlMessage buffer.
#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>

#include "schema/sluice_generated.h"
#include "tests/fuzz/fuzz_support.hpp"

namespace {

using sluice::fuzz::check;
using namespace sluice::schema;

struct Buffer {
  const std::uint8_t* begin;
  const std::uint8_t* end;
  bool holds(const void* p, std::size_t bytes) const {
    const auto* at = static_cast<const std::uint8_t*>(p);
    return at >= begin && at <= end && bytes <= static_cast<std::size_t>(end - at);
  }
};

// Sums every field so no read is optimised away.
std::uint64_t read(const Hello& m, const Buffer& buf) {
  std::uint64_t sum = m.session_id() + m.stream_id() + m.initial_seq() + m.mtu_bytes() +
                      m.window_bytes();
  if (const auto* channel = m.channel()) {
    // The verifier promised the string and its terminating zero are inside.
    check(buf.holds(channel->data(), channel->size() + 1), "channel string inside the buffer");
    check(channel->data()[channel->size()] == '\0', "channel string is zero-terminated");
    sluice::fuzz::touch(std::as_bytes(std::span(channel->data(), channel->size())));
    sum += channel->string_view().size();
  }
  return sum;
}
std::uint64_t read(const Nak& m, const Buffer&) {
  return m.session_id() + m.stream_id() + m.first_seq() + m.count();
}
std::uint64_t read(const Status& m, const Buffer&) {
  return m.session_id() + m.stream_id() + m.consumed_position() + m.window_bytes();
}
std::uint64_t read(const RdmaRingDescriptor& m, const Buffer&) {
  return m.ring_addr() + m.ring_rkey() + m.ring_capacity_bytes() + m.max_frame_bytes() +
         m.credit_addr() + m.credit_rkey();
}

// Reads the member the type names; a member of another type must read as
// absent. A known type may still come with no table (the verifier allows
// it), so every reader has to test the pointer: we do, and count on it.
template <class Table>
std::uint64_t read_member(const ControlMessage& msg, const Table* member, ControlBody type,
                          const Buffer& buf) {
  if (msg.body_type() != type) {
    check(member == nullptr, "a member of another type reads as absent");
    return 0;
  }
  if (member == nullptr) return 0;
  check(buf.holds(member, sizeof(flatbuffers::soffset_t)), "union table inside the buffer");
  return read(*member, buf);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // FlatBuffers checks alignment relative to the buffer start: give the
  // buffer the alignment a receive buffer has.
  sluice::fuzz::AlignedBytes bytes(data, size);
  const auto* begin = reinterpret_cast<const std::uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(begin, size);
  if (!VerifyControlMessageBuffer(verifier)) return 0;

  const Buffer buf{begin, begin + size};
  const ControlMessage* msg = GetControlMessage(begin);
  check(buf.holds(msg, sizeof(flatbuffers::soffset_t)), "root table inside the buffer");
  std::uint64_t sum = static_cast<std::uint8_t>(msg->body_type());
  sum += read_member(*msg, msg->body_as_Hello(), ControlBody::Hello, buf);
  sum += read_member(*msg, msg->body_as_Nak(), ControlBody::Nak, buf);
  sum += read_member(*msg, msg->body_as_Status(), ControlBody::Status, buf);
  sum += read_member(*msg, msg->body_as_RdmaRingDescriptor(), ControlBody::RdmaRingDescriptor,
                     buf);
  volatile std::uint64_t sink = sum;
  (void)sink;
  return 0;
}
