// SequenceCheck: what a throughput receiver verifies about the stream.
//
// Exact, not sampled: one bit per expected message (allocated before the
// run, 1.25 MB per 10 M messages), so a duplicate is told apart from an
// out-of-order arrival. Counts cover the measured range only (seq > warmup);
// warm-up messages are accepted but not counted.
//   received      distinct measured messages that arrived
//   lost          measured messages that never arrived (count - received)
//   duplicated    arrivals of a seq already seen
//   out_of_order  first arrivals of a seq lower than the highest seen so far
//   invalid       seqs outside [1, warmup + count] (corruption)
#pragma once

#include <cstdint>
#include <vector>

namespace sluice::bench {

struct SequenceCounts {
  std::uint64_t received = 0;
  std::uint64_t lost = 0;
  std::uint64_t duplicated = 0;
  std::uint64_t out_of_order = 0;
  std::uint64_t invalid = 0;
};

class SequenceCheck {
 public:
  SequenceCheck(std::uint64_t warmup, std::uint64_t count);

  // Hot path: a bit test-and-set and two compares.
  void on_message(std::uint64_t seq) noexcept {
    if (seq == 0 || seq > last_seq_) {
      ++invalid_;
      return;
    }
    const std::uint64_t bit = seq - 1;
    std::uint64_t& word = seen_[bit >> 6];
    const std::uint64_t mask = std::uint64_t{1} << (bit & 63);
    if (seq <= warmup_) {
      word |= mask;
      if (seq > highest_) highest_ = seq;
      return;
    }
    if (word & mask) {
      ++duplicated_;
      return;
    }
    word |= mask;
    ++received_;
    if (seq < highest_) {
      ++out_of_order_;
    } else {
      highest_ = seq;
    }
  }

  std::uint64_t received() const noexcept { return received_; }
  bool complete() const noexcept { return received_ == count_; }
  SequenceCounts counts() const noexcept;

 private:
  std::uint64_t warmup_;
  std::uint64_t count_;
  std::uint64_t last_seq_;
  std::vector<std::uint64_t> seen_;
  std::uint64_t highest_ = 0;
  std::uint64_t received_ = 0;
  std::uint64_t duplicated_ = 0;
  std::uint64_t out_of_order_ = 0;
  std::uint64_t invalid_ = 0;
};

}  // namespace sluice::bench
