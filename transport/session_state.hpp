// Per-session receive state of a subscription: sequence tracking and the
// reassembly of fragmented messages. One per (session, stream) seen.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "queue/frame.hpp"
#include "queue/sequence_tracker.hpp"

namespace sluice {

class Reassembly {
 public:
  explicit Reassembly(std::size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  enum class Step : std::uint8_t {
    Partial,     // fragment kept, message not complete yet
    Complete,    // message() holds the whole message
    Dropped,     // fragment(s) discarded: out of place or over max_message
  };
  // Adds the payload of a frame whose flags are not Begin|End.
  Step add(const queue::FrameView& frame) noexcept;
  // Abandons a message in progress (a gap broke it); returns fragments dropped.
  std::size_t abandon() noexcept;
  std::span<const std::byte> message() const noexcept { return {buffer_.data(), size_}; }
  std::size_t fragments_dropped() const noexcept { return dropped_; }
  // A message was begun and is not complete (nor abandoned) yet.
  bool in_progress() const noexcept { return in_progress_; }

 private:
  std::size_t max_message_bytes_;
  std::vector<std::byte> buffer_;  // grown once to max_message_bytes on first use
  std::size_t size_ = 0;
  std::size_t fragments_ = 0;
  bool in_progress_ = false;
  std::size_t dropped_ = 0;
};

struct SessionState {
  // first_seq: the seq the subscription expects first from this session
  // (1 for a session that began after it subscribed; the first one it sees
  // for a session already running when it joined). A shm ring cannot
  // reorder: no window.
  SessionState(std::uint32_t session, std::uint32_t stream, std::uint64_t first_seq,
               std::size_t max_message_bytes)
      : stream_id(stream),
        session_id(session),
        tracker(first_seq, 0, 0),
        reassembly(max_message_bytes) {}
  // Whether frame `f` is of this session (and stream).
  bool carries(const queue::FrameView& f) const noexcept {
    return queue::pack_stream_session(stream_id, session_id) == f.stream_and_session();
  }
  // In the header's order: carries() then loads both as one word.
  std::uint32_t stream_id;
  std::uint32_t session_id;
  std::uint64_t last_switch = 0;  // when the subscription last turned to this session
  queue::SequenceTracker tracker;
  Reassembly reassembly;
  // Broadcast: the stream position of the first fragment of the message
  // in reassembly (a replay from there gets it whole).
  std::uint64_t message_start = 0;
};

}  // namespace sluice
