#include "queue/spsc_ring.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <latch>
#include <random>
#include <thread>
#include <vector>

#include "tests/queue/poll_seqs.hpp"

namespace sluice::queue {
namespace {

constexpr RingGeometry small{.capacity_bytes = 1024, .max_frame_bytes = 128};

struct SpscRingTest : ::testing::Test {
  std::vector<std::byte> region = std::vector<std::byte>(ring_required_bytes(small.capacity_bytes));
  SpscRing ring{region, small};

  void use_geometry(RingGeometry geometry) {
    region.assign(ring_required_bytes(geometry.capacity_bytes), std::byte{0});
    ring = SpscRing(region, geometry);
  }
  std::vector<std::uint64_t> drain(std::size_t limit = 1000) { return test::poll_seqs(ring, limit); }
  // Polls until `count` frames came, or until none came for longer than
  // the consumer ever waits for a streaming producer.
  std::vector<std::uint64_t> drain_count(std::size_t count) {
    std::vector<std::uint64_t> seqs;
    test::poll_stream(ring, count, [&](const FrameView& f) { seqs.push_back(f.seq()); });
    return seqs;
  }
  void offer_seq(std::uint64_t seq, std::size_t bytes = 8) {
    std::vector<std::byte> payload(bytes, std::byte(seq));
    ASSERT_TRUE(ring.offer(payload, {.seq = seq}));
  }
  // Offers `count` frames of random sizes, each filled with its seq's low
  // byte; a back-pressured one is offered again in a later burst.
  void offer_random_burst(std::mt19937& rng, int count, std::uint64_t& next_offer) {
    for (; count > 0; --count) {
      const std::size_t size = rng() % (small.max_frame_bytes - frame_header_bytes + 1);
      if (ring.offer(std::vector<std::byte>(size, std::byte(next_offer)), {.seq = next_offer}))
        ++next_offer;
    }
  }
  // Polls up to `limit` frames: they must come in seq order, payload intact.
  void read_in_order(std::size_t limit, std::uint64_t& next_read) {
    ASSERT_TRUE(ring.poll([&](const FrameView& f) {
      ASSERT_EQ(f.seq(), next_read);
      for (auto b : f.payload()) ASSERT_EQ(b, std::byte(next_read));
      ++next_read;
    }, limit));
  }
};

TEST_F(SpscRingTest, FrameIsInvisibleUntilCommitted) {
  auto claim = ring.try_claim(16);
  ASSERT_TRUE(claim);
  EXPECT_TRUE(drain().empty());
  ring.commit(*claim, {.seq = 1});
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
}

TEST_F(SpscRingTest, ClaimedPayloadIsReadInPlaceByTheConsumer) {
  auto claim = ring.try_claim(4);
  ASSERT_TRUE(claim);
  std::memcpy(claim->payload().data(), "abcd", 4);
  ring.commit(*claim, {.seq = 1});
  ASSERT_TRUE(ring.poll([&](const FrameView& f) {
    EXPECT_EQ(f.payload().data(), claim->payload().data());
    EXPECT_EQ(std::memcmp(f.payload().data(), "abcd", 4), 0);
  }, 1));
}

TEST_F(SpscRingTest, RejectsWriteWhenFullAndAcceptsAfterConsumerReleases) {
  std::uint64_t seq = 0;
  while (ring.offer(std::vector<std::byte>(64), {.seq = seq + 1})) ++seq;
  EXPECT_EQ(ring.try_claim(64).error(), RingError::BackPressured);
  EXPECT_EQ(seq, 1024u / 96);
  EXPECT_EQ(drain(2).size(), 2u) << "two frames free room for the padding and the frame";
  EXPECT_EQ(ring.try_claim(64).error(), RingError::BackPressured)
      << "read, but not yet handed back: the consumer batches its releases";
  EXPECT_TRUE(drain().size() > 0);
  EXPECT_TRUE(ring.offer(std::vector<std::byte>(64), {.seq = seq + 1}));
}

TEST_F(SpscRingTest, ReadFramesGoBackToTheProducerWhenTheConsumerFindsNothing) {
  std::uint64_t seq = 0;
  while (ring.offer(std::vector<std::byte>(64), {.seq = seq + 1})) ++seq;
  EXPECT_EQ(drain(2).size(), 2u);
  EXPECT_EQ(ring.consumer_position(), 0u);
  while (!drain().empty()) {
  }
  EXPECT_EQ(ring.consumer_position(), seq * 96) << "an idle poll hands everything back";
  // The drained ring restarts at its start: a lap of room, less the line
  // the restarting frame rounds up to and the padding round the word the
  // consumer waits on.
  for (int i = 0; i < 1024 / 96 - 1; ++i)
    EXPECT_TRUE(ring.offer(std::vector<std::byte>(64), {.seq = ++seq}));
}

TEST_F(SpscRingTest, ReleasedSpaceIsZeroedSoNoStaleLengthLooksCommitted) {
  offer_seq(1, 64);
  EXPECT_EQ(drain().size(), 1u);
  EXPECT_TRUE(drain().empty());  // idle: released
  for (std::size_t i = 0; i < 96; ++i) ASSERT_EQ(region[i], std::byte{0}) << i;
}

TEST_F(SpscRingTest, FrameAboveMaxFrameIsTooLarge) {
  EXPECT_EQ(ring.try_claim(small.max_frame_bytes - frame_header_bytes + 1).error(), RingError::TooLarge);
  EXPECT_TRUE(ring.try_claim(small.max_frame_bytes - frame_header_bytes));
}

TEST_F(SpscRingTest, WrapsWithPaddingAndKeepsOrderAcrossManyLaps) {
  std::mt19937 rng(7);
  std::uint64_t next_offer = 1, next_read = 1;
  for (int round = 0; round < 5000; ++round) {
    offer_random_burst(rng, static_cast<int>(rng() % 5), next_offer);
    ASSERT_NO_FATAL_FAILURE(read_in_order(rng() % 4 + 1, next_read));
  }
  EXPECT_GT(next_read, 1000u);
  EXPECT_GT(ring.consumer_position(), 20 * small.capacity_bytes) << "many laps";
}

TEST_F(SpscRingTest, StaleBytesFromThePreviousLapAreNeverReadAsFrames) {
  // Fill the ring with 32-byte frames, drain, then refill with larger ones:
  // old headers sit at offsets the new frames skip over.
  for (std::uint64_t s = 1; s <= 20; ++s) offer_seq(s, 0);
  EXPECT_EQ(drain().size(), 20u);
  std::uint64_t seq = 21;
  for (int lap = 0; lap < 50; ++lap) {
    offer_seq(seq++, 90);
    offer_seq(seq++, 0);
    auto got = drain_count(2);
    ASSERT_EQ(got, (std::vector<std::uint64_t>{seq - 2, seq - 1}));
  }
}

// The ring is full up to the head the consumer last handed back, and the
// consumer has read frames since that it has not handed back: the word at
// the producer's tail is then a frame of this lap already read, not zeroed
// yet. The consumer must stop there rather than take it for a new one.
TEST_F(SpscRingTest, ConsumerStopsALapPastWhatItHandedBackOnAFullRing) {
  const std::uint64_t per_lap = small.capacity_bytes / frame_bytes_for(8);
  for (std::uint64_t s = 1; s <= per_lap; ++s) offer_seq(s);
  EXPECT_FALSE(ring.offer(std::vector<std::byte>(8), {.seq = per_lap + 1})) << "full";
  EXPECT_EQ(drain(3), (std::vector<std::uint64_t>{1, 2, 3})) << "read, below the release batch";
  std::vector<std::uint64_t> rest;
  for (std::uint64_t s = 4; s <= per_lap; ++s) rest.push_back(s);
  EXPECT_EQ(drain(), rest) << "and not frame 1 again";
}

TEST_F(SpscRingTest, AbortedClaimIsNeverDelivered) {
  auto claim = ring.try_claim(16);
  ASSERT_TRUE(claim);
  ring.abort(*claim);
  offer_seq(1);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
}

TEST_F(SpscRingTest, CorruptLengthStopsTheConsumerWithAReason) {
  offer_seq(1);
  offer_seq(2);
  // A foreign writer scribbles over the second frame's length.
  publish_length(region.data() + 64, 1 << 20);
  std::vector<std::uint64_t> seqs;
  auto n = ring.poll([&](const FrameView& f) { seqs.push_back(f.seq()); }, 10);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), FrameError::TooLong);
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1}));
  EXPECT_EQ(ring.consumer_position(), 64u) << "frames before the bad one are released";
}

