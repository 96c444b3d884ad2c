// The user API within one process: what a caller sees for each outcome.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <list>
#include <numeric>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "shm/liveness.hpp"
#include "shm/segment.hpp"
#include "sluice.hpp"
#include "tests/support/child_process.hpp"

namespace sluice {
namespace {

struct ApiTest : ::testing::Test {
  std::string name = test::unique_name("api");
  Context ctx;
  ~ApiTest() override { boost::interprocess::shared_memory_object::remove(("sluice-" + name).c_str()); }
  std::string uri(const std::string& params = "") const {
    return "shm:" + name + (params.empty() ? "" : "?" + params);
  }
  // Polls (limit frames at a time, counting messages into `got`) until the
  // subscription reports an error; none within 100k polls is a failure.
  static std::optional<Error> poll_until_error(Subscription& sub, std::size_t& got, std::size_t limit) {
    for (int i = 0; i < 100'000; ++i) {
      auto r = sub.poll([&](const Message&) { ++got; }, limit);
      if (!r) return r.error();
    }
    ADD_FAILURE() << "no error after 100000 polls";
    return std::nullopt;
  }
  static std::vector<std::byte> bytes(std::size_t n, int first = 0) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i) v[i] = std::byte(first + i);
    return v;
  }
};

TEST_F(ApiTest, OfferedMessagesArriveInOrderWithGapFreeSeqs) {
  auto pub = ctx.publication(uri());
  auto sub = ctx.subscription(uri());
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(pub.offer(bytes(i, i)));
  std::vector<std::uint64_t> seqs;
  while (seqs.size() < 100) {
    auto n = sub.poll([&](const Message& m) {
      EXPECT_EQ(m.payload().size(), seqs.size());
      EXPECT_EQ(m.session_id(), pub.session_id());
      if (!m.payload().empty()) {
        EXPECT_EQ(m.payload()[0], std::byte(seqs.size()));
      }
      seqs.push_back(m.seq());
    }, 7);
    ASSERT_TRUE(n);
  }
  std::vector<std::uint64_t> expected(100);
  std::iota(expected.begin(), expected.end(), 1);
  EXPECT_EQ(seqs, expected);
}

TEST_F(ApiTest, ClaimedFrameIsDeliveredWithItsContent) {
  auto pub = ctx.publication(uri());
  auto sub = ctx.subscription(uri());
  auto claim = pub.try_claim(16);
  ASSERT_TRUE(claim);
  std::memcpy(claim->payload().data(), "zero-copy claim!", 16);
  claim->commit();
  ASSERT_TRUE(sub.poll([&](const Message& m) {
    EXPECT_EQ(m.payload().size(), 16u);
    EXPECT_EQ(std::memcmp(m.payload().data(), "zero-copy claim!", 16), 0);
  }, 1));
}

TEST_F(ApiTest, AbortedClaimIsNeverDelivered) {
  auto pub = ctx.publication(uri());
  auto sub = ctx.subscription(uri());
  auto claim = pub.try_claim(16);
  ASSERT_TRUE(claim);
  claim->abort();
  ASSERT_TRUE(pub.offer(bytes(3)));
  std::vector<std::uint64_t> seqs;
  ASSERT_TRUE(sub.poll([&](const Message& m) { seqs.push_back(m.seq()); }, 10));
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1}));
}

// A moved-from publication or subscription is detached: it reports so
// (never touches the channel it gave away), can be moved again, and the
// moved-to one carries on.
TEST_F(ApiTest, MovedFromPublicationAndSubscriptionAreDetached) {
  for (const char* kind : {"spsc", "mpsc", "broadcast"}) {
    SCOPED_TRACE(kind);
    const std::string channel = "shm:" + name + "-" + kind + "?kind=" + kind;
    auto pub = ctx.publication(channel);
    auto sub = ctx.subscription(channel);
    Publication moved_pub(std::move(pub));
    Subscription moved_sub(std::move(sub));
    EXPECT_EQ(pub.offer(bytes(4)).error(), Error::Closed);
    EXPECT_EQ(pub.try_claim(4).error(), Error::Closed);
    EXPECT_EQ(sub.poll([](const Message&) { ADD_FAILURE(); }, 10).error(), Error::NotConnected);
    { Publication again(std::move(pub)); }
    { Subscription again(std::move(sub)); }
    ASSERT_TRUE(moved_pub.offer(bytes(4)));
    std::size_t got = 0;
    for (int i = 0; i < 1000 && got == 0; ++i) ASSERT_TRUE(moved_sub.poll([&](const Message&) { ++got; }, 10));
    EXPECT_EQ(got, 1u);
    Context::remove_channel(channel);
  }
}

// A claim dropped uncommitted (an exception between claim and commit) is
// aborted: on an mpsc channel the frames behind it flow at once, with no
// stale-claim timeout, and the claim itself is never delivered.
TEST_F(ApiTest, ClaimLeftUncommittedIsAbortedWhenItGoesOutOfScope) {
  Context patient(ContextOptions{.stale_claim_timeout = std::chrono::hours(1)});
  auto sub = patient.subscription(uri("kind=mpsc"));
  auto first = patient.publication(uri("kind=mpsc"));
  auto second = patient.publication(uri("kind=mpsc"));
  try {
    auto claim = first.try_claim(8);
    ASSERT_TRUE(claim);
    ASSERT_TRUE(second.offer(bytes(4)));
    throw std::runtime_error("filling the claim failed");
  } catch (const std::runtime_error&) {
  }
  std::vector<std::uint32_t> sessions;
  for (int i = 0; i < 1000 && sessions.empty(); ++i)
    ASSERT_TRUE(sub.poll([&](const Message& m) { sessions.push_back(m.session_id()); }, 10));
  EXPECT_EQ(sessions, (std::vector<std::uint32_t>{second.session_id()}));
  EXPECT_EQ(sub.counters().get(Counter::stale_claims), 0u);
}

