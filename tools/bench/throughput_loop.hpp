// One-way throughput loops: the initiator streams, the responder sinks.
//
// The sender pushes seq 1 .. warmup + count as fast as the transport takes
// them (send() waits while the transport is full: back-pressure, not loss,
// wherever the transport has it). The end of the stream is a separate
// marker message (end_marker_seq), sent by the runner: once for reliable
// transports, repeatedly for lossy ones until the sink reports.
//
// The sink times from the arrival of the first measured message to the
// arrival of the last one (or of the end marker, when some were lost), so
// process start-up and warm-up are excluded; msgs/s = (received - 1) / that
// window (received arrivals span received - 1 intervals). Only two clock
// reads per run: the per-message cost is the transport's.
//
// Paced (--rate): message i is scheduled at start + i / rate and carries
// that time; the sender spins until then. The sink records arrival minus
// scheduled send for every measured message: the one-way latency of a
// stream that is not flat out (a market-data feed, say), where a reader
// that batches for throughput could hold messages back. Measured from the
// scheduled time, like the ping loop's coordinated-omission correction:
// a sender that fell behind charges its lateness to the messages it owed.
// One clock read per message on each side (about 25 ns here).
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "tools/bench/clock.hpp"
#include "tools/bench/histogram.hpp"
#include "tools/bench/message.hpp"
#include "tools/bench/pingpong_loop.hpp"
#include "tools/bench/progress.hpp"
#include "tools/bench/sequence_check.hpp"
#include "tools/bench/transport.hpp"

namespace sluice::bench {

template <BenchTransport T>
LoopError run_stream(T& transport, std::span<std::byte> msg, std::uint64_t total, double rate_msgs_per_s,
                     Progress& progress) noexcept {
  std::optional<RateSchedule> schedule;
  if (rate_msgs_per_s > 0.0) schedule.emplace(monotonic_ns(), 1e9, rate_msgs_per_s);
  for (std::uint64_t seq = 1; seq <= total; ++seq) {
    stamp_seq(msg, seq);
    if (schedule) stamp_send_ns(msg, schedule->wait_for(seq - 1, monotonic_ns));
    if (!transport.send(msg)) return LoopError::broken;
    // Publishing progress every message would be cheap too; every 1024th
    // keeps even that store out of the way of the fastest transports.
    if ((seq & 1023) == 0) progress.set(seq);
  }
  progress.set(total);
  return LoopError::none;
}

struct SinkOutcome {
  LoopError error = LoopError::none;
  std::uint64_t elapsed_ns = 0;  // first measured arrival -> last arrival
};

namespace detail {

// The sink's per-message work, shared by both receive paths. Returns true
// at the end marker.
struct SinkState {
  std::uint64_t warmup;
  SequenceCheck& check;
  LatencyHistogram* one_way;  // paced streams only
  std::uint64_t first_ns = 0;
  std::uint64_t end_ns = 0;

  bool on_message(std::span<const std::byte> msg) noexcept {
    const std::uint64_t seq = read_seq(msg);
    if (seq == end_marker_seq) return true;
    if (seq > warmup && (one_way != nullptr || first_ns == 0)) {
      const std::uint64_t now = monotonic_ns();
      if (one_way != nullptr) {
        const std::uint64_t sent = read_send_ns(msg);
        one_way->record(now > sent ? now - sent : 0);
      }
      if (first_ns == 0) first_ns = now;
    }
    check.on_message(seq);
    if (end_ns == 0 && check.complete()) end_ns = monotonic_ns();
    return false;
  }
};

inline constexpr std::size_t sink_batch_limit = 256;

}  // namespace detail

// `one_way`: where a paced stream's latencies go (nullptr: not paced).
template <BenchTransport T>
SinkOutcome run_sink(T& transport, std::span<std::byte> msg, std::uint64_t warmup,
                     SequenceCheck& check, LatencyHistogram* one_way = nullptr) noexcept {
  SinkOutcome outcome;
  detail::SinkState state{.warmup = warmup, .check = check, .one_way = one_way};
  for (bool ended = false; !ended;) {
    if constexpr (BatchReceive<T>) {
      const long n = transport.receive_batch(
          [&](std::span<const std::byte> m) noexcept { ended = ended || state.on_message(m); },
          detail::sink_batch_limit);
      if (n < 0) {
        outcome.error = LoopError::broken;
        return outcome;
      }
    } else {
      if (!transport.receive(msg)) {
        outcome.error = LoopError::broken;
        return outcome;
      }
      ended = state.on_message(msg);
    }
  }
  // Some were lost: the marker ends the window.
  const std::uint64_t end_ns = state.end_ns != 0 ? state.end_ns : monotonic_ns();
  outcome.elapsed_ns = state.first_ns != 0 ? end_ns - state.first_ns : 0;
  return outcome;
}

}  // namespace sluice::bench
