#include "tools/bench/commands.hpp"

#include <algorithm>

#include "tools/bench/errors.hpp"
#include "tools/bench/transport.hpp"

namespace sluice::bench {
namespace {

void check_size(const SelectedTransport& t, std::size_t size) {
  if (size > t.info.max_message_bytes) {
    throw UsageError("--size " + std::to_string(size) + " exceeds " + std::string(t.info.name) +
                     "'s maximum of " + std::to_string(t.info.max_message_bytes) + " bytes");
  }
}

RunSettings ping_settings(const BenchOptions& o) {
  return {.size_bytes = o.size_bytes, .warmup = o.warmup, .count = o.count,
          .rate_msgs_per_s = o.rate_msgs_per_s};
}

// compare paces its pings only: its throughput column is flat out.
RunSettings throughput_settings(const BenchOptions& o) {
  return {.size_bytes = o.size_bytes, .warmup = o.throughput_warmup, .count = o.throughput_count,
          .rate_msgs_per_s = o.kind == BenchKind::throughput ? o.rate_msgs_per_s : 0.0};
}

// --repeat K: of K runs, the one with the median `key` (the lower median,
// an actual run), carrying the spread of `key` in its `spread_field`.
template <class Result>
Result median_run(std::vector<Result> runs, double (*key)(const Result&),
                  Spread Result::*spread_field) {
  std::vector<double> values;
  for (const auto& r : runs) values.push_back(key(r));
  Spread spread = Spread::of(values);
  auto median = std::find_if(runs.begin(), runs.end(),
                             [&](const Result& r) { return key(r) == spread.median; });
  Result result = std::move(*median);
  result.*spread_field = std::move(spread);
  return result;
}

double p50_of(const PingResult& r) { return static_cast<double>(r.rtt.p50_ns); }
double msgs_per_s_of(const ThroughputResult& r) { return r.msgs_per_s; }

PingResult median_ping(std::vector<PingResult> runs) {
  return median_run(std::move(runs), p50_of, &PingResult::p50_spread);
}

ThroughputResult median_throughput(std::vector<ThroughputResult> runs) {
  return median_run(std::move(runs), msgs_per_s_of, &ThroughputResult::msgs_spread);
}

PingResult repeated_ping(BenchRunner& runner, const SelectedTransport& t, const RunSettings& s,
                         unsigned repeat) {
  std::vector<PingResult> runs;
  for (unsigned i = 0; i < repeat; ++i) runs.push_back(runner.pingpong_once(t, s));
  return median_ping(std::move(runs));
}

ThroughputResult repeated_throughput(BenchRunner& runner, const SelectedTransport& t,
                                     const RunSettings& s, unsigned repeat) {
  std::vector<ThroughputResult> runs;
  for (unsigned i = 0; i < repeat; ++i) runs.push_back(runner.throughput_once(t, s));
  return median_throughput(std::move(runs));
}

Report base_report(const BenchOptions& o) {
  Report r{.kind = o.kind};
  r.size_bytes = o.size_bytes;
  r.count = o.count;
  r.warmup = o.warmup;
  r.throughput_count = o.throughput_count;
  r.throughput_warmup = o.throughput_warmup;
  r.rate_msgs_per_s = o.rate_msgs_per_s;
  r.repeat = o.repeat;
  return r;
}

}  // namespace

void validate_request(const BenchOptions& o) {
  if (o.size_bytes < min_message_bytes) {
    throw UsageError("--size must be at least " + std::to_string(min_message_bytes) +
                     " bytes (the sequence number)");
  }
  if (o.kind == BenchKind::compare) {
    const auto rows = compare_transports(o.only);
    const bool any = std::any_of(rows.begin(), rows.end(), [&](const SelectedTransport& t) {
      return o.size_bytes <= t.info.max_message_bytes;
    });
    if (!any) throw UsageError("--size " + std::to_string(o.size_bytes) + " exceeds every transport's maximum");
    return;
  }
  const SelectedTransport t = select_transport(o.transport);
  check_size(t, o.size_bytes);
  if (o.kind == BenchKind::throughput && !t.info.supports_throughput) {
    throw UsageError(std::string(t.info.name) + " has no throughput mode: " + std::string(t.info.summary));
  }
}

Report run_pingpong(BenchRunner& runner, const BenchOptions& o) {
  Report report = base_report(o);
  Row row{.transport = select_transport(o.transport)};
  row.ping = repeated_ping(runner, row.transport, ping_settings(o), o.repeat);
  report.rows.push_back(std::move(row));
  return report;
}

Report run_throughput(BenchRunner& runner, const BenchOptions& o) {
  Report report = base_report(o);
  Row row{.transport = select_transport(o.transport)};
  row.throughput = repeated_throughput(runner, row.transport, throughput_settings(o), o.repeat);
  report.rows.push_back(std::move(row));
  return report;
}

Report run_compare(BenchRunner& runner, const BenchOptions& o) {
  Report report = base_report(o);
  std::vector<SelectedTransport> rows;
  for (const SelectedTransport& t : compare_transports(o.only)) {
    if (o.size_bytes > t.info.max_message_bytes) {
      report.skipped.push_back({std::string(t.info.name),
                                "size above its maximum of " + std::to_string(t.info.max_message_bytes) + " bytes"});
      continue;
    }
    rows.push_back(t);
  }
  // Repeats are interleaved, round by round over all rows, so that every
  // row's median covers the same stretch of time: on a VM whose vCPU
  // placement changes within seconds, K runs of one row and then K of the
  // next compare two different machines.
  std::vector<std::vector<PingResult>> pings(rows.size());
  std::vector<std::vector<ThroughputResult>> rates(rows.size());
  for (unsigned round = 0; round < o.repeat; ++round) {
    for (std::size_t i = 0; i < rows.size(); ++i) {
      pings[i].push_back(runner.pingpong_once(rows[i], ping_settings(o)));
      if (rows[i].info.supports_throughput)
        rates[i].push_back(runner.throughput_once(rows[i], throughput_settings(o)));
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Row row{.transport = rows[i]};
    row.ping = median_ping(std::move(pings[i]));
    if (!rates[i].empty()) row.throughput = median_throughput(std::move(rates[i]));
    report.rows.push_back(std::move(row));
  }
  // Ratios are relative to sluice-shm when it ran, else to the first row.
  const auto ref = std::find_if(report.rows.begin(), report.rows.end(),
                                [](const Row& r) { return r.transport.info.name == "sluice-shm"; });
  report.reference = std::string(ref != report.rows.end() ? ref->transport.info.name
                                                          : report.rows.front().transport.info.name);
  return report;
}

}  // namespace sluice::bench
