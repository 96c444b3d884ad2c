#include "transport/subscription.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "shm/liveness.hpp"
#include "transport/context_state.hpp"
#include "transport/shm_channel.hpp"

namespace sluice {

namespace {

using Ring = std::variant<queue::SpscRing, queue::MpscRing, queue::BroadcastReader>;

Ring make_ring(const shm::Segment& s, queue::ReaderStart start) {
  switch (s.kind()) {
    case shm::RingKind::Spsc: return Ring(std::in_place_type<queue::SpscRing>, s.ring_region(), s.geometry());
    case shm::RingKind::Mpsc: return Ring(std::in_place_type<queue::MpscRing>, s.ring_region(), s.geometry());
    case shm::RingKind::Broadcast:
      return Ring(std::in_place_type<queue::BroadcastReader>, s.ring_region(), s.geometry(), start);
  }
  throw SetupError("unknown ring kind");
}

constexpr std::size_t max_sessions = 64;

}  // namespace

Subscription::Subscription(std::shared_ptr<detail::ContextState> context, const Uri& uri,
                           std::string uri_text)
    : context_(std::move(context)),
      uri_text_(std::move(uri_text)),
      segment_(detail::open_channel_segment(uri.shm)),
      ring_(make_ring(segment_, uri.shm.start.value_or(queue::ReaderStart::Live))),
      waiter_(uri.shm.wait, segment_.descriptor()),
      wait_(uri.shm.wait),
      max_message_bytes_(detail::max_message_bytes(uri.shm, segment_)) {
  // Only a broadcast ring may have several readers: a second spsc/mpsc
  // consumer would race the first over the same frames.
  exclusive_ = segment_.kind() != shm::RingKind::Broadcast;
  first_new_session_ = shm::shared(segment_.descriptor().next_session_id).load(std::memory_order_acquire);
  if (uri.shm.start_position) start_at(*uri.shm.start_position);
  sessions_.reserve(max_sessions);
  // Counters before the subscriber slot: a refusal after the slot was taken
  // would leave it held by this live process, closing the channel to every
  // other subscriber (and to this one) while it runs.
  counters_ = context_->counters().allocate(CountersSegment::Role::Subscription, uri_text_,
                                            uri.shm.stream_id);
  shm::ProcessTag owner;
  if (exclusive_ &&
      !shm::attach_subscriber(segment_.descriptor(), context_->options().subscriber_timeout, &owner)) {
    context_->counters().release(counters_);
    throw SetupError(fmt::format("{}: a {} channel has one subscriber and {} is it", uri_text_,
                                 shm::to_string(segment_.kind()), shm::describe(owner)));
  }
  if (exclusive_) {
    // Positions read before we held the slot may be stale: a subscriber
    // that was leaving meanwhile read (and handed back) more after we read them.
    ring_ = make_ring(segment_, queue::ReaderStart::Live);
    self_tag_ = shm::ProcessTag::self().pack();
    shm::forget_parked_readers(segment_.descriptor());  // none can be parked: we are the reader
  }
  counters_.set(Counter::position, position());  // where it starts, before any poll
  // Last: nothing may throw after it (the keeper would beat into the
  // segment this object unmaps).
  if (exclusive_) context_->add_heartbeat(segment_.descriptor().subscriber_beat);
}

Subscription::Subscription(Subscription&& o) noexcept
    : context_(std::move(o.context_)),
      uri_text_(std::move(o.uri_text_)),
      segment_(std::move(o.segment_)),
      ring_(std::move(o.ring_)),
      waiter_(o.waiter_),
      wait_(o.wait_),
      counters_(o.counters_),
      max_message_bytes_(o.max_message_bytes_),
      sessions_(std::move(o.sessions_)),
      last_session_(std::exchange(o.last_session_, nullptr)),  // into sessions_' buffer, which moved
      session_switches_(o.session_switches_),
      idle_polls_(o.idle_polls_),
      lapped_seen_(o.lapped_seen_),
      exclusive_(o.exclusive_),
      self_tag_(o.self_tag_),
      loss_at_close_counted_(o.loss_at_close_counted_),
      first_new_session_(o.first_new_session_) {}

Subscription::~Subscription() {
  if (!context_) return;  // moved from
  context_->counters().release(counters_);
  if (!exclusive_) return;
  context_->remove_heartbeat(segment_.descriptor().subscriber_beat);
  // Nothing more if the channel went to another subscriber (see poll_ring).
  if (!holds_channel()) return;
  // Read frames go back to the producer (and, in a journal, stay read for
  // the next subscriber) even if no idle poll came after them.
  if (auto* spsc = std::get_if<queue::SpscRing>(&ring_)) spsc->release_consumed();
  if (auto* mpsc = std::get_if<queue::MpscRing>(&ring_)) mpsc->release_consumed();
  shm::detach_subscriber(segment_.descriptor());
}

void Subscription::count_loss_at_close() noexcept {
  // Frames a lapped broadcast reader skipped at the very end are followed by
  // no frame that would reveal the gap: the closing publisher's final seq does.
  if (loss_at_close_counted_) return;
  loss_at_close_counted_ = true;
  auto& d = segment_.descriptor();
  const auto session = shm::shared(d.final_session_id).load(std::memory_order_relaxed);
  const auto final_seq = shm::shared(d.final_seq).load(std::memory_order_relaxed);
  for (auto& s : sessions_) {
    if (s.session_id != session) continue;
    const auto next = s.tracker.next_expected();
    if (next <= final_seq) {
      counters_.add(Counter::gaps);
      counters_.add(Counter::lost_frames, final_seq - next + 1);
    }
  }
}

void Subscription::start_at(std::uint64_t position) {
  auto& reader = std::get<queue::BroadcastReader>(ring_);  // start= implies kind=broadcast (Uri)
  if (!reader.seek(position))
    throw SetupError(fmt::format("{}: start={} is not a frame boundary still in the ring "
                                 "(writer at {}; a ring keeps at most its capacity)",
                                 uri_text_, position, reader.writer_position()));
}

std::uint64_t Subscription::position() const noexcept {
  return std::visit([this](const auto& ring) { return position_of(ring); }, ring_);
}

std::uint64_t Subscription::replay_position(const queue::BroadcastReader& reader) const noexcept {
  const std::uint64_t next = reader.position();
  // The message read last is the only one that may be half read: a
  // publisher that started a new session left its old one's for good.
  if (last_session_ != nullptr && last_session_->reassembly.in_progress()) {
    // seek() takes positions in the writer's current lap only: a message
    // begun in the lap before the next frame's would be refused outright.
    const std::uint64_t capacity = segment_.geometry().capacity_bytes;
    if (last_session_->message_start / capacity == next / capacity) return last_session_->message_start;
  }
  return next;
}

SessionState& Subscription::find_or_add_session(const queue::FrameView& f) noexcept {
  for (auto& s : sessions_) {
    if (s.carries(f)) {
      s.last_switch = ++session_switches_;
      return *(last_session_ = &s);
    }
  }
  // A new session: a (re)started publisher. Keep the table bounded by
  // forgetting the one read least recently (not the oldest: a long-lived
  // mpsc publisher beside many short-lived ones would come back as a new
  // session, its next seq taken for a gap); reserve() made room, so
  // nothing reallocates.
  if (sessions_.size() == max_sessions)
    sessions_.erase(std::min_element(sessions_.begin(), sessions_.end(), [](const auto& a, const auto& b) {
      return a.last_switch < b.last_switch;
    }));
  // A session that began after this subscription did starts at seq 1, so a
  // broadcast reader lapped before its first frame still counts the loss;
  // for one already running, what came before the first frame seen was
  // never this subscription's to lose.
  const std::uint64_t first_seq = f.session_id() >= first_new_session_ ? 1 : f.seq();
  sessions_.emplace_back(f.session_id(), f.stream_id(), first_seq, max_message_bytes_);
  sessions_.back().last_switch = ++session_switches_;
  return *(last_session_ = &sessions_.back());
}

Subscription::Accept Subscription::accept(const queue::FrameView& f) noexcept {
  SessionState& s =
      last_session_ != nullptr && last_session_->carries(f) ? *last_session_ : find_or_add_session(f);
  const auto verdict = s.tracker.on_arrival(f.seq(), 0);
  switch (verdict.kind) {
    case queue::Verdict::Kind::Deliver: break;
    case queue::Verdict::Kind::LostBefore:
      counters_.add(Counter::gaps);
      counters_.add(Counter::lost_frames, verdict.range.count());
      counters_.add(Counter::fragments_dropped, s.reassembly.abandon());
      break;
    case queue::Verdict::Kind::Duplicate:
      counters_.add(Counter::duplicates);
      return Accept::Skip;
    default:  // Invalid (Held/Overrun need a reorder window, which shm has not)
      counters_.add(Counter::corrupt_frames);
      return Accept::Skip;
  }
  counters_.add(Counter::bytes_received, f.payload().size());
  if (f.flags() == queue::unfragmented_flags) return Accept::Whole;
  const auto before = s.reassembly.fragments_dropped();
  const auto step = s.reassembly.add(f);
  if (const auto* reader = std::get_if<queue::BroadcastReader>(&ring_);
      reader != nullptr && step == Reassembly::Step::Partial && f.has_flag(queue::FrameFlags::Begin))
    s.message_start = reader->delivering_position();
  counters_.add(Counter::fragments_dropped, s.reassembly.fragments_dropped() - before);
  return step == Reassembly::Step::Complete ? Accept::Reassembled : Accept::Skip;
}

void Subscription::count_broadcast_loss(const queue::BroadcastReader& reader) noexcept {
  if (reader.lapped() == lapped_seen_) return;
  lapped_seen_ = reader.lapped();
  // The rest of a half-read message was lapped with everything else (and
  // its first fragment is no position to replay from any more).
  if (last_session_ != nullptr) counters_.add(Counter::fragments_dropped, last_session_->reassembly.abandon());
  counters_.set(Counter::position, replay_position(reader));  // a lapping poll may deliver nothing
  counters_.set(Counter::lapped, reader.lapped());
  counters_.set(Counter::lost_bytes, reader.lost_bytes());
}

std::expected<std::size_t, Error> Subscription::when_idle_slow() noexcept {
  const auto& options = context_->options();
  auto& descriptor = segment_.descriptor();
  const bool spinning = wait_ == shm::WaitKind::Spin;
  auto* mpsc = std::get_if<queue::MpscRing>(&ring_);
  if (mpsc && (!spinning || idle_polls_ % stale_check_every == 0)) {
    const auto timeout_ns = static_cast<std::uint64_t>(
        std::chrono::nanoseconds(options.stale_claim_timeout).count());
    // A claim's owner is its publisher's process tag (Publication): a
    // stuck claim is skipped once that publisher is gone, never while it
    // lives (it may only be stopped; see queue/mpsc_ring.hpp).
    const auto gone = [&](std::uint64_t owner) {
      return shm::claim_owner_gone(descriptor, owner, options.publisher_timeout);
    };
    if (mpsc->unblock_stale_claim(shm::monotonic_ns(), timeout_ns, gone)) counters_.add(Counter::stale_claims);
  }
  const auto has_data = [&] { return std::visit([](auto& ring) { return ring.has_data(); }, ring_); };
  // A poll also comes back empty while a streaming reader waits for its
  // lead (RingConsumer): the end of a publisher is news only once every
  // frame it committed has been read.
  if ((!spinning || idle_polls_ % liveness_check_every == 0) && !has_data()) {
    const auto state = shm::publisher_state(descriptor, options.publisher_timeout);
    // Look for frames again after the verdict: a publisher may commit its
    // last frames and close between the look above and the verdict (which
    // is read with acquire, so those frames show now).
    if (state == shm::PublisherState::Gone && !has_data()) return std::unexpected(Error::PublisherGone);
    if (state == shm::PublisherState::Closed && !has_data()) {
      count_loss_at_close();
      return std::unexpected(Error::Closed);
    }
  }
  waiter_.idle(has_data);
  return 0;
}

}  // namespace sluice
