#include "queue/sequence_tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <vector>

namespace sluice::queue {
namespace {

using K = Verdict::Kind;
constexpr std::uint64_t timeout_ns = 1'000;

// Feeds arrivals and records the order in which seqs become deliverable.
struct Receiver {
  explicit Receiver(SequenceTracker t) : tracker(t) {}
  SequenceTracker tracker;
  std::vector<std::uint64_t> delivered;
  std::uint64_t duplicates = 0;

  void arrive(std::uint64_t seq, std::uint64_t now = 0) {
    const auto v = tracker.on_arrival(seq, now);
    if (v.kind == K::Duplicate) ++duplicates;
    if (v.kind == K::Deliver || v.kind == K::LostBefore) delivered.push_back(seq);
    while (auto s = tracker.pop_ready()) delivered.push_back(*s);
  }
};

TEST(SequenceTracker, DeliversInOrderArrivalsImmediately) {
  SequenceTracker t(1, 8, timeout_ns);
  for (std::uint64_t s = 1; s <= 100; ++s) EXPECT_EQ(t.on_arrival(s, 0).kind, K::Deliver);
  EXPECT_EQ(t.next_expected(), 101u);
}

TEST(SequenceTracker, DropsDuplicatesOfDeliveredAndHeldFrames) {
  SequenceTracker t(1, 8, timeout_ns);
  EXPECT_EQ(t.on_arrival(1, 0).kind, K::Deliver);
  EXPECT_EQ(t.on_arrival(1, 0).kind, K::Duplicate);
  EXPECT_EQ(t.on_arrival(3, 0).kind, K::Held);
  EXPECT_EQ(t.on_arrival(3, 0).kind, K::Duplicate);
  EXPECT_EQ(t.held_frames(), 1u);
}

TEST(SequenceTracker, ReportsEachGapOnceWhenRevealed) {
  SequenceTracker t(1, 16, timeout_ns);
  EXPECT_EQ(t.on_arrival(1, 0), (Verdict{K::Deliver}));
  EXPECT_EQ(t.on_arrival(5, 0), (Verdict{K::Held, {2, 4}}));
  EXPECT_EQ(t.on_arrival(4, 0), (Verdict{K::Held}));
  EXPECT_EQ(t.on_arrival(9, 0), (Verdict{K::Held, {6, 8}}));
  EXPECT_EQ(t.oldest_gap(), (SeqRange{2, 3}));
}

TEST(SequenceTracker, GapFilledLateReleasesHeldFramesInOrder) {
  Receiver r(SequenceTracker(1, 16, timeout_ns));
  for (std::uint64_t s : {1, 3, 4, 6, 5, 2}) r.arrive(s);
  EXPECT_EQ(r.delivered, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r.tracker.held_frames(), 0u);
}

TEST(SequenceTracker, EveryPermutationOfASmallWindowDeliversOnceInOrder) {
  std::vector<std::uint64_t> order(7);
  std::iota(order.begin(), order.end(), 1);
  int permutations = 0;
  do {
    Receiver r(SequenceTracker(1, 8, timeout_ns));
    for (auto s : order) r.arrive(s);
    for (auto s : order) r.arrive(s);  // and every frame again
    ASSERT_EQ(r.delivered, (std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7}));
    ASSERT_EQ(r.duplicates, 7u);
    ++permutations;
  } while (std::next_permutation(order.begin(), order.end()));
  EXPECT_EQ(permutations, 5040);
}

TEST(SequenceTracker, GapOlderThanTimeoutIsDeclaredLostAndCounted) {
  Receiver r(SequenceTracker(1, 16, timeout_ns));
  r.arrive(1, 0);
  r.arrive(4, 100);
  r.arrive(5, 150);
  EXPECT_FALSE(r.tracker.expire(100 + timeout_ns - 1));
  const auto lost = r.tracker.expire(100 + timeout_ns);
  ASSERT_TRUE(lost);
  EXPECT_EQ(*lost, (SeqRange{2, 3}));
  while (auto s = r.tracker.pop_ready()) r.delivered.push_back(*s);
  EXPECT_EQ(r.delivered, (std::vector<std::uint64_t>{1, 4, 5}));
  EXPECT_EQ(r.tracker.on_arrival(2, 2000).kind, K::Duplicate) << "a lost frame arriving late";
}

TEST(SequenceTracker, ArrivalBeyondTheWindowIsAnOverrunNotHeld) {
  SequenceTracker t(1, 4, timeout_ns);
  EXPECT_EQ(t.on_arrival(5, 0).kind, K::Overrun);
  EXPECT_EQ(t.on_arrival(4, 0).kind, K::Held);
  EXPECT_EQ(t.held_frames(), 1u);
}

TEST(SequenceTracker, WithoutWindowAGapIsLostAtOnce) {
  SequenceTracker t(1, 0, timeout_ns);
  EXPECT_EQ(t.on_arrival(1, 0).kind, K::Deliver);
  EXPECT_EQ(t.on_arrival(5, 0), (Verdict{K::LostBefore, {2, 4}}));
  EXPECT_EQ(t.on_arrival(6, 0).kind, K::Deliver);
  EXPECT_EQ(t.on_arrival(3, 0).kind, K::Duplicate);
}

TEST(SequenceTracker, StartsAtAnyInitialSeq) {
  SequenceTracker t(1'000'000, 4, timeout_ns);
  EXPECT_EQ(t.on_arrival(999'999, 0).kind, K::Duplicate);
  EXPECT_EQ(t.on_arrival(1'000'000, 0).kind, K::Deliver);
}

TEST(SequenceTracker, RejectsSeqZeroAndTheOverflowingValue) {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  SequenceTracker t(max - 2, 4, timeout_ns);
  EXPECT_EQ(t.on_arrival(0, 0).kind, K::Invalid);
  EXPECT_EQ(t.on_arrival(max, 0).kind, K::Invalid);
  EXPECT_EQ(t.on_arrival(max - 2, 0).kind, K::Deliver);
  EXPECT_EQ(t.on_arrival(max - 1, 0).kind, K::Deliver);
  EXPECT_EQ(t.next_expected(), max);
}

}  // namespace
}  // namespace sluice::queue