TEST_F(ApiTest, ClaimIsCommittedOrAbortedOnceAndMovesWithItsFrame) {
  auto pub = ctx.publication(uri());
  auto sub = ctx.subscription(uri());
  auto claim = pub.try_claim(4);
  ASSERT_TRUE(claim);
  Publication::Claim moved = std::move(*claim);
  std::memcpy(moved.payload().data(), "once", 4);
  const auto end = moved.commit();
  EXPECT_EQ(moved.commit(), end) << "a second commit published again";
  moved.abort();  // after the commit: nothing to give back
  claim->commit();  // moved from: nothing to publish
  auto dropped = pub.try_claim(4);
  ASSERT_TRUE(dropped);
  dropped->abort();
  EXPECT_EQ(dropped->commit(), 0u) << "an aborted claim was published";
  std::vector<std::string> got;
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(sub.poll([&](const Message& m) {
      got.emplace_back(reinterpret_cast<const char*>(m.payload().data()), m.payload().size());
    }, 10));
  EXPECT_EQ(got, (std::vector<std::string>{"once"}));
}

// A publication has one claim open at a time. spsc and broadcast write
// their next frame where the claim is (it would write over the claim, or
// the claim's abort over it); on mpsc a frame after the claim would carry
// an earlier seq than the claim's commit (a gap, then a duplicate dropped).
// While one is open, another claim or an offer is refused, and a claim
// replaced by a refused one is aborted, never published.
TEST_F(ApiTest, OneClaimAtATime) {
  for (const std::string kind : {"spsc", "mpsc", "broadcast"}) {
    SCOPED_TRACE(kind);
    const auto channel = "shm:" + name + "-" + kind + "?kind=" + kind;
    struct Removal {
      std::string channel;
      ~Removal() { Context::remove_channel(channel); }
    } removal{channel};
    auto sub = ctx.subscription(channel);
    auto pub = ctx.publication(channel);
    auto claim = pub.try_claim(4);
    ASSERT_TRUE(claim);
    EXPECT_EQ(pub.offer(bytes(4)).error(), Error::ClaimOpen);
    EXPECT_EQ(pub.try_claim(4).error(), Error::ClaimOpen);
    std::memcpy(claim->payload().data(), "1st.", 4);
    claim->commit();
    ASSERT_TRUE(pub.offer(std::vector<std::byte>(4, std::byte{'2'})));
    claim = pub.try_claim(8);
    ASSERT_TRUE(claim);
    claim = pub.try_claim(8);  // refused; the claim it replaces is aborted
    EXPECT_EQ(claim.error(), Error::ClaimOpen);
    ASSERT_TRUE(pub.offer(std::vector<std::byte>(4, std::byte{'3'})));
    std::vector<std::string> got;
    for (int i = 0; i < 100 && got.size() < 3; ++i)
      ASSERT_TRUE(sub.poll([&](const Message& m) {
        got.emplace_back(reinterpret_cast<const char*>(m.payload().data()), m.payload().size());
      }, 10));
    EXPECT_EQ(got, (std::vector<std::string>{"1st.", "2222", "3333"}));
    EXPECT_EQ(sub.counters().get(Counter::gaps), 0u);
  }
}

// The open claim would commit through the moved-from object's ring, or a
// destroyed one. (A forked child moves or destroys this test's
// publication: it makes no segment of its own, so it leaves nothing behind.)
TEST_F(ApiTest, MovingAPublicationWithAClaimOpenTerminates) {
  GTEST_FLAG_SET(death_test_style, "fast");
  auto pub = ctx.publication(uri());
  auto claim = pub.try_claim(4);
  ASSERT_TRUE(claim);
  EXPECT_DEATH(Publication moved(std::move(pub)), "moved with a claim open");
}

TEST_F(ApiTest, DestroyingAPublicationWithAClaimOpenTerminates) {
  GTEST_FLAG_SET(death_test_style, "fast");
  std::optional<Publication> pub(ctx.publication(uri()));
  auto claim = pub->try_claim(4);
  ASSERT_TRUE(claim);
  EXPECT_DEATH(pub.reset(), "destroyed with a claim open");
}

TEST_F(ApiTest, FullRingReportsBackPressureAndCountsIt) {
  auto pub = ctx.publication(uri("capacity=4k&max_frame=256"));
  auto sub = ctx.subscription(uri());
  int accepted = 0;
  std::expected<std::uint64_t, Error> r;
  while ((r = pub.offer(bytes(100)))) ++accepted;
  EXPECT_EQ(r.error(), Error::BackPressured);
  EXPECT_GT(accepted, 0);
  EXPECT_EQ(pub.counters().get(Counter::back_pressured), 1u);
}

TEST_F(ApiTest, MessageAboveMaxMessageIsTooLarge) {
  auto pub = ctx.publication(uri("capacity=64k&max_frame=1k"));
  EXPECT_EQ(pub.max_message_bytes(), 16u << 10);
  EXPECT_EQ(pub.offer(bytes(16 << 10)).has_value(), true);
  EXPECT_EQ(pub.offer(bytes((16 << 10) + 1)).error(), Error::TooLarge);
  EXPECT_EQ(pub.try_claim(1024).error(), Error::TooLarge);
}

