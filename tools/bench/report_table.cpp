// The human-readable table (stdout by default).
#include <cstdio>
#include <string>

#include "tools/bench/report.hpp"
#include "tools/bench/targets.hpp"

namespace sluice::bench {
namespace {

std::string format(const char* fmt, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, fmt, args...);
  return buf;
}

std::string ratio(const std::optional<double>& r) {
  return r ? format("%7.2fx", *r) : std::string("       -");
}

std::string header_line(const Report& r, const Environment& env) {
  std::string s = format("%s, %d CPUs, Linux %s", env.cpu_model.c_str(), env.logical_cpus, env.kernel.c_str());
  s += env.cpus.pinned() ? format("; tool on cpu %d, peer on cpu %d", env.cpus.tool_cpu, env.cpus.peer_cpu)
                         : std::string("; not pinned (one CPU)");
  s += format("; clock %s (%.0f ns/read); commit %s\n", env.clock_source.c_str(),
              env.clock_read_overhead_ns, env.git_commit.c_str());
  if (r.repeat > 1) s += format("median of %u runs (spread: min..max of the key metric)\n", r.repeat);
  return s;
}

std::string rtt_columns_header() { return "      min       p50       p90       p99     p99.9       max"; }

std::string rtt_columns(const RttSummary& s) {
  // format(), not a chain of operator+: GCC 12 -O3 reports a false
  // -Wrestrict on long std::string concatenations.
  const auto u = [](std::uint64_t v) { return static_cast<unsigned long long>(v); };
  return format("%9llu %9llu %9llu %9llu %9llu %9llu", u(s.min_ns), u(s.p50_ns), u(s.p90_ns), u(s.p99_ns),
                u(s.p999_ns), u(s.max_ns));
}

std::string integrity_note(const ThroughputResult& t) {
  const SequenceCounts& c = t.counts;
  if (c.lost == 0 && c.duplicated == 0 && c.out_of_order == 0 && c.invalid == 0) return "";
  return format("  lost %llu dup %llu ooo %llu", static_cast<unsigned long long>(c.lost),
                static_cast<unsigned long long>(c.duplicated),
                static_cast<unsigned long long>(c.out_of_order));
}

std::string spread_note(const Spread& s, const char* unit) {
  if (s.values.size() < 2) return "";
  return format("  (spread %.0f..%.0f %s)", s.min, s.max, unit);
}

std::string pingpong_table(const Report& r) {
  const Row& row = r.rows.front();
  const PingResult& p = *row.ping;
  std::string s = format("pingpong %s: %zu-byte messages, %llu round trips (+%llu warm-up)", row.transport.uri.c_str(),
                         r.size_bytes, static_cast<unsigned long long>(r.count),
                         static_cast<unsigned long long>(r.warmup));
  if (r.rate_msgs_per_s > 0) s += format(", %.0f msgs/s offered (coordinated-omission corrected)", r.rate_msgs_per_s);
  s += "\nRTT ns  " + rtt_columns_header() + "\n";
  s += "        " + rtt_columns(p.rtt) + spread_note(p.p50_spread, "ns p50") + "\n";
  if (p.rtt_uncorrected) s += "uncorr. " + rtt_columns(*p.rtt_uncorrected) + "\n";
  return s;
}

std::string throughput_table(const Report& r) {
  const Row& row = r.rows.front();
  const ThroughputResult& t = *row.throughput;
  std::string s = format("throughput %s: %zu-byte messages, %llu messages (+%llu warm-up)\n",
                         row.transport.uri.c_str(), r.size_bytes,
                         static_cast<unsigned long long>(r.throughput_count),
                         static_cast<unsigned long long>(r.throughput_warmup));
  if (t.one_way) s += format("paced at %.0f msgs/s (one-way latency from the scheduled send)\n", r.rate_msgs_per_s);
  s += "      msgs/s         MB/s     received         lost   duplicated out-of-order\n";
  s += format("%12.0f %12.1f %12llu %12llu %12llu %12llu", t.msgs_per_s, t.mb_per_s,
              static_cast<unsigned long long>(t.counts.received), static_cast<unsigned long long>(t.counts.lost),
              static_cast<unsigned long long>(t.counts.duplicated),
              static_cast<unsigned long long>(t.counts.out_of_order));
  s += spread_note(t.msgs_spread, "msgs/s") + "\n";
  if (t.one_way) {
    s += "one-way ns" + rtt_columns_header() + "\n";
    s += "          " + rtt_columns(*t.one_way) + "\n";
  }
  return s;
}

std::string compare_table(const Report& r) {
  const Row* lat = latency_reference(r);
  const Row* tp = throughput_reference(r);
  std::string s = format("compare: %zu-byte messages, %llu round trips, %llu messages one-way\n", r.size_bytes,
                         static_cast<unsigned long long>(r.count),
                         static_cast<unsigned long long>(r.throughput_count));
  s += format("ratios: latency / %s, msgs/s / %s\n", lat ? std::string(lat->transport.info.name).c_str() : "-",
              tp ? std::string(tp->transport.info.name).c_str() : "-");
  // Column groups: 18 name | 6 x 10 latency | 13 + 9 one-way | 3 x 9 ratios.
  s += format("%-18s%-60s%-22s%s\n", "", "  -------------- round trip (ns) ---------------",
              "  ---- one-way ----", "  ------- ratio -------");
  s += format("%-18s%s %12s %8s %8s %8s %8s\n", "row", rtt_columns_header().c_str(), "msgs/s", "MB/s", "p50",
              "p99", "msgs/s");
  for (const Row& row : r.rows) {
    const RowRatios ratios = ratios_to_reference(r, row);
    s += format("%-18s", std::string(row.transport.info.name).c_str());
    s += row.ping ? rtt_columns(row.ping->rtt) : std::string(59, ' ');
    if (row.throughput) {
      s += format(" %12.0f %8.1f", row.throughput->msgs_per_s, row.throughput->mb_per_s);
    } else {
      s += format(" %12s %8s", "-", "-");
    }
    s += format(" %s %s %s", ratio(ratios.p50).c_str(), ratio(ratios.p99).c_str(), ratio(ratios.msgs_per_s).c_str());
    if (row.throughput) s += integrity_note(*row.throughput);
    s += "\n";
  }
  for (const Skipped& k : r.skipped) s += format("skipped %s: %s\n", k.name.c_str(), k.reason.c_str());
  for (const TargetCheck& t : check_targets(r)) {
    s += format("target %-44s %8.2f  %s %5.1f  %s\n", std::string(t.what).c_str(), t.value, t.at_most ? "<=" : ">=", t.limit,
                t.met() ? "met" : "MISSED");
  }
  return s;
}

}  // namespace

std::string render_table(const Report& report, const Environment& env) {
  std::string body = report.kind == BenchKind::pingpong     ? pingpong_table(report)
                     : report.kind == BenchKind::throughput ? throughput_table(report)
                                                            : compare_table(report);
  return body + header_line(report, env);
}

}  // namespace sluice::bench
