#include "queue/sequence_tracker.hpp"

#include <limits>

namespace sluice::queue {

std::string_view to_string(Verdict::Kind k) noexcept {
  switch (k) {
    case Verdict::Kind::Deliver: return "deliver";
    case Verdict::Kind::Duplicate: return "duplicate";
    case Verdict::Kind::Held: return "held";
    case Verdict::Kind::Overrun: return "overrun";
    case Verdict::Kind::LostBefore: return "lost-before";
    case Verdict::Kind::Invalid: return "invalid";
  }
  return "unknown";
}

SequenceTracker::SequenceTracker(std::uint64_t initial_seq, std::size_t window_frames,
                                 std::uint64_t gap_timeout_ns)
    : next_(initial_seq),
      highest_seen_(initial_seq - 1),
      gap_timeout_ns_(gap_timeout_ns),
      arrival_ns_(window_frames) {}

bool SequenceTracker::is_held(std::uint64_t seq) const noexcept {
  return seq > next_ && seq <= highest_seen_ && arrival_ns_[slot_of(seq)] != 0;
}

Verdict SequenceTracker::on_arrival_out_of_order(std::uint64_t seq, std::uint64_t now_ns) noexcept {
  using K = Verdict::Kind;
  if (seq == 0 || seq == std::numeric_limits<std::uint64_t>::max()) return {K::Invalid};
  if (seq < next_) return {K::Duplicate};
  if (arrival_ns_.empty()) {
    const SeqRange lost{next_, seq - 1};
    next_ = seq + 1;
    highest_seen_ = seq;
    return {K::LostBefore, lost};
  }
  if (seq - next_ >= arrival_ns_.size()) return {K::Overrun};
  if (is_held(seq)) return {K::Duplicate};
  SeqRange revealed = no_range;
  if (seq > highest_seen_ + 1) revealed = {std::max(highest_seen_ + 1, next_), seq - 1};
  arrival_ns_[slot_of(seq)] = now_ns + 1;
  ++held_;
  if (seq > highest_seen_) highest_seen_ = seq;
  return {K::Held, revealed};
}

std::optional<std::uint64_t> SequenceTracker::pop_ready() noexcept {
  if (held_ == 0) return std::nullopt;
  auto& slot = arrival_ns_[slot_of(next_)];
  if (slot == 0) return std::nullopt;
  slot = 0;
  --held_;
  return next_++;
}

std::optional<SeqRange> SequenceTracker::oldest_gap() const noexcept {
  if (held_ == 0) return std::nullopt;
  std::uint64_t end = next_;
  while (arrival_ns_[slot_of(end)] == 0) ++end;  // terminates: held_ > 0
  return SeqRange{next_, end - 1};
}

std::optional<SeqRange> SequenceTracker::expire(std::uint64_t now_ns) noexcept {
  const auto gap = oldest_gap();
  if (!gap) return std::nullopt;
  // The gap was detected when the first frame after it arrived.
  const std::uint64_t detected_ns = arrival_ns_[slot_of(gap->last + 1)] - 1;
  if (now_ns < detected_ns || now_ns - detected_ns < gap_timeout_ns_) return std::nullopt;
  next_ = gap->last + 1;
  return gap;
}

}  // namespace sluice::queue