TEST_F(SpscRingTest, ReattachedProducerContinuesAtThePublishedTail) {
  offer_seq(1);
  SpscRing again(region, small);
  ASSERT_TRUE(again.offer(std::vector<std::byte>(8), {.seq = 2}));
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1, 2}));
}

// Found by tests/fuzz/ring_fuzz: a lap of padding used to keep poll() going
// round the ring for ever.
TEST_F(SpscRingTest, PollOverALapOfCorruptPaddingReturnsAfterOneLap) {
  for (std::size_t at = 0; at < small.capacity_bytes; at += frame_alignment)
    publish_padding(region.data() + at, frame_alignment);
  auto n = ring.poll([](const FrameView&) { ADD_FAILURE() << "padding delivered"; }, 10);
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 0u);
  EXPECT_EQ(ring.consumer_position(), small.capacity_bytes);
}

// Found by tests/fuzz/ring_fuzz: a head that is not a frame boundary used to
// be read as a misaligned length word.
TEST_F(SpscRingTest, MisalignedHeadInSharedMemoryIsReportedNotRead) {
  offer_seq(1);
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Head).store(3);
  SpscRing attached(region, small);
  EXPECT_TRUE(attached.has_data()) << "an idle consumer must poll to see the error";
  auto n = attached.poll([](const FrameView&) { ADD_FAILURE() << "frame delivered"; }, 10);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error(), FrameError::Misaligned);
}

