// Subscription: the receiving end of a channel.
//
// One thread polls a subscription. poll() hands each complete message to
// the handler in order, exactly once per (session, stream): duplicates are
// dropped, gaps counted as lost, fragments reassembled. When nothing is
// there it idles per the channel's wait= strategy (spin: returns at once),
// and reports PublisherGone or Closed once every frame committed before the
// publisher died or closed has been delivered.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/spsc_ring.hpp"
#include "shm/liveness.hpp"
#include "shm/segment.hpp"
#include "shm/wait_strategy.hpp"
#include "transport/counters.hpp"
#include "transport/errors.hpp"
#include "transport/message.hpp"
#include "transport/session_state.hpp"
#include "transport/uri.hpp"

namespace sluice {

namespace detail {
class ContextState;
}

class Subscription {
 public:
  Subscription(std::shared_ptr<detail::ContextState> context, const Uri& uri, std::string uri_text);
  // The moved-from subscription is detached: poll returns NotConnected.
  Subscription(Subscription&&) noexcept;
  Subscription& operator=(Subscription&&) = delete;
  ~Subscription();

  // Calls handler(const sluice::Message&) for the messages in up to `limit`
  // frames. Returns how many messages were delivered, or PublisherGone /
  // Closed (after everything before it was delivered) or Corrupt. While a
  // publisher streams, a poll may return 0 with frames waiting: a
  // subscription then reads in batches a lead behind the publisher (see
  // queue/stream_pacer.hpp); keep polling.
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, Error> poll(Handler&& handler, std::size_t limit) noexcept;

  // Stream position of the next frame this subscription reads (between
  // polls; in a handler, the end of the poll's batch). On a broadcast
  // channel (or journal), pass it back as start=POSITION to replay from
  // there. While a fragmented message is half read, it names the
  // message's first fragment, so a replay from it gets the whole message
  // (unless that fragment is in the ring's previous lap, which a replay
  // cannot start from: then the next fragment).
  std::uint64_t position() const noexcept;
  const CounterSet& counters() const noexcept { return counters_; }
  const std::string& channel() const noexcept { return uri_text_; }
  std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }

 private:
  using Ring = std::variant<queue::SpscRing, queue::MpscRing, queue::BroadcastReader>;
  enum class Accept : std::uint8_t { Whole, Reassembled, Skip };

  template <class RingType, class Handler>
  std::expected<std::size_t, Error> poll_ring(RingType& ring, Handler& handler, std::size_t limit) noexcept;
  template <class Handler>
  [[gnu::noinline]] std::expected<std::size_t, Error> poll_other_kinds(Handler& handler, std::size_t limit) noexcept;

  void start_at(std::uint64_t position);
  // position() of a broadcast reader: a half-read message's first fragment
  // or the next frame. Out of line: only broadcast polls pay for it.
  std::uint64_t replay_position(const queue::BroadcastReader& reader) const noexcept;
  template <class RingType>
  std::uint64_t position_of(const RingType& ring) const noexcept {
    if constexpr (std::is_same_v<RingType, queue::BroadcastReader>)
      return replay_position(ring);
    else
      return ring.position();
  }
  void count_loss_at_close() noexcept;
  // The common case, checked inline ahead of the handler: the session of
  // the last frame, its next seq, a whole message (its bytes are counted
  // after the poll). Takes the seq.
  bool accepts_next_whole(const queue::FrameView& f) noexcept {
    SessionState* s = last_session_;
    return s != nullptr && s->carries(f) &&
           f.flags() == queue::unfragmented_flags && s->tracker.take_in_order(f.seq());
  }
  static Message whole_message(const queue::FrameView& f) noexcept {
    return Message(f.payload(), f.seq(), f.session_id(), f.stream_id(), f.timestamp_ns(), false);
  }
  // Everything else: another session, a gap, a duplicate, a fragment. Out
  // of line: inlined into the ring's poll loop, these paths cost the common
  // case 8-27 TSC ticks per two-process round trip on this VM (one 10 ns
  // bin of sluice-bench's 64 B p50).
  template <class Handler>
  [[gnu::noinline]] bool deliver_other(queue::FrameView f, Handler& handler) noexcept {
    switch (accept(f)) {
      case Accept::Whole:
        handler(whole_message(f));
        return true;
      case Accept::Reassembled:
        handler(Message(last_session_->reassembly.message(), f.seq(), f.session_id(), f.stream_id(),
                        f.timestamp_ns(), true));
        return true;
      case Accept::Skip:
        break;
    }
    return false;
  }
  // Runs the frame's session tracker, counts what the verdict means and
  // reassembles fragments.
  Accept accept(const queue::FrameView& f) noexcept;
  SessionState& find_or_add_session(const queue::FrameView& f) noexcept;
  // After a poll that found nothing. The common case (spinning, no check
  // due) stays inline: a spinning reader goes straight back to the ring.
  std::expected<std::size_t, Error> when_idle() noexcept {
    ++idle_polls_;
    if (wait_ == shm::WaitKind::Spin && idle_polls_ % stale_check_every != 0) {
      shm::IdleWaiter::pause();
      return 0;
    }
    return when_idle_slow();
  }
  std::expected<std::size_t, Error> when_idle_slow() noexcept;
  // Whether our tag is still in the descriptor's subscriber slot (spsc/mpsc).
  bool holds_channel() const noexcept {
    return shm::holds_slot(segment_.descriptor().subscriber, self_tag_);
  }

