#include "tools/bench/bench_runner.hpp"

#include <unistd.h>


#include "tools/bench/errors.hpp"

namespace sluice::bench {
namespace {

using std::chrono::milliseconds;

// A peer that has sent `done` only has to close its transport and exit.
constexpr milliseconds exit_grace{2'000};
// A reliable sink drains what is queued (bounded by the queue depth) and
// reports; anything slower than this is a broken transport.
constexpr milliseconds sink_report_timeout{10'000};
// A lossy transport may drop end markers too: resend one every interval.
constexpr milliseconds end_marker_interval{1};
constexpr milliseconds lossy_end_timeout{5'000};

}  // namespace

BenchRunner::BenchRunner(Supervisor& supervisor, RunnerConfig config)
    : supervisor_(supervisor), config_(std::move(config)), clock_(TickClock::calibrate()),
      cpus_(plan_cpus()) {
  remove_stale_leftovers();
  run_dir_cleanup_ = supervisor_.add_cleanup([this] { run_dir_.remove(); });
}

BenchRunner::~BenchRunner() {
  supervisor_.remove_cleanup(run_dir_cleanup_);
  run_dir_.remove();
}

BenchRunner::Session BenchRunner::start(const SelectedTransport& transport,
                                        const RunSettings& settings, bool sink) {
  Session s;
  s.label = std::string(sink ? "throughput " : "pingpong ") + std::string(transport.info.name);
  OpenParams params{.role = Role::initiator,
                    .name = run_dir_.next_name(),
                    .run_dir = run_dir_.path(),
                    .message_bytes = settings.size_bytes,
                    .peer_hint = {},
                    .throughput = sink};
  s.workload = transport.info.make(transport.uri);
  // Registered before open(): a failure half-way through open() still
  // unlinks whatever names were already created.
  Workload* raw = s.workload.get();
  s.cleanup_id = supervisor_.add_cleanup([raw] { raw->unlink_names(); });
  std::string hint;
  try {
    hint = s.workload->open(params);
  } catch (const std::exception& e) {
    supervisor_.fail(std::string(transport.info.name) + ": " + e.what(), exit_failure);
  }

  std::vector<std::string> args = {
      "__peer", "--role", sink ? "sink" : "echo", "--transport", transport.uri,
      "--name", params.name, "--run-dir", params.run_dir, "--hint", hint,
      "--size", std::to_string(settings.size_bytes), "--warmup", std::to_string(settings.warmup),
      "--count", std::to_string(settings.count), "--cpu", std::to_string(cpus_.peer_cpu),
      "--parent", std::to_string(getpid())};
  if (sink && settings.rate_msgs_per_s > 0.0) args.push_back("--paced");
  try {
    s.peer = std::make_unique<PeerProcess>(config_.peer_executable, args);
  } catch (const std::exception& e) {
    supervisor_.fail(e.what(), exit_failure);
  }
  supervisor_.watch_peer(s.peer->pid(), s.peer->pidfd(), s.peer->status_fd());

  const PeerMessage ready = expect(s, PeerMessageKind::ready, config_.peer_start_timeout, "start");
  try {
    s.workload->on_peer_ready(ready.text_view());
  } catch (const std::exception& e) {
    supervisor_.fail(std::string(transport.info.name) + ": " + e.what(), exit_failure);
  }
  return s;
}

PeerMessage BenchRunner::expect(Session& s, PeerMessageKind kind, milliseconds timeout,
                                const std::string& waiting_for) {
  const std::optional<PeerMessage> message = s.peer->wait_message(timeout);
  if (!message) {
    // Closed channel: the peer is exiting; let the supervisor name how.
    if (s.peer->channel_closed()) supervisor_.fail_if_peer_ended(milliseconds(1'000));
    supervisor_.fail(s.label + ": peer (pid " + std::to_string(s.peer->pid()) + ") did not " +
                         waiting_for + " within " + std::to_string(timeout.count()) + " ms",
                     exit_failure);
  }
  if (message->kind == PeerMessageKind::error) {
    supervisor_.fail("peer: " + std::string(message->text_view()), exit_failure);
  }
  if (message->kind != kind) {
    supervisor_.fail(s.label + ": peer sent an unexpected control record", exit_failure);
  }
  return *message;
}

void BenchRunner::finish(Session& s) {
  supervisor_.unwatch_peer();
  s.peer->reap(exit_grace);
  s.peer.reset();
  s.workload.reset();  // closes; the initiator unlinks its names
  supervisor_.remove_cleanup(s.cleanup_id);
}

void BenchRunner::fail_loop(const Session& s, LoopError error) {
  supervisor_.fail_if_peer_ended(milliseconds(500));
  supervisor_.fail(s.label + (error == LoopError::wrong_echo
                                  ? ": the echo carried another sequence number (corruption)"
                                  : ": the transport failed (peer gone?)"),
                   exit_failure);
}

PingResult BenchRunner::pingpong_once(const SelectedTransport& transport, const RunSettings& settings) {
  Session s = start(transport, settings, /*sink=*/false);
  PingPlan plan{.warmup = settings.warmup, .count = settings.count,
                .rate_msgs_per_s = settings.rate_msgs_per_s, .clock = clock_};
  PingHistograms histograms;  // allocated here, before the loop
  progress_.start_phase(settings.warmup + settings.count);
  supervisor_.show_progress(&progress_, s.label);
  LoopError error;
  {
    ScopedPin pin(cpus_.tool_cpu);
    error = s.workload->ping(plan, histograms, progress_);
  }
  supervisor_.hide_progress();
  if (error != LoopError::none) fail_loop(s, error);
  expect(s, PeerMessageKind::done, sink_report_timeout, "finish");
  finish(s);

  PingResult result;
  result.rtt = RttSummary::of(histograms.rtt);
  if (settings.rate_msgs_per_s > 0.0) result.rtt_uncorrected = RttSummary::of(histograms.rtt_uncorrected);
  result.cdf = histograms.rtt.cdf();
  result.histogram_relative_error = histograms.rtt.relative_error();
  return result;
}

ThroughputResult BenchRunner::throughput_once(const SelectedTransport& transport,
                                              const RunSettings& settings) {
  Session s = start(transport, settings, /*sink=*/true);
  const std::uint64_t total = settings.warmup + settings.count;
  progress_.start_phase(total);
  supervisor_.show_progress(&progress_, s.label);
  LoopError error;
  std::uint64_t sender_ns = 0;
  {
    ScopedPin pin(cpus_.tool_cpu);
    const std::uint64_t t0 = monotonic_ns();
    error = s.workload->stream(total, settings.rate_msgs_per_s, progress_);
    sender_ns = monotonic_ns() - t0;
  }
  supervisor_.hide_progress();
  if (error != LoopError::none) fail_loop(s, error);

  std::optional<PeerMessage> done;
  if (transport.info.reliable) {
    if (!s.workload->send_end_marker()) fail_loop(s, LoopError::broken);
    done = expect(s, PeerMessageKind::done, sink_report_timeout, "report");
  } else {
    const auto deadline = std::chrono::steady_clock::now() + lossy_end_timeout;
    while (!done && std::chrono::steady_clock::now() < deadline) {
      if (!s.workload->send_end_marker()) fail_loop(s, LoopError::broken);
      done = s.peer->wait_message(end_marker_interval);
    }
    if (!done) done = expect(s, PeerMessageKind::done, milliseconds(0), "report");
    if (done->kind == PeerMessageKind::error) {
      supervisor_.fail("peer: " + std::string(done->text_view()), exit_failure);
    }
  }
  finish(s);

  ThroughputResult result;
  result.counts = done->counts;
  result.elapsed_ns = done->elapsed_ns;
  if (result.counts.received > 1 && result.elapsed_ns > 0) {
    result.msgs_per_s = static_cast<double>(result.counts.received - 1) * 1e9 /
                        static_cast<double>(result.elapsed_ns);
  }
  result.mb_per_s = result.msgs_per_s * static_cast<double>(settings.size_bytes) / 1e6;
  if (settings.rate_msgs_per_s > 0.0) result.one_way = done->one_way;
  if (sender_ns > 0) {
    result.sender_msgs_per_s = static_cast<double>(total) * 1e9 / static_cast<double>(sender_ns);
  }
  return result;
}

}  // namespace sluice::bench