// Streaming (RingConsumer): a consumer that found a backlog leaves newer
// frames alone while the producer is less than a lead ahead and still
// writing; it reads them once the producer stops or gets a lead ahead.
// A 4 KiB ring: its lead (a quarter) is sixteen 64-byte frames, and a
// backlog of eight stays below the quarter-ring release (which would let
// the producer restart the lap).
constexpr RingGeometry four_k{.capacity_bytes = 4096, .max_frame_bytes = 128};
constexpr std::uint64_t backlog = StreamPacer::backlog_frames;

TEST_F(SpscRingTest, ConsumerThatFoundABacklogReadsTheNextFrameOnceTheProducerStops) {
  use_geometry(four_k);
  for (std::uint64_t s = 1; s <= backlog; ++s) offer_seq(s);
  EXPECT_EQ(drain().size(), backlog) << "a backlog: the consumer now reads behind a lead";
  offer_seq(backlog + 1);
  const auto held_from = std::chrono::steady_clock::now();
  EXPECT_TRUE(drain().empty()) << "held while the tail might still move";
  EXPECT_EQ(drain_count(1), (std::vector<std::uint64_t>{backlog + 1}));
  EXPECT_GE(std::chrono::steady_clock::now() - held_from, SpscRing::stream_end_still)
      << "read once the tail stood still that long";
  offer_seq(backlog + 2);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{backlog + 2})) << "the stream ended: read at once";
}

TEST_F(SpscRingTest, ConsumerThatFoundABacklogReadsAtOnceWhenTheProducerIsALeadAhead) {
  use_geometry(four_k);
  for (std::uint64_t s = 1; s <= backlog; ++s) offer_seq(s);
  EXPECT_EQ(drain().size(), backlog);
  std::vector<std::uint64_t> want;
  for (std::uint64_t s = backlog + 1; s <= backlog + 16; ++s) {
    offer_seq(s);
    want.push_back(s);
  }
  EXPECT_EQ(drain(), want);
}

TEST_F(SpscRingTest, ConsumerTakingOneFrameAPollEntersTheLeadModeToo) {
  use_geometry(four_k);
  for (std::uint64_t s = 1; s <= backlog; ++s) offer_seq(s);
  for (std::uint64_t s = 1; s <= backlog; ++s)
    ASSERT_EQ(drain(1), (std::vector<std::uint64_t>{s})) << "no empty poll in between";
  offer_seq(backlog + 1);
  EXPECT_TRUE(drain(1).empty()) << "a backlog was read, a frame a poll: held like a batch";
  EXPECT_EQ(drain_count(1), (std::vector<std::uint64_t>{backlog + 1}));
}

