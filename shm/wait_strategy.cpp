#include "shm/wait_strategy.hpp"

#include <linux/futex.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <climits>

#include "shm/liveness.hpp"

namespace sluice::shm {

std::string_view to_string(WaitKind k) noexcept {
  switch (k) {
    case WaitKind::Spin: return "spin";
    case WaitKind::Yield: return "yield";
    case WaitKind::Block: return "block";
  }
  return "unknown";
}

namespace {
// Shared (not FUTEX_PRIVATE): the word lives in memory mapped by several processes.
long futex(std::uint32_t* word, int op, std::uint32_t value, const timespec* timeout) noexcept {
  return ::syscall(SYS_futex, word, op, value, timeout, nullptr, 0);
}
}  // namespace

IdleWaiter::IdleWaiter(WaitKind kind, SegmentDescriptor& descriptor) noexcept
    : kind_(kind), descriptor_(descriptor) {
  if (kind == WaitKind::Block)
    shared(descriptor_.wake_enabled).store(1, std::memory_order_relaxed);
}

void IdleWaiter::yield() noexcept { ::sched_yield(); }

std::uint32_t IdleWaiter::announce_parking() noexcept {
  // Raised, never lowered: a reader held off the CPU between reading the
  // clock and storing must not make a later announcement look old. A
  // stamp from before a reboot (a journal keeps it; far ahead of our clock)
  // is replaced, or the writer would find every announcement stale.
  auto last = shared(descriptor_.last_parked_ns);
  const std::uint64_t now = monotonic_ns();
  std::uint64_t seen_last = last.load(std::memory_order_relaxed);
  while ((seen_last < now || is_from_before_reboot(seen_last, now)) &&
         !last.compare_exchange_weak(seen_last, now, std::memory_order_relaxed)) {
  }
  // Pairs with the RMW in WakeNotifier::wake_parked(): the reader increments
  // parked then re-checks the ring; the writer commits then reads parked
  // with an RMW. At least one of them sees the other.
  shared(descriptor_.parked_readers).fetch_add(1, std::memory_order_acq_rel);
  // A4: pairs with R4 in wake_parked(): a bumped word implies the commit.
  return shared(descriptor_.wake_word).load(std::memory_order_acquire);
}

void IdleWaiter::sleep(std::uint32_t seen) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(longest_park).count();
  const timespec timeout{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  // Returns at once if the word moved since `seen` (a commit raced with us).
  futex(&descriptor_.wake_word, FUTEX_WAIT, seen, &timeout);
}

void IdleWaiter::leave_parking() noexcept {
  // Never below 0: a new subscriber may have reset the count meanwhile
  // (forget_parked_readers), and a wrapped count would mean 'parked' for good.
  auto parked = shared(descriptor_.parked_readers);
  std::uint32_t n = parked.load(std::memory_order_relaxed);
  while (n > 0 && !parked.compare_exchange_weak(n, n - 1, std::memory_order_relaxed)) {
  }
}

void forget_parked_readers(SegmentDescriptor& descriptor) noexcept {
  shared(descriptor.parked_readers).store(0, std::memory_order_relaxed);
}

void WakeNotifier::wake_parked() noexcept {
  // An RMW, not a load: both sides' RMWs on parked_readers are totally
  // ordered. If ours comes first, the reader's increment acquires it and so
  // sees the commit made before it; if the reader's comes first, we see
  // parked > 0 and wake it. (A plain load would need a seq_cst fence, which
  // ThreadSanitizer does not model.)
  const std::uint32_t parked = shared(descriptor_.parked_readers).fetch_add(0, std::memory_order_acq_rel);
  if (parked == 0) return;
  // R4: the commit before the bump. Pairs with A4.
  shared(descriptor_.wake_word).fetch_add(1, std::memory_order_release);
  if (is_stale(shared(descriptor_.last_parked_ns).load(std::memory_order_relaxed), stale_parking_after)) {
    // Counted, but nobody announced parking for longer than anyone sleeps:
    // later commits skip the wake. This one still wakes, for a reader held
    // off the CPU between reading the clock and counting itself, which may
    // be waiting now (a reader announcing meanwhile makes the exchange fail).
    std::uint32_t expected = parked;
    shared(descriptor_.parked_readers).compare_exchange_strong(expected, 0, std::memory_order_relaxed);
  }
  futex(&descriptor_.wake_word, FUTEX_WAKE, INT_MAX, nullptr);
}

}  // namespace sluice::shm
