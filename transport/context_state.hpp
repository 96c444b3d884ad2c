// What a Context shares with the publications and subscriptions it made:
// the process's counters segment and the heartbeat keeper. Held by
// shared_ptr, so a publication that outlives its Context stays valid.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "shm/segment_descriptor.hpp"
#include "transport/counters.hpp"

namespace sluice {

// Checked when a Context is made: a non-positive heartbeat_interval, a
// timeout within one heartbeat or a negative stale_claim_timeout is a
// SetupError.
struct ContextOptions {
  // How often live publications stamp their heartbeat.
  std::chrono::milliseconds heartbeat_interval{100};
  // A publisher whose heartbeat is older than this is reported gone (a dead
  // pid is reported at once).
  std::chrono::milliseconds publisher_timeout{5000};
  // An spsc/mpsc subscriber of another pid namespace whose heartbeat is
  // older than this gives its channel to the next subscriber (one of this
  // pid namespace is judged by its pid at once).
  std::chrono::milliseconds subscriber_timeout{5000};
  // An mpsc claim stuck uncommitted this long is skipped as padding.
  std::chrono::milliseconds stale_claim_timeout{1000};
};

namespace detail {

class ContextState {
 public:
  explicit ContextState(ContextOptions options);
  ~ContextState();
  ContextState(const ContextState&) = delete;
  ContextState& operator=(const ContextState&) = delete;

  // Keeps stamping `beat`, a descriptor slot's heartbeat word (a
  // publication's, or an spsc/mpsc subscription's).
  void add_heartbeat(std::uint64_t& beat);
  void remove_heartbeat(std::uint64_t& beat);
  CountersSegment& counters() noexcept { return *counters_; }
  const ContextOptions& options() const noexcept { return options_; }

 private:
  void run_heartbeats(std::stop_token stop);

  ContextOptions options_;
  std::shared_ptr<CountersSegment> counters_;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  std::vector<std::uint64_t*> heartbeats_;
  std::jthread keeper_;  // last: starts after everything it uses exists
};

}  // namespace detail
}  // namespace sluice
