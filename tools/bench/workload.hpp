// Workload: one transport instance behind a small virtual interface, so the
// runner (not a template) can drive any adapter while each measuring loop
// is compiled against the concrete adapter type (no virtual call per
// message). An adapter file turns its class into a Workload with
// make_workload<Adapter>(...).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tools/bench/message.hpp"
#include "tools/bench/pingpong_loop.hpp"
#include "tools/bench/sequence_check.hpp"
#include "tools/bench/throughput_loop.hpp"
#include "tools/bench/transport.hpp"

namespace sluice::bench {

class Workload {
 public:
  virtual ~Workload() = default;
  // See BenchTransport (transport.hpp) for open/on_peer_ready/unlink_names.
  virtual std::string open(const OpenParams& params) = 0;
  virtual void on_peer_ready(std::string_view responder_hint) = 0;
  virtual void unlink_names() const noexcept = 0;

  virtual LoopError ping(const PingPlan& plan, PingHistograms& out, Progress& progress) noexcept = 0;
  virtual LoopError echo(std::uint64_t total) noexcept = 0;
  // rate_msgs_per_s: 0 = flat out; else paced (throughput_loop.hpp).
  virtual LoopError stream(std::uint64_t total, double rate_msgs_per_s, Progress& progress) noexcept = 0;
  virtual bool send_end_marker() noexcept = 0;
  virtual SinkOutcome sink(std::uint64_t warmup, SequenceCheck& check, LatencyHistogram* one_way) noexcept = 0;
};

template <BenchTransport T>
class WorkloadFor final : public Workload {
 public:
  template <class... Args>
  explicit WorkloadFor(Args&&... args) : transport_(std::forward<Args>(args)...) {}

  std::string open(const OpenParams& params) override {
    buffer_.assign(params.message_bytes, std::byte{0});
    fill_pattern(buffer_);
    return transport_.open(params);
  }
  void on_peer_ready(std::string_view hint) override { transport_.on_peer_ready(hint); }
  void unlink_names() const noexcept override { transport_.unlink_names(); }

  LoopError ping(const PingPlan& plan, PingHistograms& out, Progress& progress) noexcept override {
    return run_ping(transport_, std::span(buffer_), plan, out, progress);
  }
  LoopError echo(std::uint64_t total) noexcept override {
    return run_echo(transport_, std::span(buffer_), total);
  }
  LoopError stream(std::uint64_t total, double rate_msgs_per_s, Progress& progress) noexcept override {
    return run_stream(transport_, std::span(buffer_), total, rate_msgs_per_s, progress);
  }
  bool send_end_marker() noexcept override {
    stamp_seq(buffer_, end_marker_seq);
    return transport_.send(buffer_);
  }
  SinkOutcome sink(std::uint64_t warmup, SequenceCheck& check, LatencyHistogram* one_way) noexcept override {
    return run_sink(transport_, std::span(buffer_), warmup, check, one_way);
  }

 private:
  T transport_;
  std::vector<std::byte> buffer_;
};

template <BenchTransport T, class... Args>
std::unique_ptr<Workload> make_workload(Args&&... args) {
  return std::make_unique<WorkloadFor<T>>(std::forward<Args>(args)...);
}

}  // namespace sluice::bench
