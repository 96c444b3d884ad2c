// The stream pacer's rules on a clock the test moves: when a streaming
// reader holds back, and what ends a hold (queue/stream_pacer.hpp).
#include "queue/stream_pacer.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>

namespace sluice::queue {
namespace {

using namespace std::chrono_literals;

struct TestClock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<TestClock>;
  static constexpr bool is_steady = true;
  static inline time_point current{};
  static time_point now() noexcept { return current; }
};
using Pacer = BasicStreamPacer<TestClock>;

constexpr std::size_t capacity = 1 << 20;  // lead: lead_max_bytes
constexpr std::int64_t lead = Pacer::lead_max_bytes;
constexpr auto still = 1000ns;
constexpr std::size_t backlog = Pacer::backlog_frames;

// A reader at `position` and a writer at `tail`; polls go through the pacer
// like a ring's: a poll that is not held reads up to the tail, or to the
// pacer's read_end(). The writer may add frames each time the reader looks
// at its progress (writes_per_look): it writes on while the reader reads.
struct StreamPacerTest : ::testing::Test {
  Pacer pacer{capacity, still};
  std::uint64_t position = 0;
  std::uint64_t tail = 0;
  int tail_reads = 0;
  std::size_t writes_per_look = 0;

  void SetUp() override { TestClock::current = TestClock::time_point{}; }
  // One poll of 64-byte frames; true if it was held back.
  bool poll(std::size_t limit = 1 << 20) {
    if (pacer.holds_back(position, [&] {
          ++tail_reads;
          const std::uint64_t seen = tail;
          write(writes_per_look);
          return seen;
        }))
      return true;
    const std::uint64_t start = position;
    const std::uint64_t end = pacer.read_end(position, tail);
    const std::size_t frames = std::min<std::size_t>((end - position) / 64, limit);
    position += frames * 64;
    pacer.after_poll(start, frames == 0, frames);
    return false;
  }
  void write(std::size_t frames) { tail += frames * 64; }
  void enter_stream() {
    write(backlog);
    ASSERT_FALSE(poll());
    ASSERT_EQ(position, tail);
  }
  void advance(std::chrono::nanoseconds d) { TestClock::current += d; }
};

TEST_F(StreamPacerTest, RequestResponseIsNeverHeld) {
  for (std::size_t burst = 1; burst < backlog; ++burst) {
    write(burst);
    EXPECT_FALSE(poll());
    EXPECT_EQ(position, tail);
    EXPECT_FALSE(poll()) << "the reply's wait: an idle poll";
  }
  EXPECT_EQ(tail_reads, 0) << "the progress word is not read outside a stream";
}

TEST_F(StreamPacerTest, AStreamThatStopsIsReadOnceItsWriterStoodStillForTheEndTime) {
  enter_stream();
  write(1);
  EXPECT_TRUE(poll());
  advance(still - 1ns);
  EXPECT_TRUE(poll());
  advance(1ns);
  EXPECT_FALSE(poll()) << "still for `still`: the stream ended";
  EXPECT_EQ(position, tail);
  write(1);
  EXPECT_FALSE(poll()) << "no longer streaming: read as frames land";
  EXPECT_EQ(position, tail);
}

TEST_F(StreamPacerTest, AWriterALeadAheadIsReadAtOnceAndTheStreamGoesOn) {
  enter_stream();
  write(1);
  EXPECT_TRUE(poll());
  write(lead / 64);
  advance(Pacer::look_interval);
  EXPECT_FALSE(poll());
  EXPECT_EQ(position, tail);
  write(1);
  EXPECT_TRUE(poll()) << "still streaming: the next frames wait for a lead again";
}

// Starts a hold (and writes `burst` frames once it began), then polls once
// per 400 ns while the writer adds `frames_per_400ns` frames, until a poll
// is not held back; returns how long the hold lasted.
std::chrono::nanoseconds hold_while_writing(StreamPacerTest& t, std::size_t frames_per_400ns,
                                            std::size_t burst = 0) {
  t.write(1);
  EXPECT_TRUE(t.poll());
  t.write(burst);
  std::chrono::nanoseconds waited{};
  for (bool held = true; held;) {
    t.advance(400ns);
    waited += 400ns;
    t.write(frames_per_400ns);
    held = t.poll();
    if (waited > Pacer::hold_max) {
      ADD_FAILURE() << "a hold never lasts longer than hold_max";
      break;
    }
  }
  return waited;
}

void expect_frames_read_as_they_land(StreamPacerTest& t) {
  EXPECT_EQ(t.position, t.tail) << "the frames the hold let pile up are read";
  for (int i = 0; i < 20; ++i) {
    t.write(1);
    EXPECT_FALSE(t.poll()) << "frame " << i << ": not streaming (the catch-up was no backlog)";
    EXPECT_EQ(t.position, t.tail);
    EXPECT_FALSE(t.poll()) << "the wait for the next paced frame";
  }
}

TEST_F(StreamPacerTest, AWriterPacedAtAFrameEvery400nsIsReadOnceTheHoldShowedItsPace) {
  enter_stream();
  // Never still for `still`, and 160 bytes a microsecond: paced.
  const auto waited = hold_while_writing(*this, 1);
  EXPECT_GE(waited, still);
  EXPECT_LT(waited, still + 400ns) << "read at the first poll after `still`";
  expect_frames_read_as_they_land(*this);
}

TEST_F(StreamPacerTest, AWriterThatSlowsToAPacedRateInTheHoldIsReadAfterTheLongestHold) {
  enter_stream();
  // Past the paced rate in the first `still` (16 frames, 1 KiB), then a
  // frame per 400 ns: short of the paced rate's 3 KiB in hold_max.
  EXPECT_EQ(hold_while_writing(*this, 1, 16), Pacer::hold_max);
  expect_frames_read_as_they_land(*this);
}

TEST_F(StreamPacerTest, AWriterFasterThanThePacedRateStreamsOnAfterTheLongestHold) {
  enter_stream();
  // 640 bytes per 400 ns, well past the paced rate, short of a lead in hold_max.
  EXPECT_EQ(hold_while_writing(*this, 10), Pacer::hold_max);
  EXPECT_EQ(position, tail);
  write(1);
  EXPECT_TRUE(poll()) << "still streaming";
}

TEST_F(StreamPacerTest, AfterAHoldTheReaderReadsUpToTheProgressItSawNotOnToTheWriter) {
  enter_stream();
  write(1);
  EXPECT_TRUE(poll());
  write(lead / 64);
  advance(Pacer::look_interval);
  writes_per_look = 8;  // the writer goes on while the reader catches up
  const std::uint64_t seen = tail;
  EXPECT_FALSE(poll()) << "a lead ahead: the hold ends";
  EXPECT_EQ(position, seen) << "read up to the progress word that ended the hold";
  EXPECT_LT(position, tail);
  EXPECT_TRUE(poll()) << "the frames written since wait for the next lead";
}

TEST_F(StreamPacerTest, TheCatchUpNeverReadsPastTheCallersBound) {
  enter_stream();
  write(1);
  EXPECT_TRUE(poll());
  tail += std::uint64_t{1} << 62;  // a corrupt progress word, far ahead
  advance(Pacer::look_interval);
  EXPECT_FALSE(pacer.holds_back(position, [&] { return tail; })) << "a lead ahead, as the word tells";
  const std::uint64_t bound = position + 4096;  // e.g. a lap past what was released
  EXPECT_EQ(pacer.read_end(position, bound), bound);
  EXPECT_EQ(pacer.read_end(position, tail + 64), tail) << "within the bound, the word is the end";
}

TEST_F(StreamPacerTest, AHeldReaderReadsTheProgressWordOncePerLookInterval) {
  enter_stream();
  write(1);
  tail_reads = 0;
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(poll());
    advance(Pacer::look_interval / 50);
  }
  EXPECT_EQ(tail_reads, 2) << "at the hold's start and once an interval later";
}

TEST_F(StreamPacerTest, AFrameAPollEntersTheStreamToo) {
  write(backlog + 1);
  for (std::size_t i = 0; i < backlog; ++i) ASSERT_FALSE(poll(1));
  EXPECT_TRUE(poll(1)) << "a backlog was read a frame a poll: held like a batch";
}

}  // namespace
}  // namespace sluice::queue
