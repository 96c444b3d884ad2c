#include "transport/context_state.hpp"

#include <algorithm>

#include "shm/liveness.hpp"

namespace sluice::detail {

ContextState::ContextState(ContextOptions options)
    : options_(options), keeper_([this](std::stop_token stop) { run_heartbeats(stop); }) {}

ContextState::~ContextState() {
  keeper_.request_stop();
  wake_.notify_all();
}

void ContextState::add_heartbeat(shm::SegmentDescriptor* d, std::uint32_t index) {
  std::lock_guard lock(mutex_);
  heartbeats_.emplace_back(d, index);
}

void ContextState::remove_heartbeat(shm::SegmentDescriptor* d, std::uint32_t index) {
  std::lock_guard lock(mutex_);
  std::erase(heartbeats_, std::pair(d, index));
}

void ContextState::run_heartbeats(std::stop_token stop) {
  std::unique_lock lock(mutex_);
  while (!stop.stop_requested()) {
    for (auto [d, index] : heartbeats_) shm::heartbeat(*d, index);
    wake_.wait_for(lock, stop, options_.heartbeat_interval, [] { return false; });
  }
}

}  // namespace sluice::detail
