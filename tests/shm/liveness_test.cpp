// Liveness slots: who may take a slot, and when the publishers are gone,
// for holders in this pid namespace and in another one (a container
// sharing /dev/shm). The descriptor lives in this process's memory; the
// holders' tags are real: this process, a reaped or a sleeping child, or a
// foreign namespace's pid.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <optional>
#include <thread>

#include "shm/liveness.hpp"

namespace sluice::shm {
namespace {

using namespace std::chrono_literals;
constexpr auto stale_after = 1s;

struct LivenessTest : ::testing::Test {
  std::unique_ptr<SegmentDescriptor> owned = std::make_unique<SegmentDescriptor>();
  SegmentDescriptor& d = *owned;

  // A process of another pid namespace: its pid may well exist here too.
  static ProcessTag foreign(std::uint32_t pid = 1) {
    ProcessTag t = ProcessTag::of_pid(pid);
    ++t.pid_namespace;
    return t;
  }
  // A pid of this namespace whose process has exited and been reaped.
  static ProcessTag dead() {
    const pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    return ProcessTag::of_pid(static_cast<std::uint32_t>(child));
  }
  // A live process of this namespace, started now; killed at scope exit.
  struct Sleeper {
    pid_t pid = ::fork();
    Sleeper() {
      if (pid == 0) {
        ::pause();
        ::_exit(0);
      }
    }
    ~Sleeper() {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    ProcessTag tag() const { return ProcessTag::of_pid(static_cast<std::uint32_t>(pid)); }
  };
  // Puts `holder` in publisher slot `i` with a fresh heartbeat, or a stale one.
  void hold(std::size_t i, ProcessTag holder, bool beating = true) {
    d.publisher_beats[i] = beating ? monotonic_ns() : monotonic_ns() - 2'000'000'000ull;
    d.publishers[i] = holder.pack();
  }
};

TEST_F(LivenessTest, TagOfThisProcessIsItsPidAndPidNamespace) {
  struct stat st {};
  ASSERT_EQ(::stat("/proc/self/ns/pid", &st), 0);
  const auto self = ProcessTag::self();
  EXPECT_EQ(self.pid, static_cast<std::uint32_t>(::getpid()));
  EXPECT_EQ(self.pid_namespace, static_cast<std::uint32_t>(st.st_ino));
  const auto back = ProcessTag::unpack(self.pack());
  EXPECT_EQ(back.pid, self.pid);
  EXPECT_EQ(back.pid_namespace, self.pid_namespace);
  EXPECT_EQ(back.boot, self.boot);
  EXPECT_EQ(presence(self), Presence::Alive);
  EXPECT_EQ(presence(dead()), Presence::Dead);
  EXPECT_EQ(presence(foreign()), Presence::Unseen);
}

TEST_F(LivenessTest, PidBeyondTheKernelsRangeReadsDeadInsteadOfNamingAProcessGroup) {
  EXPECT_EQ(presence(ProcessTag::of_pid(0x80000001u)), Presence::Dead);
  EXPECT_EQ(presence(ProcessTag::of_pid(1u << ProcessTag::pid_bits)), Presence::Dead);
}

// A journal file's slots outlive a reboot, and the pids in them may name
// other processes after it.
TEST_F(LivenessTest, TagFromAnotherBootIsDeadWhateverItsPidNamesNow) {
  ProcessTag before_reboot = ProcessTag::self();
  before_reboot.boot = before_reboot.boot % ((1u << ProcessTag::boot_bits) - 1) + 1;  // another, not 0
  EXPECT_EQ(presence(before_reboot), Presence::Dead);
  d.subscriber = before_reboot.pack();
  ProcessTag owner;
  EXPECT_TRUE(attach_subscriber(d, stale_after, &owner));
  hold(0, before_reboot);
  EXPECT_TRUE(attach_publisher(d, true, stale_after)) << "the spsc publisher restarts after the reboot";
}

// A process that cannot read /proc (chrooted) tags itself with namespace
// and boot 0: unknown, so its heartbeat decides, not this boot's id.
TEST_F(LivenessTest, HolderWithoutProcIsJudgedByItsHeartbeat) {
  Sleeper live;
  const ProcessTag no_proc{static_cast<std::uint32_t>(live.pid), 0, 0};
  EXPECT_EQ(presence(no_proc), Presence::Unseen);
  hold(0, no_proc);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive);
  EXPECT_FALSE(attach_publisher(d, true, stale_after)) << "a beating publisher's slot was taken";
  hold(0, no_proc, false);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Gone);
}

TEST_F(LivenessTest, ForeignPublisherIsAliveWhileItBeatsAndGoneOnceItStops) {
  hold(3, foreign(999'999));  // no such pid here: must not matter
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive);
  hold(3, foreign(999'999), false);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Gone);
}

TEST_F(LivenessTest, DeadPublisherOfThisNamespaceIsGoneAtOnce) {
  hold(0, dead());
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Gone);
}

TEST_F(LivenessTest, LivePublisherThatStoppedBeatingIsGone) {
  hold(0, ProcessTag::self(), false);  // stopped or hung: its pid still exists
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Gone);
}

// A journal file reopened after a reboot: its slots' beats are from the old
// boot's CLOCK_MONOTONIC, typically ahead of the new one, and a pid there
// may well belong to some other process now.
TEST_F(LivenessTest, BeatAheadOfTheClockFromBeforeARebootIsStale) {
  d.publisher_beats[0] = monotonic_ns() + 3'600'000'000'000ull;
  d.publishers[0] = ProcessTag::self().pack();
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Gone);
}

TEST_F(LivenessTest, OneBeatingPublisherKeepsTheChannelAliveWhateverTheOthersDo) {
  hold(0, dead());
  hold(1, foreign(), false);
  hold(2, ProcessTag::self(), false);
  hold(5, foreign());
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive);
}

