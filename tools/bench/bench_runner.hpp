// BenchRunner: one measured run = one transport instance + one peer process.
//
//   open (initiator) -> spawn peer -> peer opens, reports ready ->
//   on_peer_ready -> pin -> loop -> unpin -> peer reports done -> reap
//   peer -> close (initiator unlinks its names)
//
// Every failure on the way goes through Supervisor::fail (one line, peer
// killed and reaped, names unlinked, run directory removed, non-zero exit).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "tools/bench/clock.hpp"
#include "tools/bench/cpu_pinning.hpp"
#include "tools/bench/peer_process.hpp"
#include "tools/bench/progress.hpp"
#include "tools/bench/results.hpp"
#include "tools/bench/run_dir.hpp"
#include "tools/bench/supervisor.hpp"
#include "tools/bench/workload.hpp"

namespace sluice::bench {

struct RunSettings {
  std::size_t size_bytes = 64;
  std::uint64_t warmup = 0;
  std::uint64_t count = 0;
  double rate_msgs_per_s = 0.0;  // 0: back to back; throughput: a paced stream
};

struct RunnerConfig {
  std::string peer_executable;  // normally this binary
  std::chrono::milliseconds peer_start_timeout{5'000};
};

class BenchRunner {
 public:
  BenchRunner(Supervisor& supervisor, RunnerConfig config);
  ~BenchRunner();

  PingResult pingpong_once(const SelectedTransport& transport, const RunSettings& settings);
  ThroughputResult throughput_once(const SelectedTransport& transport, const RunSettings& settings);

  const TickClock& clock() const noexcept { return clock_; }
  const CpuPlan& cpus() const noexcept { return cpus_; }

 private:
  struct Session {
    std::unique_ptr<Workload> workload;
    std::unique_ptr<PeerProcess> peer;
    int cleanup_id = 0;
    std::string label;
  };

  Session start(const SelectedTransport& transport, const RunSettings& settings, bool sink);
  void finish(Session& session);
  PeerMessage expect(Session& session, PeerMessageKind kind, std::chrono::milliseconds timeout,
                     const std::string& waiting_for);
  [[noreturn]] void fail_loop(const Session& session, LoopError error);

  Supervisor& supervisor_;
  RunnerConfig config_;
  RunDir run_dir_;
  int run_dir_cleanup_ = 0;
  TickClock clock_;
  CpuPlan cpus_;
  Progress progress_;
};

}  // namespace sluice::bench
