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

std::optional<std::uint32_t> attach_publisher(SegmentDescriptor& d, bool exclusive,
                                              std::uint64_t* owner) noexcept {
  const auto current = shared(d.publisher_pid).load(std::memory_order_acquire);
  if (exclusive && current != 0 && process_exists(current) &&
      shared(d.closed).load(std::memory_order_acquire) == 0) {
    *owner = current;
    return std::nullopt;
  }
  // Each incarnation draws a fresh session id so subscribers restart their
  // sequence tracking instead of taking seq 1 for a duplicate.
  const std::uint32_t session = shared(d.next_session_id).fetch_add(1, std::memory_order_relaxed);
  shared(d.session_id).store(session, std::memory_order_relaxed);
  shared(d.closed).store(0, std::memory_order_relaxed);
  shared(d.publishers_attached).fetch_add(1, std::memory_order_relaxed);
  shared(d.heartbeat_ns).store(monotonic_ns(), std::memory_order_relaxed);
  shared(d.publisher_pid).store(static_cast<std::uint64_t>(::getpid()), std::memory_order_release);
  return session;
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

void detach_publisher(SegmentDescriptor& d, std::uint64_t last_seq) noexcept {
  shared(d.final_seq).store(last_seq, std::memory_order_relaxed);
  // The last of several mpsc publishers closes the channel; one of them
  // leaving does not. Release: final_seq before closed.
  if (shared(d.publishers_attached).fetch_sub(1, std::memory_order_acq_rel) == 1)
    shared(d.closed).store(1, std::memory_order_release);
}

PublisherState publisher_state(const SegmentDescriptor& d,
                               std::chrono::nanoseconds stale_after) noexcept {
  auto& desc = const_cast<SegmentDescriptor&>(d);
  const auto pid = shared(desc.publisher_pid).load(std::memory_order_acquire);
  if (pid == 0) return PublisherState::None;
  if (shared(desc.closed).load(std::memory_order_acquire) != 0) return PublisherState::Closed;
  if (!process_exists(pid)) return PublisherState::Gone;
  const auto beat = shared(desc.heartbeat_ns).load(std::memory_order_relaxed);
  const auto now = monotonic_ns();
  if (now > beat && now - beat > static_cast<std::uint64_t>(stale_after.count()))
    return PublisherState::Gone;
  return PublisherState::Alive;
}

}  // namespace sluice::shm