TEST_F(LivenessTest, MpscAttachKeepsABeatingForeignPublishersSlot) {
  hold(0, foreign());
  hold(1, dead());
  hold(2, foreign(), false);
  const auto slot = attach_publisher(d, false, stale_after);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->index, 1u);  // the dead one's, reclaimed
  EXPECT_EQ(d.publishers[0], foreign().pack());
  EXPECT_EQ(d.publishers[1], ProcessTag::self().pack());
  EXPECT_EQ(d.publishers[2], 0u);  // the silent foreign one's, reclaimed
  detach_publisher(d, *slot, 0);
  EXPECT_EQ(shared(d.closed).load(), 0u) << "the foreign publisher still holds its slot";
}

TEST_F(LivenessTest, MpscAttachReclaimsAForeignSlotOnceItsHeartbeatIsStale) {
  hold(0, foreign(), false);
  const auto slot = attach_publisher(d, false, stale_after);
  ASSERT_TRUE(slot);
  EXPECT_EQ(slot->index, 0u);
  EXPECT_EQ(d.publishers[0], ProcessTag::self().pack());
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive) << "stamped on attach";
}

TEST_F(LivenessTest, ExclusivePublisherSlotOfABeatingForeignProcessIsRefused) {
  hold(0, foreign(77));
  const auto refused = attach_publisher(d, true, stale_after);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().owner.pid, 77u);
  EXPECT_FALSE(refused.error().owner.in_my_namespace());
  EXPECT_NE(describe(refused.error().owner).find("another pid namespace"), std::string::npos);
  hold(0, foreign(77), false);
  EXPECT_TRUE(attach_publisher(d, true, stale_after));
}

TEST_F(LivenessTest, ExclusivePublisherSlotOfALiveProcessIsRefusedEvenIfItStoppedBeating) {
  // A stopped publisher that resumed would write into the ring beside us.
  const Sleeper holder;
  hold(0, holder.tag());  // its last beat, after it started
  std::this_thread::sleep_for(50ms);
  const auto refused = attach_publisher(d, true, 10ms);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().owner.pid, static_cast<std::uint32_t>(holder.pid));
  EXPECT_GE(refused.error().silent_for, 50ms) << "says how long it has been silent";
  hold(0, holder.tag());
  EXPECT_EQ(attach_publisher(d, true, stale_after).error().silent_for, 0s);
}

TEST_F(LivenessTest, SilentHoldersPidNowNamingAProcessStartedAfterItsLastBeatIsTakenOver) {
  // The holder beat last 2 s ago and died; the kernel has since handed its
  // pid to a process started later (pid_max wrapped): not the holder.
  d.publisher_beats[0] = monotonic_ns() - 2'000'000'000ull;
  const Sleeper reused;
  d.publishers[0] = reused.tag().pack();
  EXPECT_TRUE(attach_publisher(d, true, stale_after));
  // The same for an mpsc channel's slots: reclaimed on attach.
  d.publisher_beats[5] = monotonic_ns() - 2'000'000'000ull;
  d.publishers[5] = reused.tag().pack();
  ASSERT_TRUE(attach_publisher(d, false, stale_after));
  EXPECT_EQ(d.publishers[5], 0u);
}