TEST_F(SpscRingTest, ConsumerReadsUpToTheTailThatGaveTheLeadWithoutWaitingAgain) {
  use_geometry(four_k);
  for (std::uint64_t s = 1; s <= backlog; ++s) offer_seq(s);
  EXPECT_EQ(drain().size(), backlog);
  for (std::uint64_t s = backlog + 1; s <= backlog + 16; ++s) offer_seq(s);
  // The first poll sees the lead; every later one reads on below that tail,
  // although what is left there is less than a lead.
  for (std::uint64_t s = backlog + 1; s <= backlog + 16; ++s)
    ASSERT_EQ(drain(1), (std::vector<std::uint64_t>{s}));
}

// Bursts of 1..7 frames, each read with polls of `limit` frames: every
// poll takes what is there at once, and the empty poll while the reply is
// awaited ends the run of frames, so no burst is ever held for a lead.
void expect_bursts_never_held(SpscRingTest& t, std::size_t limit) {
  t.use_geometry(four_k);
  std::uint64_t seq = 1;
  for (std::uint64_t burst = 1; burst < backlog; ++burst) {
    for (std::uint64_t i = 0; i < burst; ++i) t.offer_seq(seq + i);
    for (std::uint64_t left = burst; left > 0;) {
      const std::uint64_t n = std::min<std::uint64_t>(left, limit);
      std::vector<std::uint64_t> want;
      for (std::uint64_t i = 0; i < n; ++i) want.push_back(seq++);
      ASSERT_EQ(t.drain(limit), want) << "a burst of " << burst;
      left -= n;
    }
    ASSERT_TRUE(t.drain(limit).empty()) << "the reply's wait: an empty poll ends the run";
  }
}

TEST_F(SpscRingTest, RequestResponseBurstsAreNeverHeldBack) { expect_bursts_never_held(*this, 1000); }

TEST_F(SpscRingTest, RequestResponseBurstsReadAFrameAPollAreNeverHeldBack) {
  expect_bursts_never_held(*this, 1);
}

// A drained ring restarts at offset 0 (the lines a request/response
// exchange keeps reusing), and the consumer follows.
TEST_F(SpscRingTest, DrainedRingRestartsAtItsStartAndTheConsumerFollows) {
  offer_seq(1, 64);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(drain().empty());  // idle: released, so the ring is drained
  auto claim = ring.try_claim(64);
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->frame, region.data()) << "the frame reuses the ring's first lines";
  EXPECT_EQ(claim->position, small.capacity_bytes) << "at the start of the next lap";
  EXPECT_EQ(ring.commit(*claim, {.seq = 2}), small.capacity_bytes + 128)
      << "the frame after a restarting one starts on the next cache line";
  EXPECT_TRUE(restarts_lap(region.data()));
  ASSERT_TRUE(ring.poll([&](const FrameView& f) {
    EXPECT_EQ(f.seq(), 2u);
    EXPECT_EQ(f.flags(), unfragmented_flags) << "the ring's own flag is not the reader's";
  }, 10));
  EXPECT_EQ(ring.position(), small.capacity_bytes + 128) << "where the producer will write next";
  offer_seq(3, 64);
  EXPECT_EQ(load_length_acquire(region.data() + 128), 96);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{3}));
}

TEST_F(SpscRingTest, NoRestartWhileTheConsumerHoldsFrames) {
  offer_seq(1, 64);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  auto claim = ring.try_claim(64);  // read but not released: not drained
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->position, 96u);
}

// After a restart the producer may fill the whole ring before the consumer
// notices, writing over the consumer's old position: the consumer must
// still take the lap's first frame first.
TEST_F(SpscRingTest, BurstAfterARestartUsesTheWholeRingAndKeepsOrder) {
  offer_seq(1, 64);
  EXPECT_EQ(drain().size(), 1u);
  EXPECT_TRUE(drain().empty());
  std::uint64_t seq = 2;
  while (ring.offer(std::vector<std::byte>(64, std::byte(seq)), {.seq = seq})) ++seq;
  EXPECT_EQ(seq - 2, small.capacity_bytes / 96) << "no back-pressure before the ring is full";
  std::vector<std::uint64_t> want;
  for (std::uint64_t s = 2; s < seq; ++s) want.push_back(s);
  EXPECT_EQ(drain(), want);
}