TEST_F(ApiTest, MaxMessageBelowOneFrameBoundsWholeMessagesToo) {
  auto pub = ctx.publication(uri("capacity=64k&max_frame=1k&max_message=100"));
  EXPECT_EQ(pub.max_message_bytes(), 100u);
  EXPECT_TRUE(pub.offer(bytes(100)).has_value());
  EXPECT_EQ(pub.offer(bytes(101)).error(), Error::TooLarge);
  EXPECT_EQ(pub.try_claim(101).error(), Error::TooLarge);
  EXPECT_EQ(pub.counters().get(Counter::messages_sent), 1u);
}

TEST_F(ApiTest, LargeMessagesAreFragmentedAndReassembledOnce) {
  auto pub = ctx.publication(uri("capacity=256k&max_frame=1k"));
  auto sub = ctx.subscription(uri());
  const auto big = bytes(50'000, 9);
  ASSERT_TRUE(pub.offer(big));
  ASSERT_TRUE(pub.offer(bytes(10)));
  std::vector<std::size_t> sizes;
  while (sizes.size() < 2) {
    ASSERT_TRUE(sub.poll([&](const Message& m) {
      sizes.push_back(m.payload().size());
      if (m.payload().size() == big.size()) {
        EXPECT_TRUE(m.reassembled());
        EXPECT_TRUE(std::equal(big.begin(), big.end(), m.payload().begin()));
      }
    }, 100));
  }
  EXPECT_EQ(sizes, (std::vector<std::size_t>{50'000, 10}));
  EXPECT_EQ(pub.counters().get(Counter::frames_sent), 52u);  // 51 fragments + 1 frame
  EXPECT_EQ(pub.counters().get(Counter::messages_sent), 2u);
}

TEST_F(ApiTest, FragmentedOfferBackPressuredHalfWayIsDroppedWholeAndCounted) {
  auto pub = ctx.publication(uri("capacity=64k&max_frame=1k"));
  auto sub = ctx.subscription(uri());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(pub.offer(bytes(16'000)));  // ~52 KiB of 64
  EXPECT_EQ(pub.offer(bytes(16'000, 1)).error(), Error::BackPressured);  // part of it got in
  std::vector<std::size_t> sizes;
  ASSERT_TRUE(sub.poll([&](const Message& m) { sizes.push_back(m.payload().size()); }, 1000));
  ASSERT_TRUE(pub.offer(bytes(16'000, 1)));  // the retry
  ASSERT_TRUE(sub.poll([&](const Message& m) {
    sizes.push_back(m.payload().size());
    EXPECT_EQ(m.payload()[0], std::byte(1));
  }, 1000));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{16'000, 16'000, 16'000, 16'000}));
  EXPECT_GT(sub.counters().get(Counter::fragments_dropped), 0u);
}

TEST_F(ApiTest, CountersAreReadableFromTheCountersSegment) {
  auto pub = ctx.publication(uri());
  auto sub = ctx.subscription(uri());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(pub.offer(bytes(10)));
  ASSERT_TRUE(sub.poll([](const Message&) {}, 10));
  CountersReader reader(static_cast<std::uint64_t>(::getpid()));
  const auto entries = reader.snapshot();
  ASSERT_EQ(entries.size(), 2u);
  for (const auto& e : entries) {
    EXPECT_EQ(e.channel, uri());
    if (e.role == CountersSegment::Role::Publication) {
      EXPECT_EQ(e.value(Counter::messages_sent), 5u);
      EXPECT_EQ(e.value(Counter::bytes_sent), 50u);
      EXPECT_EQ(e.session_id, pub.session_id());
      EXPECT_EQ(e.value(Counter::position), sub.position());
    } else {
      EXPECT_EQ(e.value(Counter::messages_received), 5u);
      EXPECT_EQ(e.value(Counter::bytes_received), 50u);
      EXPECT_EQ(e.value(Counter::position), sub.position());
    }
  }
}

TEST(ContextOptionsCheck, NonsenseIsASetupErrorNamingTheOption) {
  using namespace std::chrono_literals;
  auto error_of = [](ContextOptions o) -> std::string {
    try {
      Context c(o);
    } catch (const SetupError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of({.heartbeat_interval = 0ms}).find("heartbeat_interval"), std::string::npos);
  EXPECT_NE(error_of({.heartbeat_interval = 100ms, .publisher_timeout = 100ms}).find("publisher_timeout"),
            std::string::npos);
  EXPECT_NE(error_of({.subscriber_timeout = 50ms}).find("subscriber_timeout"), std::string::npos);
  EXPECT_NE(error_of({.stale_claim_timeout = -1ms}).find("stale_claim_timeout"), std::string::npos);
  EXPECT_EQ(error_of({.heartbeat_interval = 10ms, .publisher_timeout = 20ms}), "");
}

TEST_F(ApiTest, PositionCounterSaysWhereASubscriptionStartsBeforeItsFirstPoll) {
  auto pub = ctx.publication(uri("capacity=64k&max_frame=1k"));
  {
    auto first = ctx.subscription(uri());
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(pub.offer(bytes(100)));
    std::size_t got = 0;
    for (int i = 0; i < 1000 && got < 3; ++i) ASSERT_TRUE(first.poll([&](const Message&) { ++got; }, 10));
    ASSERT_EQ(got, 3u);
  }
  ASSERT_TRUE(pub.offer(bytes(100)));  // the ring does not restart under an unread frame
  auto next = ctx.subscription(uri());
  EXPECT_GT(next.position(), 0u);
  EXPECT_EQ(next.counters().get(Counter::position), next.position());
}

// A child forked while the parent has a Context inherits it; dropping it
// must not remove the parent's counters segment (named after the parent).
TEST_F(ApiTest, ForkedChildDroppingItsInheritedContextLeavesTheParentsCounters) {
  std::optional<Context> inherited;
  inherited.emplace();
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(10);
    inherited.reset();
    ::_exit(0);
  }
  ASSERT_GT(child, 0);
  int status = 0;
  ::waitpid(child, &status, 0);
  EXPECT_NO_THROW(CountersReader(static_cast<std::uint64_t>(::getpid())));
  boost::interprocess::shared_memory_object::remove(counters_segment_name(static_cast<std::uint64_t>(child)).c_str());
}

TEST_F(ApiTest, ContextsOfOneProcessShareItsCountersSegment) {
  auto pub = ctx.publication(uri());
  {
    Context second;
    EXPECT_EQ(second.counters_segment(), ctx.counters_segment());
  }
  // The second Context's end leaves the segment to the first.
  CountersReader reader(static_cast<std::uint64_t>(::getpid()));
  const auto entries = reader.snapshot();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].channel, uri());
}

// A publication or subscription refused for want of a counters block must
// not keep the channel's liveness slot (it would stay closed to everyone).
TEST_F(ApiTest, RefusedForWantOfCountersLeavesTheChannelFree) {
  const std::string fillers = "shm:" + name + "-fill?kind=broadcast&capacity=4k&max_frame=256";
  std::list<Subscription> taken;  // broadcast subscriptions: a block each, no slot
  for (std::size_t i = 0; i < max_counter_blocks; ++i) taken.push_back(ctx.subscription(fillers));
  EXPECT_THROW((void)ctx.publication(uri()), SetupError);
  EXPECT_THROW((void)ctx.subscription(uri()), SetupError);
  taken.pop_back();
  EXPECT_NO_THROW((void)ctx.publication(uri()));  // the spsc publisher slot is free
  EXPECT_NO_THROW((void)ctx.subscription(uri()));  // and the subscriber slot
  taken.clear();
  Context::remove_channel(fillers);
}

// Contexts coming and going on two threads: the last one's end never
// removes the segment another thread's new one has just made.
// (No fixture: its Context would keep the segment alive throughout.)
TEST(ContextCounters, ContextsOnTwoThreadsNeverRemoveEachOthersCountersSegment) {
  const std::string path = "/dev/shm/" + counters_segment_name(static_cast<std::uint64_t>(::getpid()));
  std::atomic<int> missing{0};
  auto churn = [&] {
    for (int i = 0; i < 2000; ++i) {
      Context c;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0) ++missing;
    }
  };
  std::thread other(churn);
  churn();
  other.join();
  EXPECT_EQ(missing.load(), 0);
}

TEST_F(ApiTest, RestartedPublisherGetsANewSessionAndIsTrackedAfresh) {
  auto sub = ctx.subscription(uri());
  std::uint32_t first_session;
  {
    auto pub = ctx.publication(uri());
    first_session = pub.session_id();
    ASSERT_TRUE(pub.offer(bytes(1)));
  }
  auto pub = ctx.publication(uri());
  EXPECT_NE(pub.session_id(), first_session);
  ASSERT_TRUE(pub.offer(bytes(1)));
  std::vector<std::pair<std::uint32_t, std::uint64_t>> got;
  ASSERT_TRUE(sub.poll([&](const Message& m) { got.emplace_back(m.session_id(), m.seq()); }, 10));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].second, 1u);
  EXPECT_EQ(got[1].second, 1u);
  EXPECT_EQ(sub.counters().get(Counter::duplicates), 0u);
}

TEST_F(ApiTest, BroadcastSubscriberReplaysFromAPositionItRecorded) {
  auto pub = ctx.publication(uri("kind=broadcast"));
  auto first = ctx.subscription(uri());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(pub.offer(bytes(10, i)));
  std::vector<std::uint64_t> seen;
  ASSERT_TRUE(first.poll([&](const Message& m) { seen.push_back(m.seq()); }, 4));
  const auto resume_at = first.position();
  auto replay = ctx.subscription(uri("start=" + std::to_string(resume_at)));
  std::vector<std::uint64_t> replayed;
  ASSERT_TRUE(replay.poll([&](const Message& m) { replayed.push_back(m.seq()); }, 100));
  EXPECT_EQ(seen, (std::vector<std::uint64_t>{1, 2, 3, 4}));
  EXPECT_EQ(replayed, (std::vector<std::uint64_t>{5, 6, 7, 8, 9, 10}));
}

// A position read while a fragmented message is half read names that
// message's first fragment: a replay from it gets the message whole, where
// one from the next fragment would drop the rest.
TEST_F(ApiTest, ReplayFromAPositionTakenMidMessageGetsThatMessageWhole) {
  auto pub = ctx.publication(uri("kind=broadcast&max_frame=1k"));
  auto first = ctx.subscription(uri());
  ASSERT_TRUE(pub.offer(bytes(100, 1)));
  ASSERT_TRUE(pub.offer(bytes(2500, 2)));  // three fragments
  ASSERT_TRUE(pub.offer(bytes(100, 3)));
  std::vector<std::vector<std::byte>> seen;
  const auto keep = [](auto& into) {
    return [&into](const Message& m) { into.emplace_back(m.payload().begin(), m.payload().end()); };
  };
  for (int frame = 0; frame < 3; ++frame) ASSERT_TRUE(first.poll(keep(seen), 1));  // 100, then 2 of 3
  ASSERT_EQ(seen.size(), 1u);
  const auto resume_at = first.position();
  EXPECT_EQ(first.counters().get(Counter::position), resume_at);
  auto replay = ctx.subscription(uri("start=" + std::to_string(resume_at)));
  std::vector<std::vector<std::byte>> replayed;
  ASSERT_TRUE(replay.poll(keep(replayed), 100));
  ASSERT_EQ(replayed.size(), 2u);
  EXPECT_EQ(replayed[0], bytes(2500, 2));
  EXPECT_EQ(replayed[1], bytes(100, 3));
  EXPECT_EQ(replay.counters().get(Counter::fragments_dropped), 0u);
  // The first subscription goes on from where it read, not from there.
  ASSERT_TRUE(first.poll(keep(seen), 100));
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[1], bytes(2500, 2));
  EXPECT_EQ(first.position(), replay.position());
}

TEST_F(ApiTest, MovedSubscriptionKeepsItsHalfReadMessage) {
  auto pub = ctx.publication(uri("kind=broadcast&max_frame=1k"));
  auto sub = ctx.subscription(uri());
  ASSERT_TRUE(pub.offer(bytes(10, 1)));
  ASSERT_TRUE(pub.offer(bytes(2500, 2)));  // three fragments
  for (int frame = 0; frame < 3; ++frame) ASSERT_TRUE(sub.poll([](const Message&) {}, 1));
  const auto resume_at = sub.position();
  Subscription moved(std::move(sub));
  EXPECT_EQ(moved.position(), resume_at);
  std::vector<std::byte> got;
  ASSERT_TRUE(moved.poll([&](const Message& m) { got.assign(m.payload().begin(), m.payload().end()); }, 10));
  EXPECT_EQ(got, bytes(2500, 2));
}

// seek() takes the writer's current lap only: a message begun at the end
// of the previous lap is named by its next fragment, a position a replay
// can start from (dropping, and counting, the rest of that message).
TEST_F(ApiTest, PositionMidMessageBegunInThePreviousLapNamesTheNextFragment) {
  auto pub = ctx.publication(uri("kind=broadcast&capacity=64k&max_frame=1k"));
  auto first = ctx.subscription(uri());
  const std::size_t fragment = 1024 - 32;  // one whole frame
  std::vector<std::vector<std::byte>> seen;
  const auto keep = [](auto& into) {
    return [&into](const Message& m) { into.emplace_back(m.payload().begin(), m.payload().end()); };
  };
  const auto read_frames = [&](std::uint64_t frames) {
    for (int poll = 0; poll < 100'000 && first.counters().get(Counter::frames_received) < frames; ++poll)
      ASSERT_TRUE(first.poll(keep(seen), 1));
    ASSERT_EQ(first.counters().get(Counter::frames_received), frames);
  };
  // Read as written: a broadcast writer laps a reader that lags a ring behind.
  for (int i = 0; i < 63; ++i) ASSERT_TRUE(pub.offer(bytes(fragment, i)));  // up to 1 KiB before the lap end
  read_frames(63);
  ASSERT_TRUE(pub.offer(bytes(3 * fragment, 7)));  // its first fragment ends the lap
  ASSERT_TRUE(pub.offer(bytes(10, 8)));
  read_frames(65);  // two of its three fragments
  EXPECT_EQ(first.position(), 64 * 1024u + 1024u);
  std::optional<Subscription> replay;
  ASSERT_NO_THROW(replay.emplace(ctx.subscription(uri("start=" + std::to_string(first.position())))));
  std::vector<std::vector<std::byte>> replayed;
  ASSERT_TRUE(replay->poll(keep(replayed), 100));
  ASSERT_EQ(replayed.size(), 1u);
  EXPECT_EQ(replayed[0], bytes(10, 8));
  EXPECT_EQ(replay->counters().get(Counter::fragments_dropped), 1u);
}

// A reader lapped while a message was half read drops (and counts) its
// fragments: its position is the writer's, not the lapped first fragment's.
TEST_F(ApiTest, LappedReaderDropsItsHalfReadMessage) {
  auto pub = ctx.publication(uri("kind=broadcast&capacity=64k&max_frame=1k"));
  auto sub = ctx.subscription(uri());
  const std::size_t fragment = 1024 - 32;
  ASSERT_TRUE(pub.offer(bytes(3 * fragment, 1)));
  std::vector<std::vector<std::byte>> seen;
  const auto keep = [&seen](const Message& m) { seen.emplace_back(m.payload().begin(), m.payload().end()); };
  for (int frame = 0; frame < 2; ++frame) ASSERT_TRUE(sub.poll(keep, 1));
  EXPECT_EQ(sub.position(), 0u) << "the half-read message's first fragment";
  for (int i = 0; i < 70; ++i) ASSERT_TRUE(pub.offer(bytes(fragment, i)));  // more than a lap
  for (int poll = 0; poll < 100'000 && sub.counters().get(Counter::lapped) == 0; ++poll)
    ASSERT_TRUE(sub.poll(keep, 100));
  EXPECT_EQ(sub.counters().get(Counter::lapped), 1u);
  EXPECT_EQ(sub.counters().get(Counter::fragments_dropped), 2u);
  EXPECT_TRUE(seen.empty());
  EXPECT_NE(sub.position(), 0u);
  EXPECT_EQ(sub.counters().get(Counter::position), sub.position());
  EXPECT_NO_THROW((void)ctx.subscription(uri("start=" + std::to_string(sub.position()))));
}

TEST_F(ApiTest, StartPositionThatIsNotAFrameBoundaryIsASetupError) {
  auto pub = ctx.publication(uri("kind=broadcast"));
  ASSERT_TRUE(pub.offer(bytes(100)));
  EXPECT_THROW((void)ctx.subscription(uri("start=32")), SetupError);
  EXPECT_THROW((void)ctx.subscription(uri("start=999999")), SetupError);
}

TEST_F(ApiTest, StartPositionOnAnSpscChannelIsASetupError) {
  auto pub = ctx.publication(uri());
  EXPECT_THROW((void)ctx.subscription(uri("start=0")), SetupError);
}

// A refused URI creates no segment: one left behind would refuse the
// corrected URI for disagreeing with it.
TEST_F(ApiTest, RefusedUriLeavesNoSegmentBehind) {
  EXPECT_THROW((void)ctx.publication(uri("capacity=64k&max_frame=1k&max_message=1m")), SetupError);
  EXPECT_THROW((void)ctx.publication(uri("max_message=512k")), SetupError);  // capacity 1m by default
  EXPECT_THROW((void)ctx.publication(uri("kind=broadcast&start=earliest")), SetupError);
  EXPECT_THROW((void)ctx.subscription(uri("kind=broadcast&start=4096")), SetupError);
  auto pub = ctx.publication(uri("capacity=4m&max_frame=1k&max_message=1m"));
  EXPECT_EQ(pub.max_message_bytes(), 1u << 20);
  auto sub = ctx.subscription(uri("max_message=1m&capacity=4m"));
  // Unset, the capacity is the existing segment's (4m), not the default's.
  Context::remove_channel(uri());
  auto mpsc = ctx.publication(uri("kind=mpsc&capacity=4m"));
  EXPECT_NO_THROW((void)ctx.publication(uri("max_message=1m")));
}

// A subscriber stopped past subscriber_timeout in another pid namespace
// loses its channel to the next one. Resumed, it must find out before it
// reads on (the two would race over the same frames) and, closing, leave
// the slot and the unread frames to the new holder.
TEST_F(ApiTest, SubscriptionWhoseChannelWentToAnotherSubscriberIsNotConnected) {
  std::optional<Subscription> sub(ctx.subscription(uri()));
  auto pub = ctx.publication(uri());
  ASSERT_TRUE(pub.offer(bytes(8)));
  auto segment = shm::Segment::open_existing("sluice-" + name, false);
  auto slot = shm::shared(segment.descriptor().subscriber);
  shm::ProcessTag new_holder = shm::ProcessTag::self();
  ++new_holder.pid_namespace;
  slot.store(new_holder.pack());  // what the takeover leaves
  std::size_t got = 0;
  EXPECT_EQ(poll_until_error(*sub, got, 16), Error::NotConnected);
  EXPECT_EQ(got, 0u);
  sub.reset();
  EXPECT_EQ(slot.load(), new_holder.pack()) << "the old subscription freed the new holder's slot";
  slot.store(0);  // the new holder leaves; the frame is still there to read
  auto next = ctx.subscription(uri());
  for (int i = 0; i < 100'000 && got == 0; ++i) ASSERT_TRUE(next.poll([&](const Message&) { ++got; }, 16));
  EXPECT_EQ(got, 1u);
}

// The same for a publisher stopped past publisher_timeout: resumed, it must
// not write beside the new one, nor free its slot or close its stream.
TEST_F(ApiTest, PublicationWhoseChannelWentToAnotherPublisherIsClosed) {
  auto sub = ctx.subscription(uri());
  std::optional<Publication> pub(ctx.publication(uri()));
  ASSERT_TRUE(pub->offer(bytes(8)));
  auto segment = shm::Segment::open_existing("sluice-" + name, false);
  auto slot = shm::shared(segment.descriptor().publishers[0]);
  shm::ProcessTag new_holder = shm::ProcessTag::self();
  ++new_holder.pid_namespace;
  slot.store(new_holder.pack());  // what the takeover leaves
  const auto offered = pub->offer(bytes(8));
  ASSERT_FALSE(offered);
  EXPECT_EQ(offered.error(), Error::Closed);
  const auto claimed = pub->try_claim(8);
  ASSERT_FALSE(claimed);
  EXPECT_EQ(claimed.error(), Error::Closed);
  pub.reset();
  EXPECT_EQ(slot.load(), new_holder.pack()) << "the old publication freed the new holder's slot";
  std::size_t got = 0;
  for (int i = 0; i < 1000; ++i)
    ASSERT_TRUE(sub.poll([&](const Message&) { ++got; }, 16)) << "the old publication ended the stream";
  EXPECT_EQ(got, 1u);
}

TEST_F(ApiTest, SecondPublisherOnAnSpscChannelIsRefused) {
  auto pub = ctx.publication(uri());
  EXPECT_THROW((void)ctx.publication(uri()), SetupError);
}

// Two publishers taking turns on a broadcast channel, each retrying while
// the other holds it (a rolling restart, over and over). One that read the
// ring's tail before the other's last frames, and took the slot after it
// closed, used to write from that stale tail: over the other's frames.
TEST_F(ApiTest, PublishersTakingTurnsNeverWriteOverEachOther) {
  constexpr int turns = 400;
  constexpr int per_turn = 1;  // 800 frames of 64 bytes: no wrap
  const std::string channel = uri("kind=broadcast&capacity=64k&max_frame=1k");
  auto publisher = [&](int id) {
    Context own;
    for (int turn = 0; turn < turns; ++turn) {
      std::optional<Publication> pub;
      while (!pub) {
        try {
          pub.emplace(own.publication(channel));
        } catch (const SetupError&) {
        }
      }
      for (int i = 0; i < per_turn; ++i) ASSERT_TRUE(pub->offer(bytes(8, id)));
    }
  };
  std::thread a(publisher, 1), b(publisher, 2);
  a.join();
  b.join();
  auto replay = ctx.subscription(channel + "&start=earliest");
  std::size_t got = 0;
  EXPECT_EQ(poll_until_error(replay, got, 64), Error::Closed);
  EXPECT_EQ(got, std::size_t{2 * turns * per_turn});
  EXPECT_EQ(replay.counters().get(Counter::gaps), 0u);
}

TEST_F(ApiTest, ClosedPublisherIsReportedAfterItsLastMessage) {
  auto sub = ctx.subscription(uri());
  {
    auto pub = ctx.publication(uri());
    ASSERT_TRUE(pub.offer(bytes(1)));
  }
  std::size_t got = 0;
  EXPECT_EQ(poll_until_error(sub, got, 10), Error::Closed);
  EXPECT_EQ(got, 1u);
}

// A subscription that found a backlog reads behind a lead and its polls
// come back empty for a while (RingConsumer): a publisher that closes
// right after a stream is still reported only after its last message.
// wait=yield checks liveness on every empty poll.
TEST_F(ApiTest, ClosedPublisherAfterAStreamIsReportedAfterItsLastMessage) {
  auto sub = ctx.subscription(uri("wait=yield"));
  constexpr std::size_t stream = 100;
  {
    auto pub = ctx.publication(uri("wait=yield"));
    for (std::size_t i = 0; i < 20; ++i) ASSERT_TRUE(pub.offer(bytes(8)));
    std::size_t first = 0;
    while (first == 0) {
      auto n = sub.poll([&](const Message&) { ++first; }, 256);
      ASSERT_TRUE(n);
    }
    ASSERT_EQ(first, 20u) << "a backlog: the subscription now reads behind a lead";
    for (std::size_t i = 20; i < stream; ++i) ASSERT_TRUE(pub.offer(bytes(8)));
  }
  std::size_t got = 20;
  EXPECT_EQ(poll_until_error(sub, got, 256), Error::Closed);
  EXPECT_EQ(got, stream);
}

TEST_F(ApiTest, MpscChannelIsClosedOnlyWhenItsLastPublisherCloses) {
  auto sub = ctx.subscription(uri("kind=mpsc&wait=yield"));
  std::optional<Publication> first(ctx.publication(uri("kind=mpsc")));
  {
    auto second = ctx.publication(uri("kind=mpsc"));
    ASSERT_TRUE(second.offer(bytes(1)));
  }
  std::size_t got = 0;
  for (int i = 0; i < 1000; ++i) {
    auto r = sub.poll([&](const Message&) { ++got; }, 10);
    ASSERT_TRUE(r) << "one publisher still attached: " << to_string(r.error());
  }
  EXPECT_EQ(got, 1u);
  ASSERT_TRUE(first->offer(bytes(1)));
  first.reset();
  EXPECT_EQ(poll_until_error(sub, got, 10), Error::Closed);
  EXPECT_EQ(got, 2u);
}

// Each publication beats for its own liveness slot: closing one of a
// process's two publications on a channel leaves the other one beating.
TEST_F(ApiTest, PublicationBesideAClosedOneOfTheSameProcessKeepsBeating) {
  using namespace std::chrono_literals;
  Context quick(ContextOptions{.heartbeat_interval = 10ms, .publisher_timeout = 250ms});
  auto sub = quick.subscription(uri("kind=mpsc&wait=yield"));
  auto first = quick.publication(uri("kind=mpsc"));
  { auto second = quick.publication(uri("kind=mpsc")); }
  const auto until = std::chrono::steady_clock::now() + 1s;  // four timeouts
  while (std::chrono::steady_clock::now() < until) {
    auto r = sub.poll([](const Message&) {}, 10);
    ASSERT_TRUE(r) << "first still open: " << to_string(r.error());
  }
}

// The session table forgets the session read least recently, not the
// oldest: a long-lived publisher beside many short-lived ones keeps its
// place, and its next message is no gap.
TEST_F(ApiTest, LongLivedMpscPublisherKeepsItsSessionAmongManyShortLivedOnes) {
  auto sub = ctx.subscription(uri("kind=mpsc&capacity=64k&max_frame=1k"));
  auto steady = ctx.publication(uri("kind=mpsc"));
  std::size_t got = 0;
  auto drain = [&](std::size_t want) {
    for (int i = 0; i < 100'000 && got < want; ++i) ASSERT_TRUE(sub.poll([&](const Message&) { ++got; }, 100));
    ASSERT_EQ(got, want);
  };
  ASSERT_TRUE(steady.offer(bytes(8)));
  drain(1);
  for (int i = 0; i < 100; ++i) {
    auto brief = ctx.publication(uri("kind=mpsc"));
    ASSERT_TRUE(brief.offer(bytes(8)));
    drain(got + 1);
    ASSERT_TRUE(steady.offer(bytes(8)));  // the long-lived one keeps publishing
    drain(got + 1);
  }
  ASSERT_TRUE(steady.offer(bytes(8)));
  drain(got + 1);
  EXPECT_EQ(sub.counters().get(Counter::lost_frames), 0u) << "its next seq was taken for a gap";
  EXPECT_EQ(sub.counters().get(Counter::gaps), 0u);
}

TEST_F(ApiTest, MpscPublisherBeyondTheLimitIsRefusedWithTheLimit) {
  std::vector<Publication> pubs;
  for (std::size_t i = 0; i < shm::max_publishers; ++i) pubs.push_back(ctx.publication(uri("kind=mpsc")));
  try {
    (void)ctx.publication(uri("kind=mpsc"));
    FAIL() << "publisher " << shm::max_publishers + 1 << " attached";
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find("at most 32 publishers"), std::string::npos) << e.what();
  }
  pubs.pop_back();  // its slot is free again
  EXPECT_NO_THROW((void)ctx.publication(uri("kind=mpsc")));
}

// Forks a blocking reader of `channel`, waits until it is parked, kills it
// and returns the channel's segment, whose descriptor keeps its count.
std::optional<shm::Segment> kill_a_parked_reader(const std::string& channel, const std::string& segment_name) {
  const pid_t reader = ::fork();
  if (reader == 0) {
    ::alarm(30);
    Context c;
    auto sub = c.subscription(channel);
    for (;;) (void)sub.poll([](const Message&) {}, 10);
  }
  std::optional<shm::Segment> seg;
  if (reader < 0) return seg;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!seg && std::chrono::steady_clock::now() < deadline) {
    try {
      seg.emplace(shm::Segment::open_existing(segment_name, false, std::chrono::milliseconds(100)));
    } catch (const shm::SegmentError&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  while (seg && shm::shared(seg->descriptor().parked_readers).load() == 0 &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ::kill(reader, SIGKILL);
  ::waitpid(reader, nullptr, 0);
  boost::interprocess::shared_memory_object::remove(counters_segment_name(static_cast<std::uint64_t>(reader)).c_str());
  return seg;
}

// A blocking reader killed while parked leaves its count in the segment;
// the next subscriber clears it, or every commit would pay a FUTEX_WAKE.
TEST_F(ApiTest, CountOfAReaderKilledWhileParkedIsClearedByTheNextSubscriber) {
  auto seg = kill_a_parked_reader(uri("wait=block"), "sluice-" + name);
  ASSERT_TRUE(seg);
  auto parked = [&] { return shm::shared(seg->descriptor().parked_readers).load(); };
  ASSERT_EQ(parked(), 1u);
  auto sub = ctx.subscription(uri("wait=block"));  // the dead reader's slot
  EXPECT_EQ(parked(), 0u);
}

// Broadcast readers hold no slot: the publisher's wakes, finding nobody
// parked for a while, take the dead reader's count off; and a live
// blocking reader is still woken afterwards.
TEST_F(ApiTest, CountOfABroadcastReaderKilledWhileParkedIsClearedByThePublisher) {
  auto seg = kill_a_parked_reader(uri("kind=broadcast&wait=block"), "sluice-" + name);
  ASSERT_TRUE(seg);
  auto parked = [&] { return shm::shared(seg->descriptor().parked_readers).load(); };
  ASSERT_EQ(parked(), 1u);
  auto pub = ctx.publication(uri("kind=broadcast"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (parked() != 0 && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(pub.offer(bytes(8)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_EQ(parked(), 0u);
  auto sub = ctx.subscription(uri("kind=broadcast&wait=block"));
  std::atomic<bool> got{false};
  std::thread reader([&] {
    while (!got && std::chrono::steady_clock::now() < deadline)
      ASSERT_TRUE(sub.poll([&](const Message&) { got = true; }, 10));
  });
  while (parked() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_EQ(parked(), 1u);
  ASSERT_TRUE(pub.offer(bytes(8)));
  reader.join();
  EXPECT_TRUE(got);
}

// A producer process that exits between claim and commit: its claim is
// skipped once the timeout passed, even before its parent reaps it.
TEST_F(ApiTest, MpscClaimOfAProducerThatExitedIsSkippedAfterTheTimeout) {
  Context fast(ContextOptions{.stale_claim_timeout = std::chrono::milliseconds(20)});
  auto sub = fast.subscription(uri("kind=mpsc"));
  const pid_t producer = ::fork();
  if (producer == 0) {
    ::alarm(30);
    Context ctx;
    auto pub = ctx.publication(uri("kind=mpsc"));
    auto stuck = pub.try_claim(8);
    ::_exit(stuck ? 0 : 1);  // dies holding the claim: no destructor runs
  }
  ASSERT_GT(producer, 0);
  // Not reaped yet: a zombie, which kill() still finds.
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(producer), &info, WEXITED | WNOWAIT), 0);
  ASSERT_EQ(info.si_status, 0);
  auto live = fast.publication(uri("kind=mpsc"));
  ASSERT_TRUE(live.offer(bytes(4)));
  std::size_t got = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (got == 0 && std::chrono::steady_clock::now() < deadline)
    ASSERT_TRUE(sub.poll([&](const Message& m) { EXPECT_EQ(m.session_id(), live.session_id()); ++got; }, 10));
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(sub.counters().get(Counter::stale_claims), 1u);
  ::waitpid(producer, nullptr, 0);
  boost::interprocess::shared_memory_object::remove(counters_segment_name(static_cast<std::uint64_t>(producer)).c_str());
}

// A producer that is alive (here: merely slow) keeps its claim past the
// timeout; what it commits later is delivered, in place.
TEST_F(ApiTest, MpscClaimOfALiveProducerIsWaitedForPastTheTimeout) {
  Context fast(ContextOptions{.stale_claim_timeout = std::chrono::milliseconds(5)});
  auto sub = fast.subscription(uri("kind=mpsc"));
  auto slow = fast.publication(uri("kind=mpsc"));
  auto other = fast.publication(uri("kind=mpsc"));
  auto claim = slow.try_claim(4);
  ASSERT_TRUE(claim);
  ASSERT_TRUE(other.offer(bytes(4)));
  std::vector<std::uint32_t> sessions;
  auto record = [&](const Message& m) { sessions.push_back(m.session_id()); };
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  while (std::chrono::steady_clock::now() < until) ASSERT_TRUE(sub.poll(record, 10));
  EXPECT_TRUE(sessions.empty()) << "read past a live producer's claim";
  EXPECT_EQ(sub.counters().get(Counter::stale_claims), 0u);
  std::memcpy(claim->payload().data(), "late", 4);
  claim->commit();
  for (int i = 0; i < 100'000 && sessions.size() < 2; ++i) ASSERT_TRUE(sub.poll(record, 10));
  EXPECT_EQ(sessions, (std::vector<std::uint32_t>{slow.session_id(), other.session_id()}));
}

}  // namespace
}  // namespace sluice
