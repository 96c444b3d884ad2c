#include "shm/liveness.hpp"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>

namespace sluice::shm {

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

bool process_exists(std::uint64_t pid) noexcept {
  if (pid == 0 || pid > static_cast<std::uint64_t>(INT32_MAX)) return false;
  // EPERM: it exists but belongs to another user.
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

namespace {

std::uint64_t self_pid() noexcept { return static_cast<std::uint64_t>(::getpid()); }

// Takes `slot` if it is free or its holder is dead; else *holder = the live pid.
bool take_slot(std::uint64_t& slot, std::uint64_t* holder) noexcept {
  auto word = shared(slot);
  std::uint64_t current = word.load(std::memory_order_acquire);
  while (current == 0 || !process_exists(current)) {
    if (word.compare_exchange_weak(current, self_pid(), std::memory_order_seq_cst)) return true;
  }
  *holder = current;
  return false;
}

// Frees the slots of killed publishers. Their frames are in the ring or
// were abandoned (mpsc stale claims); once another publisher attaches, a
// dead one must not turn that publisher's later clean close into Gone.
void reclaim_dead_slots(SegmentDescriptor& d) noexcept {
  for (auto& slot : d.publisher_pids) {
    auto word = shared(slot);
    std::uint64_t pid = word.load(std::memory_order_acquire);
    if (pid != 0 && !process_exists(pid))
      word.compare_exchange_strong(pid, 0, std::memory_order_seq_cst);
  }
}

bool any_slot_held(SegmentDescriptor& d) noexcept {
  for (auto& slot : d.publisher_pids)
    if (shared(slot).load(std::memory_order_seq_cst) != 0) return true;
  return false;
}

}  // namespace

std::expected<std::uint32_t, PublisherRefusal> attach_publisher(SegmentDescriptor& d,
                                                                bool exclusive) noexcept {
  // Heartbeat first: a subscriber that sees our pid must not judge it by a
  // heartbeat left from an earlier publisher long ago.
  heartbeat(d);
  std::uint64_t holder = 0;
  if (exclusive) {
    if (!take_slot(d.publisher_pids[0], &holder)) return std::unexpected(PublisherRefusal{holder});
  } else {
    reclaim_dead_slots(d);
    bool taken = false;
    for (auto& slot : d.publisher_pids)
      if ((taken = take_slot(slot, &holder))) break;
    if (!taken) return std::unexpected(PublisherRefusal{0});
  }
  // seq_cst: ordered after our slot's CAS against a leaving publisher's
  // closed store (see detach_publisher).
  shared(d.closed).store(0, std::memory_order_seq_cst);
  // Each incarnation draws a fresh session id so subscribers restart their
  // sequence tracking instead of taking seq 1 for a duplicate.
  return shared(d.next_session_id).fetch_add(1, std::memory_order_relaxed);
}

bool attach_subscriber(SegmentDescriptor& d, std::uint64_t* owner) noexcept {
  const auto self = static_cast<std::uint64_t>(::getpid());
  auto slot = shared(d.subscriber_pid);
  std::uint64_t current = slot.load(std::memory_order_acquire);
  // Take the slot if free or held by a dead process; CAS so two starting
  // subscribers cannot both win.
  while (current == 0 || !process_exists(current)) {
    if (slot.compare_exchange_weak(current, self, std::memory_order_acq_rel)) return true;
  }
  *owner = current;
  return false;
}

void detach_subscriber(SegmentDescriptor& d) noexcept {
  auto self = static_cast<std::uint64_t>(::getpid());
  shared(d.subscriber_pid).compare_exchange_strong(self, 0, std::memory_order_acq_rel);
}

void heartbeat(SegmentDescriptor& d) noexcept {
  shared(d.heartbeat_ns).store(monotonic_ns(), std::memory_order_relaxed);
}

void detach_publisher(SegmentDescriptor& d, std::uint32_t session_id,
                      std::uint64_t last_seq) noexcept {
  for (auto& slot : d.publisher_pids) {
    std::uint64_t self = self_pid();
    if (shared(slot).compare_exchange_strong(self, 0, std::memory_order_seq_cst)) break;
  }
  // seq_cst, with the frees above: of two publishers leaving together, at
  // least one sees both slots free, so a clean close is never missed.
  if (any_slot_held(d)) return;
  shared(d.final_session_id).store(session_id, std::memory_order_relaxed);
  shared(d.final_seq).store(last_seq, std::memory_order_relaxed);
  // Release: the final session and seq before closed.
  shared(d.closed).store(1, std::memory_order_seq_cst);
  // A publisher that took a slot after the scan above may have cleared
  // closed before our store landed; its slot is visible to this second
  // scan (seq_cst), so the channel is open again. One that takes a slot
  // after this scan clears closed after our store.
  if (any_slot_held(d)) shared(d.closed).store(0, std::memory_order_seq_cst);
}

PublisherState publisher_state(const SegmentDescriptor& d,
                               std::chrono::nanoseconds stale_after) noexcept {
  auto& desc = const_cast<SegmentDescriptor&>(d);
  if (shared(desc.closed).load(std::memory_order_acquire) != 0) return PublisherState::Closed;
  bool attached = false;
  bool alive = false;
  for (auto& slot : desc.publisher_pids) {
    const auto pid = shared(slot).load(std::memory_order_acquire);
    if (pid == 0) continue;
    attached = true;
    if ((alive = process_exists(pid))) break;
  }
  if (!attached) return PublisherState::None;
  if (!alive) return PublisherState::Gone;
  const auto beat = shared(desc.heartbeat_ns).load(std::memory_order_relaxed);
  const auto now = monotonic_ns();
  if (now > beat && now - beat > static_cast<std::uint64_t>(stale_after.count()))
    return PublisherState::Gone;
  return PublisherState::Alive;
}

}  // namespace sluice::shm
