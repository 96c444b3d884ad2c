#include "transport/shm_channel.hpp"

#include <fmt/format.h>

#include "transport/errors.hpp"

namespace sluice::detail {

std::string segment_name(const ShmChannel& ch) {
  return ch.file ? *ch.file : "sluice-" + ch.name;
}

namespace {
// A message must fit in a quarter of the ring, so a fragmented offer that
// was back-pressured half-way can succeed on retry once the reader catches up.
constexpr std::size_t messages_per_ring = 4;
}  // namespace

shm::Segment open_channel_segment(const ShmChannel& ch) {
  shm::SegmentOptions o;
  o.file_backed = ch.file.has_value();
  o.name = segment_name(ch);
  o.kind = ch.kind;
  // A position to replay from names frames that are already there.
  o.may_create = !ch.start_position;
  o.capacity_bytes = ch.capacity_bytes;
  o.max_frame_bytes = ch.max_frame_bytes;
  o.mode = ch.mode;
  // A segment made for a URI that is then refused would make the corrected
  // URI disagree with its geometry: too small for max_message, it is not made.
  if (ch.max_message_bytes) o.min_new_capacity_bytes = *ch.max_message_bytes * messages_per_ring;
  o.stream_id = ch.stream_id;
  try {
    return shm::Segment::open_or_create(o);
  } catch (const shm::SegmentError& e) {
    throw SetupError(fmt::format("shm:{}: {}", ch.name, e.what()));
  }
}

std::size_t max_message_bytes(const ShmChannel& ch, const shm::Segment& segment) {
  const std::size_t limit = segment.geometry().capacity_bytes / messages_per_ring;
  const std::size_t wanted = ch.max_message_bytes.value_or(limit);
  if (wanted > limit)
    throw SetupError(fmt::format("shm:{}: max_message={} above capacity / 4 ({})", ch.name, wanted, limit));
  return wanted;
}

}  // namespace sluice::detail
