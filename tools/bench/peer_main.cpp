// The peer process: the other end of every run (hidden subcommand __peer).
//
// It opens the transport as Role::responder, pins itself, tells the tool
// it is ready (with its hint), runs the echo or sink loop, reports, exits.
// Errors go to the tool over the control channel as one line; the tool
// prints it. The peer never outlives the tool: PR_SET_PDEATHSIG delivers
// SIGKILL when the tool's spawning thread dies, and a parent that is
// already gone by the time we check is caught by comparing getppid().
#include "tools/bench/peer_main.hpp"

#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "tools/bench/cpu_pinning.hpp"
#include "tools/bench/peer_protocol.hpp"
#include "tools/bench/transport_registry.hpp"

namespace sluice::bench {
namespace {

void report(const PeerMessage& message) {
  // SEQPACKET record; if the tool is gone there is nobody left to tell.
  send(peer_status_fd, &message, sizeof message, MSG_NOSIGNAL);
}

void report_error(std::string_view text) {
  PeerMessage message;
  message.kind = PeerMessageKind::error;
  message.set_text(text);
  report(message);
}

}  // namespace

int peer_main(const PeerOptions& options) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != static_cast<pid_t>(options.parent_pid)) return 1;  // orphaned before we looked
  try {
    const SelectedTransport transport = select_transport(options.transport);
    std::unique_ptr<Workload> workload = transport.info.make(transport.uri);
    const OpenParams params{.role = Role::responder,
                            .name = options.name,
                            .run_dir = options.run_dir,
                            .message_bytes = options.size_bytes,
                            .peer_hint = options.hint,
                            .throughput = options.sink};
    PeerMessage ready;
    ready.kind = PeerMessageKind::ready;
    ready.set_text(workload->open(params));
    // After open(): threads the transport started keep the full CPU mask.
    pin_this_thread(options.cpu);
    report(ready);

    PeerMessage done;
    done.kind = PeerMessageKind::done;
    if (options.sink) {
      SequenceCheck check(options.warmup, options.count);
      LatencyHistogram one_way;  // allocated here, before the loop
      const SinkOutcome outcome = workload->sink(options.warmup, check, options.paced ? &one_way : nullptr);
      if (outcome.error != LoopError::none) {
        report_error(std::string(transport.info.name) + ": receive failed in the sink (tool gone?)");
        return 1;
      }
      done.counts = check.counts();
      done.elapsed_ns = outcome.elapsed_ns;
      if (options.paced) done.one_way = RttSummary::of(one_way);
    } else if (workload->echo(options.warmup + options.count) != LoopError::none) {
      report_error(std::string(transport.info.name) + ": echo failed (tool gone?)");
      return 1;
    }
    report(done);
    return 0;
  } catch (const std::exception& e) {
    report_error(e.what());
    return 1;
  }
}

}  // namespace sluice::bench