// Killed and not reaped yet by its parent: exited, whatever its heartbeat
// says (a restart must not wait for the parent's waitpid).
TEST_F(LivenessTest, ZombieHolderIsTakenOverAtOnce) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  const auto tag = ProcessTag::of_pid(static_cast<std::uint32_t>(child));
  hold(0, tag);
  siginfo_t info{};  // waits until it is a zombie, without reaping it
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(attach_publisher(d, true, stale_after));
  d.subscriber = tag.pack();
  d.subscriber_beat = monotonic_ns();
  ProcessTag owner;
  EXPECT_TRUE(attach_subscriber(d, stale_after, &owner));
  ::waitpid(child, nullptr, 0);
}

// A take_slot loser may store its stamp after the winner's: the beat is
// then older than its live holder's start, and fresh. Not a pid reused.
TEST_F(LivenessTest, BeatingHolderKeepsItsSlotThoughItsBeatPredatesItsStart) {
  const auto before_start = monotonic_ns();
  std::this_thread::sleep_for(20ms);
  const Sleeper holder;
  d.publisher_beats[0] = before_start;
  d.publishers[0] = holder.tag().pack();
  EXPECT_FALSE(attach_publisher(d, true, stale_after));
  d.publisher_beats[0] = before_start - 2'000'000'000ull;  // stale too: reused
  EXPECT_TRUE(attach_publisher(d, true, stale_after));
}

// A journal keeps its slots across a reboot; the tag's boot bits tell that
// except in 1 boot of 1024, and the holder's pid may name a process again.
// Its beat, far ahead of the clock, tells then.
TEST_F(LivenessTest, SlotStampedBeforeARebootIsTakenOverWhateverItsPidNamesNow) {
  const Sleeper namesake;
  d.publishers[0] = namesake.tag().pack();
  d.publisher_beats[0] = monotonic_ns() + 3'600'000'000'000ull;
  EXPECT_TRUE(attach_publisher(d, true, stale_after));
}

// The owner an mpsc claim recorded: gone once no slot holds it, or its
// process exited, or its pid names a process started after its last beat
// and that beat is stale (the pid reused before the consumer ever looked).
// A fresh beat older than the owner's start is a loser of take_slot
// stamping late (see the test above): the owner may still commit.
TEST_F(LivenessTest, ClaimOwnerIsGoneOnceItsSlotIsFreeItsProcessExitedOrItsPidWasReused) {
  const auto before_start = monotonic_ns();
  std::this_thread::sleep_for(20ms);
  const Sleeper owner;
  hold(3, owner.tag());
  EXPECT_FALSE(claim_owner_gone(d, owner.tag().pack(), stale_after)) << "alive and holding its slot";
  d.publisher_beats[3] = before_start;
  EXPECT_FALSE(claim_owner_gone(d, owner.tag().pack(), stale_after)) << "a fresh beat from before its start";
  d.publisher_beats[3] = before_start - 2'000'000'000ull;
  EXPECT_TRUE(claim_owner_gone(d, owner.tag().pack(), stale_after)) << "its pid names a younger process";
  d.publishers[3] = 0;
  EXPECT_TRUE(claim_owner_gone(d, owner.tag().pack(), stale_after)) << "detached";
  hold(4, dead());
  EXPECT_TRUE(claim_owner_gone(d, d.publishers[4], stale_after));
  hold(5, foreign(999'999));
  EXPECT_FALSE(claim_owner_gone(d, d.publishers[5], stale_after)) << "another namespace, beating";
  hold(5, foreign(999'999), false);
  EXPECT_TRUE(claim_owner_gone(d, d.publishers[5], stale_after));
}

// /proc/PID/stat shows the thread-group leader: a process whose main thread
// exited (pthread_exit) reads as a zombie while its other threads run.
TEST_F(LivenessTest, ProcessWhoseMainThreadExitedHasNotExitedUntilItsLastThreadHas) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  const pid_t child = ::fork();
  if (child == 0) {
    ::alarm(30);
    std::thread([fd = ready[1]] {
      std::this_thread::sleep_for(50ms);  // the main thread has exited by now
      (void)!::write(fd, "x", 1);
      for (;;) ::pause();
    }).detach();
    ::syscall(SYS_exit, 0);  // this thread only, as pthread_exit (which would unwind into gtest)
  }
  char c;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::close(ready[1]);
  hold(0, ProcessTag::of_pid(static_cast<std::uint32_t>(child)));
  const auto tag = d.publishers[0];
  EXPECT_FALSE(claim_owner_gone(d, tag, stale_after));
  ::kill(child, SIGKILL);
  siginfo_t info{};
  ASSERT_EQ(::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED | WNOWAIT), 0);
  EXPECT_TRUE(claim_owner_gone(d, tag, stale_after)) << "a zombie, not reaped yet";
  ::waitpid(child, nullptr, 0);
  EXPECT_TRUE(claim_owner_gone(d, tag, stale_after));
}

TEST_F(LivenessTest, LastPublisherToLeaveClosesTheChannelWithItsSession) {
  const auto first = attach_publisher(d, false, stale_after);
  const auto second = attach_publisher(d, false, stale_after);
  ASSERT_TRUE(first && second);
  EXPECT_NE(first->index, second->index);
  detach_publisher(d, *first, 10);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive);
  detach_publisher(d, *second, 20);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Closed);
  EXPECT_EQ(d.final_session_id, second->session_id);
  EXPECT_EQ(d.final_seq, 20u);
}

