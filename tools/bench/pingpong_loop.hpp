// Ping-pong loops: the initiator measures round trips, the responder echoes.
//
// Measurement: t0 = ticks() just before send, t1 = ticks() right after the
// echo arrived; one sample = t1 - t0 (it includes about one clock read, see
// clock.hpp). Warm-up round trips run first and are then forgotten.
//
// Fixed rate (--rate): send i is scheduled at start + i / rate. The loop
// spins until that instant, and the recorded latency runs from the
// *scheduled* send time, not the actual one. When a slow round trip makes
// the loop fall behind, the following sends go out late and each one is
// charged the time it waited: this is the coordinated-omission correction
// (a stall shows up in as many samples as a steady client would have been
// hit by, not in one). The uncorrected t1 - t0 goes to a second histogram
// so both can be reported.
#pragma once

#include <cstdint>
#include <span>

#include "tools/bench/clock.hpp"
#include "tools/bench/histogram.hpp"
#include "tools/bench/message.hpp"
#include "tools/bench/progress.hpp"
#include "tools/bench/transport.hpp"

namespace sluice::bench {

struct PingPlan {
  std::uint64_t warmup = 0;
  std::uint64_t count = 0;
  double rate_msgs_per_s = 0.0;  // 0: back to back
  TickClock clock;
};

enum class LoopError : std::uint8_t {
  none,
  broken,          // the transport reported failure (peer gone)
  wrong_echo,      // the echo carried another seq than the ping: corruption
};

struct PingHistograms {
  LatencyHistogram rtt;              // corrected when a rate is set
  LatencyHistogram rtt_uncorrected;  // actual send -> echo (only with a rate)
};

namespace detail {

template <BenchTransport T>
LoopError round_trip(T& transport, std::span<std::byte> msg, std::uint64_t seq) noexcept {
  stamp_seq(msg, seq);
  if (!transport.send(msg)) return LoopError::broken;
  if (!transport.receive(msg)) return LoopError::broken;
  return read_seq(msg) == seq ? LoopError::none : LoopError::wrong_echo;
}

}  // namespace detail

template <BenchTransport T>
LoopError run_ping(T& transport, std::span<std::byte> msg, const PingPlan& plan,
                   PingHistograms& out, Progress& progress) noexcept {
  std::uint64_t seq = 0;
  // Progress counts warm-up too (total = warmup + count), so a long
  // warm-up over a slow transport is not mistaken for a stall.
  for (std::uint64_t i = 1; i <= plan.warmup; ++i) {
    if (auto e = detail::round_trip(transport, msg, ++seq); e != LoopError::none) return e;
    progress.set(i);
  }
  out.rtt.reset();
  out.rtt_uncorrected.reset();
  const TickClock& clock = plan.clock;

  if (plan.rate_msgs_per_s <= 0.0) {
    for (std::uint64_t i = 1; i <= plan.count; ++i) {
      stamp_seq(msg, ++seq);
      const std::uint64_t t0 = clock.ticks();
      if (!transport.send(msg) || !transport.receive(msg)) return LoopError::broken;
      const std::uint64_t t1 = clock.ticks();
      if (read_seq(msg) != seq) return LoopError::wrong_echo;
      out.rtt.record(clock.to_ns(t1 - t0));
      progress.set(seq);
    }
    return LoopError::none;
  }

  const RateSchedule schedule(clock.ticks(), clock.ticks_per_second(), plan.rate_msgs_per_s);
  for (std::uint64_t i = 1; i <= plan.count; ++i) {
    const std::uint64_t scheduled = schedule.wait_for(i, [&] { return clock.ticks(); });
    stamp_seq(msg, ++seq);
    const std::uint64_t t0 = clock.ticks();
    if (!transport.send(msg) || !transport.receive(msg)) return LoopError::broken;
    const std::uint64_t t1 = clock.ticks();
    if (read_seq(msg) != seq) return LoopError::wrong_echo;
    out.rtt.record(clock.to_ns(t1 - scheduled));
    out.rtt_uncorrected.record(clock.to_ns(t1 - t0));
    progress.set(seq);
  }
  return LoopError::none;
}

// Responder: echo `total` messages back unchanged.
template <BenchTransport T>
LoopError run_echo(T& transport, std::span<std::byte> msg, std::uint64_t total) noexcept {
  for (std::uint64_t i = 0; i < total; ++i) {
    if (!transport.receive(msg) || !transport.send(msg)) return LoopError::broken;
  }
  return LoopError::none;
}

}  // namespace sluice::bench
