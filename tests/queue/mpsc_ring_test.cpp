#include "queue/mpsc_ring.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <latch>
#include <random>
#include <thread>
#include <vector>

#include "tests/queue/poll_seqs.hpp"

namespace sluice::queue {
namespace {

constexpr RingGeometry small{.capacity_bytes = 1024, .max_frame_bytes = 128};

struct MpscRingTest : ::testing::Test {
  std::vector<std::byte> region = std::vector<std::byte>(ring_required_bytes(small.capacity_bytes));
  MpscRing ring{region, small};

  std::vector<std::uint64_t> drain(std::size_t limit = 1000) { return test::poll_seqs(ring, limit); }
};

TEST_F(MpscRingTest, ConcurrentClaimsCommitInAnyOrderAndAreReadInClaimOrder) {
  auto a = ring.try_claim(8);
  auto b = ring.try_claim(8);
  ASSERT_TRUE(a && b);
  ring.commit(*b, {.seq = 2});
  EXPECT_TRUE(drain().empty()) << "b waits behind the uncommitted a";
  ring.commit(*a, {.seq = 1});
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1, 2}));
}

// A streaming consumer waits for the producers' lead on a hint that moves
// once per 4 KiB step, not on tail, which every claim CASes.
TEST(MpscRingProgressTest, ClaimThatCrossesAStepStoresItsEndAsTheProgressHint) {
  constexpr RingGeometry g{.capacity_bytes = 64 * 1024, .max_frame_bytes = 1024};
  std::vector<std::byte> region(ring_required_bytes(g.capacity_bytes));
  MpscRing ring(region, g);
  const auto hint = [&] { return trailer_counter(region, g.capacity_bytes, TrailerSlot::TailIntent).load(); };
  std::uint64_t seq = 0;
  while (ring.producer_position() + frame_bytes_for(64) < 4096) {
    ASSERT_TRUE(ring.offer(std::vector<std::byte>(64), {.seq = ++seq}));
    EXPECT_EQ(hint(), 0u) << "no step crossed yet";
  }
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(64), {.seq = ++seq}));
  EXPECT_GE(ring.producer_position(), 4096u);
  EXPECT_EQ(hint(), ring.producer_position());
  EXPECT_EQ(test::poll_seqs(ring, 1000).size(), seq);
}

TEST_F(MpscRingTest, AbortedClaimBecomesPaddingAndIsSkipped) {
  auto a = ring.try_claim(8);
  ASSERT_TRUE(a);
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(8), {.seq = 2}));
  ring.abort(*a);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
}

TEST_F(MpscRingTest, RejectsWriteWhenFullWithoutMovingTail) {
  int n = 0;
  while (ring.offer(std::vector<std::byte>(64), {.seq = std::uint64_t(n + 1)})) ++n;
  EXPECT_EQ(n, 1024 / 96);
  const auto tail = ring.producer_position();
  EXPECT_EQ(ring.try_claim(64).error(), RingError::BackPressured);
  EXPECT_EQ(ring.producer_position(), tail);
  EXPECT_EQ(drain().size(), std::size_t(n));
  EXPECT_TRUE(ring.offer(std::vector<std::byte>(64), {.seq = 99}));
}

TEST_F(MpscRingTest, StaleClaimOfADeadProducerIsTurnedIntoPaddingAfterTheTimeout) {
  auto dead = ring.try_claim(40);  // never committed
  ASSERT_TRUE(dead);
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(8), {.seq = 7}));
  EXPECT_TRUE(drain().empty());
  EXPECT_FALSE(ring.unblock_stale_claim(1'000, 500));
  EXPECT_FALSE(ring.unblock_stale_claim(1'400, 500));
  const auto skipped = ring.unblock_stale_claim(1'500, 500);
  ASSERT_TRUE(skipped);
  EXPECT_EQ(*skipped, frame_bytes_for(40));
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{7}));
}

TEST_F(MpscRingTest, StaleClaimWithoutRecordedExtentIsSkippedUpToTheNextClaim) {
  auto dead = ring.try_claim(40);
  ASSERT_TRUE(dead);
  // Simulate death before the extent was recorded.
  std::memset(dead->frame, 0, 32);
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(8), {.seq = 7}));
  (void)ring.unblock_stale_claim(0, 10);
  ASSERT_EQ(ring.unblock_stale_claim(10, 10), frame_bytes_for(40));
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{7}));
}

