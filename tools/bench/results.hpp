// What a run measured, independent of how it is printed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tools/bench/histogram.hpp"
#include "tools/bench/options.hpp"
#include "tools/bench/sequence_check.hpp"
#include "tools/bench/transport_registry.hpp"

namespace sluice::bench {

struct RttSummary {
  std::uint64_t min_ns = 0, p50_ns = 0, p90_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  double mean_ns = 0.0;
  std::uint64_t samples = 0;
  static RttSummary of(const LatencyHistogram& h);
};

// --repeat K: the key metric of every run; the reported run is the median.
struct Spread {
  std::vector<double> values;  // one per run, in run order
  double min = 0.0, median = 0.0, max = 0.0;
  static Spread of(std::vector<double> values);
};

struct PingResult {
  RttSummary rtt;                              // corrected when a rate is set
  std::optional<RttSummary> rtt_uncorrected;   // only with --rate
  std::vector<LatencyHistogram::CdfPoint> cdf;
  double histogram_relative_error = 0.0;
  Spread p50_spread;                           // over --repeat runs, p50_ns
};

struct ThroughputResult {
  double msgs_per_s = 0.0;         // delivered, measured at the receiver
  double mb_per_s = 0.0;           // msgs_per_s * size / 1e6
  double sender_msgs_per_s = 0.0;  // offered, measured at the sender
  SequenceCounts counts;
  std::uint64_t elapsed_ns = 0;
  std::optional<RttSummary> one_way;  // paced (--rate): scheduled send -> arrival
  Spread msgs_spread;              // over --repeat runs, msgs_per_s
};

struct Row {
  SelectedTransport transport{};
  std::optional<PingResult> ping{};
  std::optional<ThroughputResult> throughput{};
};

struct Skipped {
  std::string name;
  std::string reason;
};

struct Report {
  BenchKind kind = BenchKind::pingpong;
  std::size_t size_bytes = 0;
  std::uint64_t count = 0, warmup = 0;
  std::uint64_t throughput_count = 0, throughput_warmup = 0;
  double rate_msgs_per_s = 0.0;
  unsigned repeat = 1;
  std::vector<Row> rows{};
  std::vector<Skipped> skipped{};
  std::string reference{};  // compare: the row ratios are relative to
};

}  // namespace sluice::bench