  // Empty polls between checks when spinning: each check reads the clock or
  // makes a syscall, which a spinning reader should not pay on every poll.
  static constexpr std::uint32_t liveness_check_every = 4096;
  static constexpr std::uint32_t stale_check_every = 256;
  void count_broadcast_loss(const queue::BroadcastReader& reader) noexcept;

  std::shared_ptr<detail::ContextState> context_;
  std::string uri_text_;
  shm::Segment segment_;
  Ring ring_;
  shm::IdleWaiter waiter_;
  shm::WaitKind wait_;
  CounterSet counters_;
  std::size_t max_message_bytes_;
  std::vector<SessionState> sessions_;
  SessionState* last_session_ = nullptr;
  std::uint64_t session_switches_ = 0;  // turns from one session to another (SessionState::last_switch)
  std::uint32_t idle_polls_ = 0;
  std::uint64_t lapped_seen_ = 0;
  bool exclusive_ = false;
  std::uint64_t self_tag_ = 0;  // our packed tag in the descriptor's subscriber slot (exclusive)
  bool loss_at_close_counted_ = false;
  std::uint32_t first_new_session_ = 0;  // sessions from this id on began after we subscribed
};

template <class Handler>
std::expected<std::size_t, Error> Subscription::poll(Handler&& handler, std::size_t limit) noexcept {
  // The spsc loop inlined here on its own; the other kinds' loops out of
  // line. Inlined together (std::visit), the three loops shared one
  // function's registers, and the spsc path paid in spills.
  if (auto* spsc = std::get_if<queue::SpscRing>(&ring_)) [[likely]] return poll_ring(*spsc, handler, limit);
  return poll_other_kinds(handler, limit);
}

template <class Handler>
std::expected<std::size_t, Error> Subscription::poll_other_kinds(Handler& handler, std::size_t limit) noexcept {
  // One instance per ring kind, so each gets its own ring loop rather than
  // one out-of-line loop shared by mpsc and broadcast.
  return std::visit(
      [&](auto& ring) -> std::expected<std::size_t, Error> {
        if constexpr (std::is_same_v<std::remove_cvref_t<decltype(ring)>, queue::SpscRing>)
          __builtin_unreachable();  // poll took it
        else
          return poll_ring(ring, handler, limit);
      },
      ring_);
}

template <class RingType, class Handler>
std::expected<std::size_t, Error> Subscription::poll_ring(RingType& ring, Handler& handler,
                                                          std::size_t limit) noexcept {
  if constexpr (!std::is_same_v<RingType, queue::BroadcastReader>) {
    // Stopped past subscriber_timeout in another pid namespace, this
    // subscription lost its channel to the next subscriber: reading on
    // would race that one over the same frames. (A moved-from one holds
    // no slot either: see shm::Segment's move.)
    if (!holds_channel()) [[unlikely]] return std::unexpected(Error::NotConnected);
  } else {
    // A moved-from reader's ring still points into the mapping it gave away.
    if (!context_) [[unlikely]] return std::unexpected(Error::NotConnected);
  }
  std::size_t delivered = 0;
  std::size_t frames = 0;
  std::size_t whole_bytes = 0;  // of messages accepts_next_whole took
  // Inline into the ring's loop: GCC otherwise calls it per frame, with
  // a dozen register saves around each call.
  auto on_frame = [&](const queue::FrameView& f) __attribute__((always_inline)) {
    ++frames;
    if (accepts_next_whole(f)) [[likely]] {
      handler(whole_message(f));
      ++delivered;
      whole_bytes += f.payload().size();
    } else if (deliver_other(f, handler)) {
      ++delivered;
    }
  };
  auto polled = ring.poll(on_frame, limit);
  if constexpr (std::is_same_v<RingType, queue::BroadcastReader>) count_broadcast_loss(ring);
  const auto count_received = [&] {
    counters_.add(Counter::frames_received, frames);
    counters_.add(Counter::messages_received, delivered);
    counters_.add(Counter::bytes_received, whole_bytes);
    counters_.set(Counter::position, position_of(ring));
  };
  if (!polled) [[unlikely]] {
    // What was handed over before the unreadable frame still counts.
    count_received();
    counters_.add(Counter::corrupt_frames);
    return std::unexpected(Error::Corrupt);
  }
  if (frames == 0) return when_idle();
  waiter_.reset();
  count_received();
  return delivered;
}

}  // namespace sluice