// The consumer waiting at its old position loads that word until it sees
// the restart: a frame written after the restart must not put payload
// bytes there, so the producer pads up to it.
TEST_F(SpscRingTest, FramesAfterARestartPadRoundTheWordTheConsumerWaitsOn) {
  offer_seq(1, 64);  // the consumer will wait at 96
  EXPECT_EQ(drain().size(), 1u);
  EXPECT_TRUE(drain().empty());
  offer_seq(2, 0);   // restart: [0, 32), the next frame on the next line
  offer_seq(3, 64);  // [64, 160) would cover 96
  EXPECT_EQ(load_length_acquire(region.data() + 64), -32) << "padding up to the waiting word";
  EXPECT_EQ(load_length_acquire(region.data() + 96), 96) << "and a frame start on it";
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2, 3}));
}

// Padding is a frame to the restart rule: a claim that padded round the
// consumer's word and was aborted must not let the producer restart before
// the consumer read the padding (the consumer would leave it unzeroed and,
// a lap later, take it for the padding of the frame written there).
TEST_F(SpscRingTest, ClaimAbortedAfterItPaddedLosesNoLaterFrame) {
  offer_seq(1, 64);  // [0, 96): the consumer will wait at 96
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(drain().empty());
  offer_seq(2, 0);  // restart: [1024, 1056), the consumer waits at 1088
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
  EXPECT_TRUE(drain().empty());
  auto claim = ring.try_claim(64);  // would cover the word at 1120: padding [1088, 1120) first
  ASSERT_TRUE(claim);
  EXPECT_EQ(load_length_acquire(region.data() + 64), -32);
  ring.abort(*claim);
  std::vector<std::uint64_t> got;
  for (std::uint64_t s = 3; s <= 6; ++s) {  // one frame, one poll: request/response
    offer_seq(s, 0);
    for (auto r : drain()) got.push_back(r);
  }
  for (int i = 0; i < 3; ++i)
    for (auto r : drain()) got.push_back(r);
  EXPECT_EQ(got, (std::vector<std::uint64_t>{3, 4, 5, 6}));
}

// An aborted claim's payload goes back zeroed: a smaller frame in its place
// leaves its tail uncovered, and the consumer must read 0 there, not a length.
TEST_F(SpscRingTest, AbortedClaimLeavesNoPayloadBytesBehind) {
  auto claim = ring.try_claim(96);  // [0, 128)
  ASSERT_TRUE(claim);
  std::memset(claim->payload().data(), 0xff, claim->payload_bytes);
  ring.abort(*claim);
  offer_seq(1, 8);  // [0, 64): the word at 64 is the aborted payload's
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  offer_seq(2, 8);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
}

// A claim that ends exactly on the waiting consumer's word does not end
// the guard: aborted, a larger claim in its place would put payload bytes
// under the consumer's load. Only a published frame or padding does.
TEST_F(SpscRingTest, WaitWordStaysGuardedWhileAClaimEndingOnItMayBeAborted) {
  offer_seq(1, 32);  // [0, 64): the consumer will wait at 64
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(drain().empty());
  auto restarting = ring.try_claim(32);  // restart: [1024, 1088), ends on the word
  ASSERT_TRUE(restarting);
  EXPECT_EQ(restarting->position, 1024u);
  ring.abort(*restarting);
  auto larger = ring.try_claim(96);  // 128 bytes would cover the word at 1088
  ASSERT_TRUE(larger);
  EXPECT_EQ(larger->position, 1088u) << "padding up to the word first";
  std::memset(larger->payload().data(), 0xff, larger->payload_bytes);
  EXPECT_EQ(load_length_acquire(region.data() + 64), 0) << "no payload bytes under the waiting word";
  ring.commit(*larger, {.seq = 2});
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
}

// A poll with no room for frames may still follow a restart; the frame is
// then the next poll's.
TEST_F(SpscRingTest, PollOfNoFramesAfterARestartLosesNothing) {
  offer_seq(1, 64);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(drain().empty());
  offer_seq(2, 64);  // restarts
  EXPECT_TRUE(drain(0).empty());
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{2}));
  offer_seq(3, 64);
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{3}));
}

