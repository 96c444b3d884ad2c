// CSV: one line per row, the same columns for every subcommand (empty
// where a row has no such figure), so files from different runs concatenate.
#include <cstdio>

#include "tools/bench/report.hpp"

namespace sluice::bench {
namespace {

std::string num(std::uint64_t v) { return std::to_string(v); }

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

std::string num(const std::optional<double>& v) { return v ? num(*v) : std::string(); }

const char* bench_name(BenchKind kind) {
  switch (kind) {
    case BenchKind::pingpong: return "pingpong";
    case BenchKind::throughput: return "throughput";
    case BenchKind::compare: return "compare";
  }
  return "?";
}

}  // namespace

std::string render_csv(const Report& r) {
  std::string s =
      "bench,name,transport,size,count,min_ns,p50_ns,p90_ns,p99_ns,p999_ns,max_ns,"
      "msgs_per_s,mb_per_s,received,lost,duplicated,out_of_order,ratio_p50,ratio_p99,ratio_msgs_per_s\n";
  for (const Row& row : r.rows) {
    s += std::string(bench_name(r.kind)) + "," + std::string(row.transport.info.name) + "," +
         row.transport.json_transport + "," + num(static_cast<std::uint64_t>(r.size_bytes)) + ",";
    s += num(r.kind == BenchKind::throughput ? r.throughput_count : r.count) + ",";
    if (row.ping) {
      const RttSummary& p = row.ping->rtt;
      s += num(p.min_ns) + "," + num(p.p50_ns) + "," + num(p.p90_ns) + "," + num(p.p99_ns) + "," +
           num(p.p999_ns) + "," + num(p.max_ns) + ",";
    } else {
      s += ",,,,,,";
    }
    if (row.throughput) {
      const ThroughputResult& t = *row.throughput;
      s += num(t.msgs_per_s) + "," + num(t.mb_per_s) + "," + num(t.counts.received) + "," +
           num(t.counts.lost) + "," + num(t.counts.duplicated) + "," + num(t.counts.out_of_order) + ",";
    } else {
      s += ",,,,,,";
    }
    const RowRatios ratios = r.kind == BenchKind::compare ? ratios_to_reference(r, row) : RowRatios{};
    s += num(ratios.p50) + "," + num(ratios.p99) + "," + num(ratios.msgs_per_s) + "\n";
  }
  return s;
}

}  // namespace sluice::bench
