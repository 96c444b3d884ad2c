// Blocking readers announce that they park; the writer judges a count with
// no recent announcement stale. The descriptor lives in this process's
// memory; the waiter's has_data says there is a frame, so it never sleeps.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>

#include "shm/liveness.hpp"
#include "shm/wait_strategy.hpp"

namespace sluice::shm {
namespace {

using namespace std::chrono_literals;

struct WaitStrategyTest : ::testing::Test {
  std::unique_ptr<SegmentDescriptor> owned = std::make_unique<SegmentDescriptor>();
  SegmentDescriptor& d = *owned;

  std::uint64_t last_parked() { return shared(d.last_parked_ns).load(); }
  // Idles a blocking reader until it has announced parking once.
  void park_once() {
    IdleWaiter waiter(WaitKind::Block, d);
    const std::uint32_t before = shared(d.wake_word).load();
    for (int i = 0; i < 100'000 && last_parked() == stamp_before_; ++i) waiter.idle([] { return true; });
    EXPECT_EQ(shared(d.wake_word).load(), before);
    EXPECT_EQ(shared(d.parked_readers).load(), 0u) << "left parking";
  }
  void set_last_parked(std::uint64_t ns) {
    shared(d.last_parked_ns).store(ns);
    stamp_before_ = ns;
  }
  std::uint64_t stamp_before_ = 0;
};

TEST_F(WaitStrategyTest, ParkingReaderStampsTheTime) {
  const auto start = monotonic_ns();
  park_once();
  EXPECT_GE(last_parked(), start);
  EXPECT_LE(last_parked(), monotonic_ns());
}

// A reader held off the CPU between its clock read and its store must not
// make a newer announcement look old.
TEST_F(WaitStrategyTest, StampSlightlyAheadIsNotLowered) {
  const auto ahead = monotonic_ns() + std::chrono::nanoseconds(200ms).count();
  set_last_parked(ahead);
  IdleWaiter waiter(WaitKind::Block, d);
  for (int i = 0; i < 5'000; ++i) waiter.idle([] { return true; });
  EXPECT_EQ(last_parked(), ahead);
}

// A journal's stamp from before a reboot is far ahead of the clock: kept,
// it would make every announcement after the reboot look stale.
TEST_F(WaitStrategyTest, StampFromBeforeARebootIsReplaced) {
  set_last_parked(monotonic_ns() + std::chrono::nanoseconds(1h).count());
  const auto start = monotonic_ns();
  park_once();
  EXPECT_GE(last_parked(), start);
  EXPECT_LE(last_parked(), monotonic_ns());
  EXPECT_FALSE(is_stale(last_parked(), 100ms));
}

// A count with a recent announcement is a parked reader: woken, kept. One
// with no announcement for longer than anyone sleeps is cleared.
TEST_F(WaitStrategyTest, WriterClearsACountOnlyOnceNobodyAnnouncedParkingForAWhile) {
  WakeNotifier notifier(d);
  IdleWaiter blocking_reader(WaitKind::Block, d);  // enables the writer's wakes
  shared(d.parked_readers).store(1);
  shared(d.last_parked_ns).store(monotonic_ns());
  notifier.after_commit();
  EXPECT_EQ(shared(d.parked_readers).load(), 1u);
  EXPECT_EQ(shared(d.wake_word).load(), 1u);

  shared(d.last_parked_ns).store(monotonic_ns() - std::chrono::nanoseconds(1s).count());
  notifier.after_commit();
  EXPECT_EQ(shared(d.parked_readers).load(), 0u);
  EXPECT_EQ(shared(d.wake_word).load(), 2u);
  notifier.after_commit();  // nobody parked: no bump
  EXPECT_EQ(shared(d.wake_word).load(), 2u);
}

}  // namespace
}  // namespace sluice::shm