// A producer that was only stopped must keep its claim: once resumed it
// would commit into space handed out again. Its owner tag decides.
TEST(MpscRingOwnerTest, ClaimOfALiveOwnerIsWaitedForAndOfAGoneOneSkipped) {
  std::vector<std::byte> region(ring_required_bytes(small.capacity_bytes));
  MpscRing producer(region, small, 42);
  MpscRing consumer(region, small);
  static std::uint64_t asked_owner = 0;
  static bool owner_gone = false;
  const auto gone = [](std::uint64_t owner) {
    asked_owner = owner;
    return owner_gone;
  };
  auto stuck = producer.try_claim(40);
  ASSERT_TRUE(stuck);
  EXPECT_FALSE(consumer.unblock_stale_claim(0, 10, gone));
  EXPECT_FALSE(consumer.unblock_stale_claim(1'000, 10, gone)) << "a live owner's claim was skipped";
  EXPECT_EQ(asked_owner, 42u);
  owner_gone = true;
  EXPECT_EQ(consumer.unblock_stale_claim(1'010, 10, gone), frame_bytes_for(40));
}

TEST_F(MpscRingTest, ClaimOfALiveOwnerStuckPastTheTimeoutIsDeliveredWhenItCommits) {
  MpscRing producer(region, small, 42);
  const auto alive = [](std::uint64_t) { return false; };
  auto slow = producer.try_claim(8);
  ASSERT_TRUE(slow);
  EXPECT_FALSE(ring.unblock_stale_claim(0, 10, alive));
  EXPECT_FALSE(ring.unblock_stale_claim(100, 10, alive));
  producer.commit(*slow, {.seq = 5});
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{5}));
}

// The end of a claim whose producer died before recording its extent is the
// next claim's start; a live producer behind it records its extent a moment
// after its CAS, so the end must hold still for the whole timeout, or the
// padding would swallow that producer's claim.
TEST_F(MpscRingTest, StaleClaimPaddingNeverCoversALaterClaimRecordedLate) {
  auto dead = ring.try_claim(40);
  ASSERT_TRUE(dead);
  std::memset(dead->frame, 0, 32);  // died before recording anything
  auto live = ring.try_claim(8);
  ASSERT_TRUE(live);
  std::byte recorded[32];
  std::memcpy(recorded, live->frame, 32);
  std::memset(live->frame, 0, 32);  // won its CAS, recorded nothing yet
  EXPECT_FALSE(ring.unblock_stale_claim(0, 10));
  std::memcpy(live->frame, recorded, 32);  // now it has
  EXPECT_FALSE(ring.unblock_stale_claim(10, 10)) << "the end moved: wait again";
  EXPECT_EQ(ring.unblock_stale_claim(20, 10), frame_bytes_for(40));
  ring.commit(*live, {.seq = 2});
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
}

TEST_F(MpscRingTest, CommittedFrameAtHeadIsNeverUnblocked) {
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(8), {.seq = 1}));
  EXPECT_FALSE(ring.unblock_stale_claim(0, 0));
  EXPECT_FALSE(ring.unblock_stale_claim(100, 0));
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
}

TEST_F(MpscRingTest, WrapsWithPaddingAcrossManyLaps) {
  std::mt19937 rng(3);
  std::uint64_t next_offer = 1, next_read = 1;
  for (int round = 0; round < 5000; ++round) {
    for (int k = rng() % 5; k > 0; --k) {
      std::vector<std::byte> payload(rng() % 97, std::byte(next_offer));
      if (ring.offer(payload, {.seq = next_offer})) ++next_offer;
    }
    ASSERT_TRUE(ring.poll([&](const FrameView& f) {
      ASSERT_EQ(f.seq(), next_read);
      for (auto b : f.payload()) ASSERT_EQ(b, std::byte(next_read));
      ++next_read;
    }, rng() % 4 + 1));
  }
  EXPECT_GT(ring.consumer_position(), 20 * small.capacity_bytes);
}

