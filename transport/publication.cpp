#include "transport/publication.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>

#include "shm/liveness.hpp"
#include "transport/context_state.hpp"
#include "transport/shm_channel.hpp"

namespace sluice {

namespace {

using Ring = std::variant<queue::SpscRing, queue::MpscRing, queue::BroadcastWriter>;

Ring make_ring(const shm::Segment& s) {
  switch (s.kind()) {
    case shm::RingKind::Spsc: return Ring(std::in_place_type<queue::SpscRing>, s.ring_region(), s.geometry());
    case shm::RingKind::Mpsc:
      // Claims carry our process tag: a stuck one is skipped only once we exited.
      return Ring(std::in_place_type<queue::MpscRing>, s.ring_region(), s.geometry(),
                  shm::ProcessTag::self().pack());
    case shm::RingKind::Broadcast:
      return Ring(std::in_place_type<queue::BroadcastWriter>, s.ring_region(), s.geometry());
  }
  throw SetupError("unknown ring kind");
}

SetupError refusal(const std::string& uri_text, shm::RingKind kind, const shm::PublisherRefusal& r) {
  if (r.owner.pid == 0)
    return SetupError(fmt::format("{}: an mpsc channel takes at most {} publishers at once", uri_text,
                                  shm::max_publishers));
  const auto silent = std::chrono::duration_cast<std::chrono::seconds>(r.silent_for);
  return SetupError(fmt::format(
      "{}: a {} channel has one publisher and {} is it{}", uri_text, shm::to_string(kind),
      shm::describe(r.owner),
      silent.count() == 0 ? ""
                          : fmt::format(" (silent for {} s: stopped or hung; end it, or remove the "
                                        "channel if no such publisher runs)",
                                        silent.count())));
}

}  // namespace

Publication::Publication(std::shared_ptr<detail::ContextState> context, const Uri& uri,
                         std::string uri_text)
    : context_(std::move(context)),
      uri_text_(std::move(uri_text)),
      segment_(detail::open_channel_segment(uri.shm)),
      ring_(make_ring(segment_)),
      notifier_(segment_.descriptor()),
      stream_id_(uri.shm.stream_id),
      max_payload_bytes_(segment_.geometry().max_frame_bytes - queue::frame_header_bytes),
      max_message_bytes_(detail::max_message_bytes(uri.shm, segment_)),
      single_frame_bytes_(std::min(max_payload_bytes_, max_message_bytes_)) {
  // Counters first: a refusal after the liveness slot was taken would
  // leave the slot held by this live process, closing the channel to
  // every other publisher (and to this one) while it runs.
  counters_ = context_->counters().allocate(CountersSegment::Role::Publication, uri_text_, stream_id_);
  const bool exclusive = segment_.kind() != shm::RingKind::Mpsc;
  const auto session =
      shm::attach_publisher(segment_.descriptor(), exclusive, context_->options().publisher_timeout);
  if (!session) {
    context_->counters().release(counters_);
    throw refusal(uri_text_, segment_.kind(), session.error());
  }
  slot_ = *session;
  // Positions read before we held the slot may be stale: a publisher that
  // was closing meanwhile (a rolling restart) wrote on after we read them.
  ring_ = make_ring(segment_);
  self_tag_ = shm::ProcessTag::self().pack();
  counters_.set_session(slot_.session_id);
  context_->add_heartbeat(segment_.descriptor().publisher_beats[slot_.index]);
}

Publication::Publication(Publication&& other) noexcept
    : context_(std::move(other.context_)),
      uri_text_(std::move(other.uri_text_)),
      segment_(std::move(other.segment_)),
      ring_(std::move(other.ring_)),
      notifier_(segment_.descriptor()),
      counters_(other.counters_),
      slot_(other.slot_),
      self_tag_(other.self_tag_),
      stream_id_(other.stream_id_),
      next_seq_(other.next_seq_),
      claim_open_(other.claim_open_),
      max_payload_bytes_(other.max_payload_bytes_),
      max_message_bytes_(other.max_message_bytes_),
      single_frame_bytes_(other.single_frame_bytes_) {
  if (claim_open_) terminate_with_claim_open("moved");
}

void Publication::terminate_with_claim_open(const char* what) noexcept {
  std::fprintf(stderr, "sluice: a Publication was %s with a claim open (commit or drop it first)\n", what);
  std::terminate();
}

Publication::~Publication() {
  if (!context_) return;  // moved from
  if (claim_open_) terminate_with_claim_open("destroyed");
  context_->remove_heartbeat(segment_.descriptor().publisher_beats[slot_.index]);
  // Leaves a slot that went to another publisher alone (detach_publisher).
  shm::detach_publisher(segment_.descriptor(), slot_, next_seq_ - 1);
  context_->counters().release(counters_);
}

Error Publication::count_refusal(queue::RingError e) noexcept {
  if (e == queue::RingError::TooLarge) return Error::TooLarge;
  if (e == queue::RingError::Corrupt) return Error::Corrupt;
  counters_.add(Counter::back_pressured);
  return Error::BackPressured;
}

std::expected<std::uint64_t, Error> Publication::offer_fragmented(
    std::span<const std::byte> message) noexcept {
  using queue::FrameFlags;
  if (message.size() > max_message_bytes_) return std::unexpected(Error::TooLarge);
  std::expected<std::uint64_t, Error> end = 0;
  for (std::size_t offset = 0; offset < message.size(); offset += max_payload_bytes_) {
    const std::size_t n = std::min(max_payload_bytes_, message.size() - offset);
    std::uint16_t flags = 0;
    if (offset == 0) flags |= queue::flags_value(FrameFlags::Begin);
    if (offset + n == message.size()) flags |= queue::flags_value(FrameFlags::End);
    // Back-pressure part-way leaves a message without its End: the
    // subscription drops and counts those fragments; the caller retries
    // the whole message, which fits once the reader catches up.
    end = offer_frame(message.subspan(offset, n), flags);
    if (!end) return end;
  }
  counters_.add(Counter::messages_sent);
  return end;
}

std::expected<Publication::Claim, Error> Publication::try_claim(std::size_t payload_bytes) noexcept {
  if (!holds_slot()) [[unlikely]] return std::unexpected(Error::Closed);
  if (claim_open_) return std::unexpected(Error::ClaimOpen);
  if (payload_bytes > max_message_bytes_) return std::unexpected(Error::TooLarge);
  auto claim = std::visit([&](auto& ring) { return ring.try_claim(payload_bytes); }, ring_);
  if (!claim) return std::unexpected(count_refusal(claim.error()));
  claim_open_ = true;
  return Claim(this, *claim);
}

std::uint64_t Publication::commit(const queue::Claim& claim) noexcept {
  claim_open_ = false;
  const std::uint64_t end = std::visit(
      [&](auto& ring) { return ring.commit(claim, fields_for(queue::unfragmented_flags)); }, ring_);
  count_published(end, claim.payload_bytes);
  counters_.add(Counter::messages_sent);
  return end;
}

void Publication::count_published(std::uint64_t end, std::size_t payload_bytes) noexcept {
  ++next_seq_;
  notifier_.after_commit();
  counters_.add(Counter::frames_sent);
  counters_.add(Counter::bytes_sent, payload_bytes);
  counters_.set(Counter::position, end);
}

void Publication::abort(const queue::Claim& claim) noexcept {
  claim_open_ = false;
  std::visit([&](auto& ring) { ring.abort(claim); }, ring_);
}

}  // namespace sluice
