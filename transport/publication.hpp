// Publication: the sending end of a channel.
//
// One thread uses a publication (several publications, in threads or
// processes, may share an mpsc channel). Every frame it writes carries its
// session id (fresh per publication), the channel's stream id and a seq
// that grows by one per frame with no gaps. A message larger than one frame
// is split into fragments; the subscription reassembles it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <variant>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/spsc_ring.hpp"
#include "shm/liveness.hpp"
#include "shm/segment.hpp"
#include "shm/wait_strategy.hpp"
#include "transport/counters.hpp"
#include "transport/errors.hpp"
#include "transport/uri.hpp"

namespace sluice {

namespace detail {
class ContextState;
}

class Publication {
 public:
  // A reserved frame: fill payload(), then commit() it. A claim that goes
  // out of scope uncommitted (an exception between claim and commit, an
  // early return) is aborted: on an mpsc channel a claim left open holds
  // every frame behind it while its publisher lives. A publication has one
  // claim open at a time: try_claim/offer meanwhile return ClaimOpen (on
  // spsc and broadcast the next frame goes where the claim is; on mpsc a
  // frame after it would carry an earlier seq, taken for a gap and then a
  // duplicate). Move-only; it must be committed or dropped before its
  // Publication is moved or destroyed (either terminates the process
  // otherwise).
  class Claim {
   public:
    Claim(Claim&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), claim_(other.claim_), end_(other.end_) {}
    Claim& operator=(Claim&& other) noexcept {
      if (this != &other) {
        abort();
        owner_ = std::exchange(other.owner_, nullptr);
        claim_ = other.claim_;
        end_ = other.end_;
      }
      return *this;
    }
    ~Claim() { abort(); }

    std::span<std::byte> payload() const noexcept { return claim_.payload(); }
    // Publishes the frame; returns the stream position after it. Once
    // committed or aborted, later calls do nothing (commit returns the
    // same position, or 0 after an abort).
    std::uint64_t commit() noexcept {
      if (owner_ != nullptr) end_ = std::exchange(owner_, nullptr)->commit(claim_);
      return end_;
    }
    // Gives the frame back unpublished (the subscriber never sees it).
    void abort() noexcept {
      if (owner_ != nullptr) std::exchange(owner_, nullptr)->abort(claim_);
    }

   private:
    friend class Publication;
    Claim(Publication* owner, queue::Claim claim) noexcept : owner_(owner), claim_(claim) {}
    Publication* owner_;  // null once committed or aborted
    queue::Claim claim_;
    std::uint64_t end_ = 0;
  };

  Publication(std::shared_ptr<detail::ContextState> context, const Uri& uri, std::string uri_text);
  // The moved-from publication is detached: offer/try_claim return Closed.
  Publication(Publication&&) noexcept;
  Publication& operator=(Publication&&) = delete;
  ~Publication();  // marks the channel closed for subscribers

  // Copies `message` into the channel. Returns the stream position after it,
  // or BackPressured / TooLarge (or Closed: the channel went to another
  // publisher, see holds_slot; Corrupt: the ring's positions in shared
  // memory fail validation; ClaimOpen, see Claim). Never blocks, never
  // allocates.
  [[nodiscard]] std::expected<std::uint64_t, Error> offer(std::span<const std::byte> message) noexcept {
    if (auto* spsc = std::get_if<queue::SpscRing>(&ring_)) [[likely]] spsc->prefetch_last_frame_lines();
    if (!holds_slot()) [[unlikely]] return std::unexpected(Error::Closed);
    if (claim_open_) [[unlikely]] return std::unexpected(Error::ClaimOpen);
    if (message.size() > single_frame_bytes_) [[unlikely]] return offer_fragmented(message);
    auto end = offer_frame(message, queue::unfragmented_flags);
    if (end) counters_.add(Counter::messages_sent);
    return end;
  }
  // Zero-copy: reserves one frame of up to max_payload_bytes() (and at most
  // max_message_bytes()) in the ring.
  [[nodiscard]] std::expected<Claim, Error> try_claim(std::size_t payload_bytes) noexcept;

  std::size_t max_payload_bytes() const noexcept { return max_payload_bytes_; }
  std::size_t max_message_bytes() const noexcept { return max_message_bytes_; }
  std::uint32_t session_id() const noexcept { return slot_.session_id; }
  std::uint32_t stream_id() const noexcept { return stream_id_; }
  const CounterSet& counters() const noexcept { return counters_; }
  const std::string& channel() const noexcept { return uri_text_; }

 private:
  using Ring = std::variant<queue::SpscRing, queue::MpscRing, queue::BroadcastWriter>;
  // A user's claim: one whole message.
  std::uint64_t commit(const queue::Claim& claim) noexcept;
  // The header of the next frame: this publication's ids and next seq.
  queue::FrameFields fields_for(std::uint16_t flags) const noexcept {
    return {.flags = flags, .stream_id = stream_id_, .session_id = slot_.session_id, .seq = next_seq_};
  }
  // After a frame ending at `end` was published: the next seq, a wake for
  // a parked reader, the counters.
  void count_published(std::uint64_t end, std::size_t payload_bytes) noexcept;
  void abort(const queue::Claim& claim) noexcept;
  // Inline down to the ring's commit store, spsc first: a round trip's
  // reply waits for every instruction before that store, and through calls
  // to here, a std::visit and the ring's offer, the header fields went
  // through the stack (a 16-byte load of two 8-byte stores: a store
  // forwarding stall).
  [[gnu::always_inline]] std::expected<std::uint64_t, Error> offer_frame(std::span<const std::byte> part,
                                                                         std::uint16_t flags) noexcept {
    std::expected<std::uint64_t, queue::RingError> end;
    if (auto* spsc = std::get_if<queue::SpscRing>(&ring_)) [[likely]]
      end = spsc->offer(part, fields_for(flags));
    else
      end = std::visit([&](auto& ring) { return ring.offer(part, fields_for(flags)); }, ring_);
    if (!end) [[unlikely]] return std::unexpected(count_refusal(end.error()));
    count_published(*end, part.size());
    return *end;
  }
  std::expected<std::uint64_t, Error> offer_fragmented(std::span<const std::byte> message) noexcept;
  Error count_refusal(queue::RingError e) noexcept;
  // The open claim points at this object: committing or aborting it after
  // a move or destruction would write through a ring this object no longer
  // owns. A programming error, like a joinable std::thread destroyed: stop
  // with a message rather than corrupt the channel.
  [[noreturn]] static void terminate_with_claim_open(const char* what) noexcept;
  // Whether our tag is still in our liveness slot. A publisher of another
  // pid namespace stopped past publisher_timeout loses the slot to the next
  // publisher: writing on would put two writers on one ring.
  bool holds_slot() const noexcept {
    return shm::holds_slot(segment_.descriptor().publishers[slot_.index], self_tag_);
  }

  std::shared_ptr<detail::ContextState> context_;
  std::string uri_text_;
  shm::Segment segment_;
  Ring ring_;
  shm::WakeNotifier notifier_;
  CounterSet counters_;
  shm::PublisherSlot slot_{};  // our liveness slot and session id
  std::uint64_t self_tag_ = 0;  // our packed tag in that slot
  std::uint32_t stream_id_ = 0;
  std::uint64_t next_seq_ = 1;
  bool claim_open_ = false;  // see Claim
  std::size_t max_payload_bytes_;
  std::size_t max_message_bytes_;
  // Largest message sent as one frame: a larger one is fragmented or, above
  // max_message_bytes_, refused (TooLarge).
  std::size_t single_frame_bytes_;
};

}  // namespace sluice