// Found by tests/fuzz/ring_fuzz: a head that is not a frame boundary used to
// be read (and padded over) through misaligned atomics.
TEST_F(MpscRingTest, MisalignedHeadInSharedMemoryIsReportedNotRead) {
  ASSERT_TRUE(ring.offer(std::vector<std::byte>(8), {.seq = 1}));
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Head).store(3);
  MpscRing attached(region, small);
  EXPECT_TRUE(attached.has_data()) << "an idle consumer must poll to see the error";
  auto n = attached.poll([](const FrameView&) { ADD_FAILURE() << "frame delivered"; }, 10);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), FrameError::Misaligned);
  EXPECT_FALSE(attached.unblock_stale_claim(0, 0));
  EXPECT_FALSE(attached.unblock_stale_claim(1, 0)) << "corruption is not a stale claim";
}

TEST_F(MpscRingTest, TailInSharedMemoryThatIsNoFrameBoundaryIsCorrupt) {
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Tail).store(small.capacity_bytes - 8);
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Head).store(64);
  auto claim = ring.try_claim(32);
  ASSERT_FALSE(claim) << "a header would run past the data area";
  EXPECT_EQ(claim.error(), RingError::Corrupt);
  EXPECT_EQ(ring.producer_position(), small.capacity_bytes - 8) << "trailer written over";
}

// A head past the tail can only have been written over: read as room, the
// producers would write over unread frames, or as full for good. Head is
// read when the cached one says full.
TEST_F(MpscRingTest, HeadPastTheTailIsCorrupt) {
  EXPECT_EQ(test::refusal_with_head_past_tail(ring, region, small.capacity_bytes, TrailerSlot::Head),
            RingError::Corrupt);
}

// The head the producers cache is a hint: one past the tail is not
// trusted (the consumer's own head decides), so a full ring stays full.
TEST_F(MpscRingTest, CachedHeadPastTheTailIsNotTrusted) {
  EXPECT_EQ(test::refusal_with_head_past_tail(ring, region, small.capacity_bytes, TrailerSlot::HeadCache),
            RingError::BackPressured);
}

TEST(MpscRingConcurrentTest, ThreeProducersEachKeepTheirOwnOrder) {
  constexpr RingGeometry g{.capacity_bytes = 64 * 1024, .max_frame_bytes = 1024};
  std::vector<std::byte> region(ring_required_bytes(g.capacity_bytes));
  MpscRing ring(region, g);
  constexpr int producers = 3;
  constexpr std::uint64_t per_producer = 200'000;
  std::latch start(producers + 1);
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      start.arrive_and_wait();
      std::mt19937 rng(p);
      for (std::uint64_t seq = 1; seq <= per_producer;) {
        const std::size_t size = rng() % 100;
        auto claim = ring.try_claim(size);
        if (!claim) { std::this_thread::yield(); continue; }
        for (std::size_t i = 0; i < size; ++i) claim->payload()[i] = std::byte(seq ^ i);
        ring.commit(*claim, {.stream_id = std::uint32_t(p), .seq = seq});
        ++seq;
      }
    });
  }
  start.arrive_and_wait();
  std::vector<std::uint64_t> next(producers, 1);
  std::uint64_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (total < producers * per_producer && std::chrono::steady_clock::now() < deadline) {
    auto n = ring.poll([&](const FrameView& f) {
      ASSERT_LT(f.stream_id(), std::uint32_t(producers));
      ASSERT_EQ(f.seq(), next[f.stream_id()]++);
      const auto p = f.payload();
      for (std::size_t i = 0; i < p.size(); ++i) ASSERT_EQ(p[i], std::byte(f.seq() ^ i));
      ++total;
    }, 64);
    ASSERT_TRUE(n);
    if (*n == 0) std::this_thread::yield();
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(total, producers * per_producer);
}

}  // namespace
}  // namespace sluice::queue
