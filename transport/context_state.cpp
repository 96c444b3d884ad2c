#include "transport/context_state.hpp"

#include <algorithm>

#include "shm/liveness.hpp"

namespace sluice::detail {

ContextState::ContextState(ContextOptions options)
    : options_(options),
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
