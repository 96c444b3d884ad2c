// SequenceCheck: what the throughput receiver reports about a stream.
#include "tools/bench/sequence_check.hpp"

#include <gtest/gtest.h>

namespace sluice::bench {
namespace {

TEST(SequenceCheck, InOrderStreamIsCompleteWithNothingLost) {
  SequenceCheck check(/*warmup=*/10, /*count=*/100);
  for (std::uint64_t s = 1; s <= 110; ++s) check.on_message(s);
  const SequenceCounts c = check.counts();
  EXPECT_TRUE(check.complete());
  EXPECT_EQ(c.received, 100u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(c.duplicated, 0u);
  EXPECT_EQ(c.out_of_order, 0u);
}

TEST(SequenceCheck, MissingMeasuredMessagesAreLost) {
  SequenceCheck check(0, 10);
  for (std::uint64_t s : {1, 2, 4, 5, 9, 10}) check.on_message(s);
  EXPECT_EQ(check.counts().lost, 4u);
  EXPECT_FALSE(check.complete());
}

TEST(SequenceCheck, ARepeatIsADuplicateNotANewMessage) {
  SequenceCheck check(0, 5);
  for (std::uint64_t s : {1, 2, 2, 3, 3, 3, 4, 5}) check.on_message(s);
  const SequenceCounts c = check.counts();
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.duplicated, 3u);
  EXPECT_EQ(c.out_of_order, 0u);
}

TEST(SequenceCheck, ALateFirstArrivalIsOutOfOrder) {
  SequenceCheck check(0, 5);
  for (std::uint64_t s : {1, 3, 2, 5, 4}) check.on_message(s);
  const SequenceCounts c = check.counts();
  EXPECT_EQ(c.received, 5u);
  EXPECT_EQ(c.out_of_order, 2u);
  EXPECT_EQ(c.duplicated, 0u);
}

TEST(SequenceCheck, WarmUpMessagesAreNotCounted) {
  SequenceCheck check(5, 5);
  for (std::uint64_t s = 1; s <= 5; ++s) check.on_message(s);
  EXPECT_EQ(check.counts().received, 0u);
  EXPECT_EQ(check.counts().lost, 5u);
}

TEST(SequenceCheck, SequenceNumbersOutsideTheStreamAreInvalid) {
  SequenceCheck check(0, 5);
  check.on_message(0);
  check.on_message(6);
  check.on_message(1ull << 40);
  EXPECT_EQ(check.counts().invalid, 3u);
  EXPECT_EQ(check.counts().received, 0u);
}

}  // namespace
}  // namespace sluice::bench
