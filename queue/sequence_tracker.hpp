// SequenceTracker: in-order, exactly-once delivery for one (session, stream).
//
// Sequence numbers start at `initial_seq` (1 by convention) and grow by one
// per frame. On each arrival the tracker returns a verdict:
//   Deliver    seq == next: hand it to the application, then drain pop_ready()
//   Duplicate  already delivered, held, or declared lost: drop and count
//   Held       ahead of a gap, kept in the reorder window; `range` is the part
//              of the gap this arrival revealed (NAK it), empty if already known
//   Overrun    beyond the reorder window: not held, count it; a reliable
//              protocol gets it again after the gap is repaired
//   LostBefore window 0 only (a medium that cannot reorder, e.g. a shm ring):
//              `range` is lost for good, this seq is delivered after it
//   Invalid    seq 0 or the 64-bit space exhausted: corrupt, drop and count
// A gap not repaired within `gap_timeout_ns` of being detected is declared
// lost by expire(): counted, never skipped silently.
//
// The tracker keeps bookkeeping only; the caller stores held payloads in its
// own slots indexed by slot_of(seq). Single-threaded; no allocation after
// construction; no clock of its own (callers pass now_ns).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <vector>

namespace sluice::queue {

struct SeqRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive; empty when last < first
  bool empty() const noexcept { return last < first; }
  std::uint64_t count() const noexcept { return empty() ? 0 : last - first + 1; }
  friend bool operator==(const SeqRange&, const SeqRange&) = default;
};
inline constexpr SeqRange no_range{1, 0};

struct Verdict {
  enum class Kind : std::uint8_t { Deliver, Duplicate, Held, Overrun, LostBefore, Invalid };
  Kind kind;
  SeqRange range = no_range;
  friend bool operator==(const Verdict&, const Verdict&) = default;
};
std::string_view to_string(Verdict::Kind k) noexcept;

class SequenceTracker {
 public:
  // window_frames: how many frames past a gap may be held (0 = no reordering).
  SequenceTracker(std::uint64_t initial_seq, std::size_t window_frames,
                  std::uint64_t gap_timeout_ns);

  Verdict on_arrival(std::uint64_t seq, std::uint64_t now_ns) noexcept {
    if (take_in_order(seq)) return {Verdict::Kind::Deliver};
    return on_arrival_out_of_order(seq, now_ns);
  }
  // The Deliver case of on_arrival alone: if `seq` is the next one, takes
  // it and returns true (then drain pop_ready() as after Deliver);
  // otherwise changes nothing (call on_arrival for the verdict). Every
  // frame on a healthy stream, kept inline and short.
  bool take_in_order(std::uint64_t seq) noexcept {
    // seq 0 is never sent; the last value would overflow next_.
    if (seq != next_ || seq == 0 || seq == std::numeric_limits<std::uint64_t>::max()) return false;
    ++next_;
    if (seq > highest_seen_) highest_seen_ = seq;
    return true;
  }

  // After Deliver (or expire), the next held seq that is now in order.
  std::optional<std::uint64_t> pop_ready() noexcept;

  // Declares the oldest gap lost once it is older than the timeout; the
  // caller then drains pop_ready(). Returns the lost range, if any.
  std::optional<SeqRange> expire(std::uint64_t now_ns) noexcept;

  // The gaps still open below the highest seq seen (for re-sending NAKs).
  std::optional<SeqRange> oldest_gap() const noexcept;

  std::uint64_t next_expected() const noexcept { return next_; }
  std::size_t held_frames() const noexcept { return held_; }
  std::size_t window_frames() const noexcept { return arrival_ns_.size(); }
  // Slot of a held seq in the caller's payload store (0..window_frames-1).
  std::size_t slot_of(std::uint64_t seq) const noexcept { return seq % arrival_ns_.size(); }

 private:
  Verdict on_arrival_out_of_order(std::uint64_t seq, std::uint64_t now_ns) noexcept;
  bool is_held(std::uint64_t seq) const noexcept;

  std::uint64_t next_;
  std::uint64_t highest_seen_;       // highest seq delivered or held
  std::uint64_t gap_timeout_ns_;
  std::vector<std::uint64_t> arrival_ns_;  // per slot: arrival time + 1, 0 = empty
  std::size_t held_ = 0;
};

}  // namespace sluice::queue