// A claim that restarted the lap and was aborted: the padding the next,
// larger claim puts at offset 0 is the restarting frame and must say so,
// or the consumer takes that claim's frame for its own next one and runs
// a lap behind the producer from then on (the ring wedged).
TEST_F(SpscRingTest, AbortedRestartingClaimLeavesTheRingFlowing) {
  offer_seq(1, 64);  // [0, 96): the consumer waits at 96
  EXPECT_EQ(drain(), (std::vector<std::uint64_t>{1}));
  EXPECT_TRUE(drain().empty());
  auto claim = ring.try_claim(0);  // restarts at 1024
  ASSERT_TRUE(claim);
  EXPECT_EQ(claim->position, 1024u);
  ring.abort(*claim);
  offer_seq(2, 96);  // 128 bytes would cover the word at 1120: padding from 1024 first
  std::uint64_t seq = 3;
  std::vector<std::uint64_t> got;
  for (int round = 0; round < 20; ++round) {
    while (ring.offer(std::vector<std::byte>(0), {.seq = seq})) ++seq;
    // Every frame offered so far (a full ring is a stream: wait out its pacing).
    for (auto s : drain_count(seq - 2 - got.size())) got.push_back(s);
  }
  std::vector<std::uint64_t> want;
  for (std::uint64_t s = 2; s < seq; ++s) want.push_back(s);
  EXPECT_EQ(got, want);
  EXPECT_GT(seq, 200u) << "the ring wedged";
}

TEST(SpscRingAttachTest, TailInSharedMemoryThatIsNoFrameBoundaryIsCorrupt) {
  std::vector<std::byte> region(ring_required_bytes(small.capacity_bytes));
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Tail).store(small.capacity_bytes - 8);
  trailer_counter(region, small.capacity_bytes, TrailerSlot::Head).store(64);
  SpscRing ring(region, small);
  auto claim = ring.try_claim(32);
  ASSERT_FALSE(claim) << "a header would run past the data area";
  EXPECT_EQ(claim.error(), RingError::Corrupt);
  EXPECT_EQ(ring.producer_position(), small.capacity_bytes - 8) << "trailer written over";
}

// A head past the tail can only have been written over: the producer
// says so instead of reading the ring as full for good (head is read when
// the cached one says full).
TEST_F(SpscRingTest, HeadPastTheTailIsCorrupt) {
  EXPECT_EQ(test::refusal_with_head_past_tail(ring, region, small.capacity_bytes, TrailerSlot::Head),
            RingError::Corrupt);
}

// Padding is published with the claim that needed it. A producer that
// aborted that claim and went away leaves the consumer past the padding:
// the next producer attaches there (not behind head, where its frames
// would never be read, nor refused as Corrupt).
TEST_F(SpscRingTest, ProducerAfterAnAbortedPaddedClaimAttachesPastThePadding) {
  std::uint64_t seq = 0;
  {
    SpscRing first(region, small);
    while (first.producer_position() + frame_bytes_for(64) <= small.capacity_bytes - frame_bytes_for(32))
      ASSERT_TRUE(first.offer(std::vector<std::byte>(64), FrameFields{.seq = ++seq}));
    ASSERT_EQ(drain(3).size(), 3u);  // room for the next lap's first frame
    auto claim = first.try_claim(64);  // does not fit before the end: padding first
    ASSERT_TRUE(claim);
    first.abort(*claim);
  }
  EXPECT_EQ(drain_count(seq - 3).size(), seq - 3);
  EXPECT_TRUE(drain_count(1).empty());  // reads past the padding
  ring.release_consumed();
  ASSERT_EQ(ring.consumer_position(), small.capacity_bytes);
  SpscRing next(region, small);
  ASSERT_TRUE(next.offer(std::vector<std::byte>(8), FrameFields{.seq = 100}));
  EXPECT_EQ(drain_count(1), (std::vector<std::uint64_t>{100}));
}

TEST_F(SpscRingTest, ConsumerAttachedBeforeTheRestartFindsTheNewLap) {
  offer_seq(1, 64);
  EXPECT_EQ(drain().size(), 1u);
  EXPECT_TRUE(drain().empty());
  offer_seq(2, 64);
  offer_seq(3, 64);
  SpscRing attached(region, small);  // resumes at the published head, 96
  EXPECT_TRUE(attached.has_data());
  EXPECT_EQ(test::poll_seqs(attached, 10), (std::vector<std::uint64_t>{2, 3}));
}

