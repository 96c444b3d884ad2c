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
std::size_t max_message_limit(std::size_t capacity_bytes) { return capacity_bytes / 4; }
}  // namespace

shm::Segment open_channel_segment(const ShmChannel& ch) {
  // Judged before anything is created: a segment made for a URI that is
  // then refused would make the corrected URI disagree with its geometry.
  if (ch.max_message_bytes) {
    const std::size_t capacity = ch.capacity_bytes.value_or(shm::default_capacity_bytes);
    if (*ch.max_message_bytes > max_message_limit(capacity))
      throw SetupError(fmt::format("shm:{}: max_message={} above capacity / 4 ({}{})", ch.name,
                                   *ch.max_message_bytes, max_message_limit(capacity),
                                   ch.capacity_bytes ? "" : "; capacity= is 1m by default"));
  }
  shm::SegmentOptions o;
  o.file_backed = ch.file.has_value();
  o.name = segment_name(ch);
  o.kind = ch.kind;
  // A position to replay from names frames that are already there.
  o.may_create = !ch.start_position;
  o.capacity_bytes = ch.capacity_bytes;
  o.max_frame_bytes = ch.max_frame_bytes;
  o.mode = ch.mode;
  o.stream_id = ch.stream_id;
  try {
    return shm::Segment::open_or_create(o);
  } catch (const shm::SegmentError& e) {
    throw SetupError(fmt::format("shm:{}: {}", ch.name, e.what()));
  }
}

std::size_t max_message_bytes(const ShmChannel& ch, const shm::Segment& segment) {
  const std::size_t limit = max_message_limit(segment.geometry().capacity_bytes);
  const std::size_t wanted = ch.max_message_bytes.value_or(limit);
  if (wanted > limit)
    throw SetupError(fmt::format("shm:{}: max_message={} above capacity / 4 ({})", ch.name, wanted, limit));
  return wanted;
}

}  // namespace sluice::detail