// A publisher whose slot was taken over (it was stopped past the timeout
// in another pid namespace) leaves without touching the new holder's slot,
// nor its stream's close: not while it holds the slot, nor after it left.
TEST_F(LivenessTest, PublisherWhoseSlotWasTakenOverLeavesItAlone) {
  const auto slot = attach_publisher(d, true, stale_after);
  ASSERT_TRUE(slot);
  hold(slot->index, foreign(7));
  detach_publisher(d, *slot, 10);
  EXPECT_EQ(d.publishers[slot->index], foreign(7).pack());
  EXPECT_EQ(d.closed, 0u);
  EXPECT_EQ(publisher_state(d, stale_after), PublisherState::Alive);
  // The new holder closed its session 99 at seq 5 and left.
  d.publishers[slot->index] = 0;
  d.final_session_id = 99;
  d.final_seq = 5;
  d.closed = 1;
  detach_publisher(d, *slot, 10);
  EXPECT_EQ(d.final_session_id, 99u);
  EXPECT_EQ(d.final_seq, 5u);
}

// Only its heartbeat tells whether a subscriber of another pid namespace
// is still there.
TEST_F(LivenessTest, ForeignSubscriberKeepsItsSlotWhileItBeatsAndLosesItOnceItStops) {
  d.subscriber_beat = monotonic_ns();
  d.subscriber = foreign(5).pack();
  ProcessTag owner;
  EXPECT_FALSE(attach_subscriber(d, stale_after, &owner));
  EXPECT_EQ(owner.pid, 5u);
  d.subscriber_beat = monotonic_ns() - 2'000'000'000ull;
  EXPECT_TRUE(attach_subscriber(d, stale_after, &owner));
  EXPECT_EQ(d.subscriber, ProcessTag::self().pack());
  EXPECT_GT(d.subscriber_beat, monotonic_ns() - 1'000'000'000ull) << "stamped by the new holder";
  d.subscriber = dead().pack();
  EXPECT_TRUE(attach_subscriber(d, stale_after, &owner)) << "a dead pid here needs no timeout";
  detach_subscriber(d);
  EXPECT_EQ(d.subscriber, 0u);
}

TEST_F(LivenessTest, SubscriberSlotWhosePidNowNamesAYoungerProcessIsTakenOver) {
  // The subscriber last beat 2 s ago and died; the kernel has since handed
  // its pid to a process started later: not the subscriber.
  d.subscriber_beat = monotonic_ns() - 2'000'000'000ull;
  const Sleeper reused;
  d.subscriber = reused.tag().pack();
  ProcessTag owner;
  EXPECT_TRUE(attach_subscriber(d, stale_after, &owner));
  EXPECT_EQ(d.subscriber, ProcessTag::self().pack());
  EXPECT_GT(d.subscriber_beat, monotonic_ns() - 1'000'000'000ull) << "stamped by the new holder";
}

TEST_F(LivenessTest, LiveSubscriberKeepsItsSlot) {
  const Sleeper holder;
  d.subscriber_beat = monotonic_ns();  // beaten after it started
  d.subscriber = holder.tag().pack();
  ProcessTag owner;
  EXPECT_FALSE(attach_subscriber(d, stale_after, &owner));
  EXPECT_EQ(owner.pid, static_cast<std::uint32_t>(holder.pid));
  std::this_thread::sleep_for(50ms);  // silent since (stopped, say) for longer than:
  EXPECT_FALSE(attach_subscriber(d, 10ms, &owner)) << "its process is older than its last beat";
  EXPECT_EQ(d.subscriber, holder.tag().pack());
}

}  // namespace
}  // namespace sluice::shm