TEST_F(SpscRingTest, RandomBurstsAndDrainsKeepOrderAcrossRestarts) {
  std::mt19937 rng(11);
  std::uint64_t next_offer = 1, next_read = 1;
  for (int round = 0; round < 20000; ++round) {
    offer_random_burst(rng, static_cast<int>(rng() % 8), next_offer);
    for (int polls = rng() % 3; polls >= 0; --polls)
      ASSERT_NO_FATAL_FAILURE(read_in_order(rng() % 6 + 1, next_read));
  }
  EXPECT_GT(next_read, 10000u);
  EXPECT_GT(ring.consumer_position() / small.capacity_bytes, 2000u) << "restarts happened";
}

TEST(SpscRingConcurrentTest, PingPongWithBurstsKeepsOrderAcrossRestarts) {
  constexpr RingGeometry g{.capacity_bytes = 4096, .max_frame_bytes = 512};
  std::vector<std::byte> there(ring_required_bytes(g.capacity_bytes));
  std::vector<std::byte> back(ring_required_bytes(g.capacity_bytes));
  SpscRing to_peer(there, g), to_us(back, g);
  constexpr std::uint64_t rounds = 100'000;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  auto late = [&] { return std::chrono::steady_clock::now() > deadline; };
  std::atomic<bool> done{false};
  std::thread peer([&] {
    // Echoes each frame back, whatever the burst.
    while (!late() && (!done.load() || to_peer.has_data())) {
      (void)to_peer.poll([&](const FrameView& f) {
        while (!to_us.offer(f.payload(), {.seq = f.seq()}) && !late()) {
        }
      }, 8);
    }
  });
  std::mt19937 rng(5);
  std::uint64_t sent = 0, received = 0;
  for (std::uint64_t r = 0; r < rounds && !late(); ++r) {
    const std::uint64_t burst = 1 + (r % 3 == 0 ? rng() % 3 : 0);
    for (std::uint64_t k = 0; k < burst; ++k) {
      ++sent;
      const std::size_t size = rng() % 200;
      while (!to_peer.offer(std::vector<std::byte>(size, std::byte(sent)), {.seq = sent}) && !late()) {
      }
    }
    while (received < sent && !late()) {
      ASSERT_TRUE(to_us.poll([&](const FrameView& f) {
        ASSERT_EQ(f.seq(), received + 1);
        for (auto b : f.payload()) ASSERT_EQ(b, std::byte(f.seq()));
        ++received;
      }, 8));
    }
  }
  done = true;
  peer.join();
  EXPECT_FALSE(late());
  EXPECT_GT(to_peer.consumer_position() / g.capacity_bytes, rounds / 10) << "restarts happened";
}

TEST(SpscRingConcurrentTest, TwoThreadsTransferAMillionFramesInOrder) {
  constexpr RingGeometry g{.capacity_bytes = 64 * 1024, .max_frame_bytes = 1024};
  std::vector<std::byte> region(ring_required_bytes(g.capacity_bytes));
  SpscRing ring(region, g);
  constexpr std::uint64_t count = 1'000'000;
  std::latch start(2);
  std::thread producer([&] {
    start.arrive_and_wait();
    std::mt19937 rng(1);
    for (std::uint64_t seq = 1; seq <= count;) {
      const std::size_t size = rng() % 200;
      auto claim = ring.try_claim(size);
      if (!claim) { std::this_thread::yield(); continue; }
      for (std::size_t i = 0; i < size; ++i) claim->payload()[i] = std::byte(seq + i);
      ring.commit(*claim, {.seq = seq});
      ++seq;
    }
  });
  start.arrive_and_wait();
  std::uint64_t expected = 1;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (expected <= count && std::chrono::steady_clock::now() < deadline) {
    auto n = ring.poll([&](const FrameView& f) {
      ASSERT_EQ(f.seq(), expected);
      const auto p = f.payload();
      for (std::size_t i = 0; i < p.size(); ++i) ASSERT_EQ(p[i], std::byte(expected + i));
      ++expected;
    }, 64);
    ASSERT_TRUE(n);
    if (*n == 0) std::this_thread::yield();
  }
  producer.join();
  EXPECT_EQ(expected, count + 1);
}

}  // namespace
}  // namespace sluice::queue
