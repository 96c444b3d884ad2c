#include "tools/bench/sequence_check.hpp"

namespace sluice::bench {

SequenceCheck::SequenceCheck(std::uint64_t warmup, std::uint64_t count)
    : warmup_(warmup), count_(count), last_seq_(warmup + count),
      seen_((warmup + count + 63) / 64, 0) {}

SequenceCounts SequenceCheck::counts() const noexcept {
  return {.received = received_,
          .lost = count_ - received_,
          .duplicated = duplicated_,
          .out_of_order = out_of_order_,
          .invalid = invalid_};
}

}  // namespace sluice::bench
