#include "transport/context_state.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "shm/liveness.hpp"
#include "transport/errors.hpp"

namespace sluice::detail {

namespace {
// A keeper that beat every 0 ms would spin; a timeout within one beat
// would call live peers gone between two beats.
ContextOptions checked(ContextOptions o) {
  using std::chrono::milliseconds;
  if (o.heartbeat_interval <= milliseconds::zero())
    throw SetupError(fmt::format("ContextOptions: heartbeat_interval {} ms must be positive",
                                 o.heartbeat_interval.count()));
  for (const auto& [name, timeout] : {std::pair{"publisher_timeout", o.publisher_timeout},
                                      std::pair{"subscriber_timeout", o.subscriber_timeout}})
    if (timeout <= o.heartbeat_interval)
      throw SetupError(fmt::format("ContextOptions: {} {} ms must exceed heartbeat_interval {} ms", name,
                                   timeout.count(), o.heartbeat_interval.count()));
  if (o.stale_claim_timeout < milliseconds::zero())
    throw SetupError(fmt::format("ContextOptions: stale_claim_timeout {} ms is negative",
                                 o.stale_claim_timeout.count()));
  return o;
}
}  // namespace

ContextState::ContextState(ContextOptions options)
    : options_(checked(options)),
      counters_(CountersSegment::of_this_process()),
      keeper_([this](std::stop_token stop) { run_heartbeats(stop); }) {}

ContextState::~ContextState() {
  keeper_.request_stop();
  wake_.notify_all();
}

void ContextState::add_heartbeat(std::uint64_t& beat) {
  std::lock_guard lock(mutex_);
  heartbeats_.push_back(&beat);
}

void ContextState::remove_heartbeat(std::uint64_t& beat) {
  std::lock_guard lock(mutex_);
  std::erase(heartbeats_, &beat);
}

void ContextState::run_heartbeats(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    for (std::uint64_t* beat : heartbeats_) shm::heartbeat(*beat);
    wake_.wait_for(lock, stop, options_.heartbeat_interval, [] { return false; });
  }
}

}  // namespace sluice::detail
