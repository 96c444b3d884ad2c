#include "shm/liveness.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include <fmt/format.h>

namespace sluice::shm {

std::uint64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

namespace {

std::uint32_t read_pid_namespace() noexcept {
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) != 0) return 0;
  return static_cast<std::uint32_t>(st.st_ino);  // namespace inodes are 32-bit
}

bool heartbeat_is_stale(const SegmentDescriptor& d, std::chrono::nanoseconds stale_after) noexcept {
  const auto beat = shared(const_cast<SegmentDescriptor&>(d).heartbeat_ns).load(std::memory_order_relaxed);
  const auto now = monotonic_ns();
  return now > beat && now - beat > static_cast<std::uint64_t>(stale_after.count());
}

// Whether a slot holding `word` may be taken over.
bool is_free_or_dead(std::uint64_t word, bool heartbeat_stale) noexcept {
  if (word == 0) return true;
  switch (presence(ProcessTag::unpack(word))) {
    case Presence::Dead: return true;
    case Presence::Unseen: return heartbeat_stale;
    case Presence::Alive: break;
  }
  return false;
}

// Takes `slot` if it is free or its holder is dead; else *holder = the holder.
bool take_slot(std::uint64_t& slot, bool heartbeat_stale, ProcessTag* holder) noexcept {
  auto word = shared(slot);
  const std::uint64_t self = ProcessTag::self().pack();
  std::uint64_t current = word.load(std::memory_order_acquire);
  while (is_free_or_dead(current, heartbeat_stale)) {
    if (word.compare_exchange_weak(current, self, std::memory_order_seq_cst)) return true;
  }
  *holder = ProcessTag::unpack(current);
  return false;
}

// Frees the slots of killed publishers. Their frames are in the ring or
// were abandoned (mpsc stale claims); once another publisher attaches, a
// dead one must not turn that publisher's later clean close into Gone.
void reclaim_dead_slots(SegmentDescriptor& d, bool heartbeat_stale) noexcept {
  for (auto& slot : d.publishers) {
    auto word = shared(slot);
    std::uint64_t current = word.load(std::memory_order_acquire);
    if (current != 0 && is_free_or_dead(current, heartbeat_stale))
      word.compare_exchange_strong(current, 0, std::memory_order_seq_cst);
  }
}

bool any_slot_held(SegmentDescriptor& d) noexcept {
  for (auto& slot : d.publishers)
    if (shared(slot).load(std::memory_order_seq_cst) != 0) return true;
  return false;
}

}  // namespace

ProcessTag ProcessTag::self() noexcept {
  // The namespace is read once per process; a forked child reads it again
  // (it may be the first process of a namespace its parent created).
  static std::atomic<std::uint64_t> cached{0};
  const auto pid = static_cast<std::uint32_t>(::getpid());
  ProcessTag tag = unpack(cached.load(std::memory_order_relaxed));
  if (tag.pid != pid) {
    tag = {pid, read_pid_namespace()};
    cached.store(tag.pack(), std::memory_order_relaxed);
  }
  return tag;
}

std::string describe(ProcessTag holder) {
  if (holder.in_my_namespace()) return fmt::format("pid {}", holder.pid);
  return fmt::format("pid {} of another pid namespace (inode {})", holder.pid, holder.pid_namespace);
}

Presence presence(ProcessTag holder) noexcept {
  if (!holder.in_my_namespace()) return Presence::Unseen;
  // A corrupt pid must not become kill()'s "process group" form.
  if (holder.pid == 0 || holder.pid > static_cast<std::uint32_t>(INT32_MAX)) return Presence::Dead;
  // EPERM: it exists but belongs to another user.
  const bool exists = ::kill(static_cast<pid_t>(holder.pid), 0) == 0 || errno == EPERM;
  return exists ? Presence::Alive : Presence::Dead;
}

std::expected<std::uint32_t, PublisherRefusal> attach_publisher(SegmentDescriptor& d, bool exclusive,
                                                                std::chrono::nanoseconds stale_after) noexcept {
  // Judged before our own beat: whether the publishers already attached
  // (in another pid namespace, say) have stopped beating.
  const bool stale = heartbeat_is_stale(d, stale_after);
  // Then heartbeat: a subscriber that sees our slot must not judge it by a
  // heartbeat left from an earlier publisher long ago.
  heartbeat(d);
  ProcessTag holder;
  if (exclusive) {
    if (!take_slot(d.publishers[0], stale, &holder)) return std::unexpected(PublisherRefusal{holder});
  } else {
    reclaim_dead_slots(d, stale);
    bool taken = false;
    for (auto& slot : d.publishers)
      if ((taken = take_slot(slot, stale, &holder))) break;
    if (!taken) return std::unexpected(PublisherRefusal{});
  }
  // seq_cst: ordered after our slot's CAS against a leaving publisher's
  // closed store (see detach_publisher).
  shared(d.closed).store(0, std::memory_order_seq_cst);
  // Each incarnation draws a fresh session id so subscribers restart their
  // sequence tracking instead of taking seq 1 for a duplicate.
  return shared(d.next_session_id).fetch_add(1, std::memory_order_relaxed);
}

bool attach_subscriber(SegmentDescriptor& d, ProcessTag* owner) noexcept {
  // Take the slot if free or held by a dead process (never by an unseen
  // one: no heartbeat would tell); CAS so two starting subscribers cannot
  // both win.
  return take_slot(d.subscriber, false, owner);
}

void detach_subscriber(SegmentDescriptor& d) noexcept {
  auto self = ProcessTag::self().pack();
  shared(d.subscriber).compare_exchange_strong(self, 0, std::memory_order_acq_rel);
}

void heartbeat(SegmentDescriptor& d) noexcept {
  shared(d.heartbeat_ns).store(monotonic_ns(), std::memory_order_relaxed);
}

void detach_publisher(SegmentDescriptor& d, std::uint32_t session_id,
                      std::uint64_t last_seq) noexcept {
  for (auto& slot : d.publishers) {
    std::uint64_t self = ProcessTag::self().pack();
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
  bool alive = false;  // or unseen: then the heartbeat decides
  for (auto& slot : desc.publishers) {
    const auto word = shared(slot).load(std::memory_order_acquire);
    if (word == 0) continue;
    attached = true;
    if ((alive = presence(ProcessTag::unpack(word)) != Presence::Dead)) break;
  }
  if (!attached) return PublisherState::None;
  if (!alive || heartbeat_is_stale(d, stale_after)) return PublisherState::Gone;
  return PublisherState::Alive;
}

}  // namespace sluice::shm
