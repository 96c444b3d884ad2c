// JSON output. The keys named in DESIGN §8 are a stable contract: scripts
// read them. Never rename or retype one; add new keys instead. Everything
// beyond the contract (machine, clock, repeat spread, ratios...) is extra.
#include <nlohmann/json.hpp>

#include "tools/bench/report.hpp"
#include "tools/bench/targets.hpp"

namespace sluice::bench {
namespace {

using json = nlohmann::ordered_json;

json rtt_json(const RttSummary& s) {
  return {{"min", s.min_ns}, {"p50", s.p50_ns}, {"p90", s.p90_ns},
          {"p99", s.p99_ns}, {"p999", s.p999_ns}, {"max", s.max_ns}};
}

json spread_json(const Spread& s, const char* metric) {
  return {{"runs", s.values.size()}, {"metric", metric}, {"values", s.values},
          {"min", s.min}, {"median", s.median}, {"max", s.max}};
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

void add_ping_extras(json& j, const PingResult& p) {
  j["rtt_mean_ns"] = p.rtt.mean_ns;
  j["rtt_samples"] = p.rtt.samples;
  j["histogram_relative_error"] = p.histogram_relative_error;
  if (p.rtt_uncorrected) j["rtt_uncorrected_ns"] = rtt_json(*p.rtt_uncorrected);
  j["rtt_repeat"] = spread_json(p.p50_spread, "p50_ns");
}

void add_counts(json& j, const ThroughputResult& t) {
  j["received"] = t.counts.received;
  j["lost"] = t.counts.lost;
  j["duplicated"] = t.counts.duplicated;
  j["out_of_order"] = t.counts.out_of_order;
}

void add_throughput_extras(json& j, const ThroughputResult& t) {
  j["invalid"] = t.counts.invalid;
  j["elapsed_ns"] = t.elapsed_ns;
  j["sender_msgs_per_s"] = t.sender_msgs_per_s;
  j["throughput_repeat"] = spread_json(t.msgs_spread, "msgs_per_s");
}

json environment_json(const Report& r, const Environment& env) {
  return {{"machine", {{"cpu_model", env.cpu_model}, {"logical_cpus", env.logical_cpus},
                       {"kernel", env.kernel}, {"hostname", env.hostname}}},
          {"cpus", {{"pinned", env.cpus.pinned()}, {"tool", env.cpus.tool_cpu}, {"peer", env.cpus.peer_cpu}}},
          {"clock", {{"source", env.clock_source}, {"read_overhead_ns", env.clock_read_overhead_ns},
                     {"tsc_hz", env.tsc_hz}}},
          {"git_commit", env.git_commit},
          {"tool_version", env.tool_version},
          {"timestamp", env.timestamp_utc},
          {"repeat", r.repeat}};
}

json transport_fields(const Row& row) {
  return {{"name", row.transport.info.name}, {"uri", row.transport.uri},
          {"wait", row.transport.info.wait == WaitMode::spin ? "spin" : "blocking"}};
}

json pingpong_json(const Report& r) {
  const Row& row = r.rows.front();
  json j = {{"bench", "pingpong"}, {"transport", row.transport.json_transport},
            {"size", r.size_bytes}, {"count", r.count}, {"rtt_ns", rtt_json(row.ping->rtt)}};
  j.update(transport_fields(row));
  j["warmup"] = r.warmup;
  j["rate_msgs_per_s"] = r.rate_msgs_per_s > 0 ? json(r.rate_msgs_per_s) : json(nullptr);
  j["coordinated_omission_corrected"] = r.rate_msgs_per_s > 0;
  add_ping_extras(j, *row.ping);
  return j;
}

json throughput_json(const Report& r) {
  const Row& row = r.rows.front();
  const ThroughputResult& t = *row.throughput;
  json j = {{"bench", "throughput"}, {"transport", row.transport.json_transport},
            {"size", r.size_bytes}, {"count", r.throughput_count},
            {"msgs_per_s", t.msgs_per_s}, {"mb_per_s", t.mb_per_s}};
  add_counts(j, t);
  j.update(transport_fields(row));
  j["warmup"] = r.throughput_warmup;
  add_throughput_extras(j, t);
  j["rate_msgs_per_s"] = t.one_way ? json(r.rate_msgs_per_s) : json(nullptr);
  if (t.one_way) {
    j["one_way_ns"] = rtt_json(*t.one_way);
    j["one_way_mean_ns"] = t.one_way->mean_ns;
    j["one_way_samples"] = t.one_way->samples;
  }
  return j;
}

json compare_json(const Report& r) {
  json results = json::array();
  for (const Row& row : r.rows) {
    // DESIGN §8 keys first; msgs_per_s is null for a row without a
    // throughput mode (raw-cacheline), never a made-up number.
    json j = {{"name", row.transport.info.name},
              {"rtt_ns", row.ping ? rtt_json(row.ping->rtt) : json(nullptr)},
              {"msgs_per_s", row.throughput ? json(row.throughput->msgs_per_s) : json(nullptr)}};
    j["transport"] = row.transport.json_transport;
    j["uri"] = row.transport.uri;
    j["wait"] = row.transport.info.wait == WaitMode::spin ? "spin" : "blocking";
    if (row.ping) add_ping_extras(j, *row.ping);
    if (row.throughput) {
      j["mb_per_s"] = row.throughput->mb_per_s;
      add_counts(j, *row.throughput);
      add_throughput_extras(j, *row.throughput);
    }
    const RowRatios ratios = ratios_to_reference(r, row);
    j["ratio"] = {{"p50", optional_number(ratios.p50)}, {"p99", optional_number(ratios.p99)},
                  {"msgs_per_s", optional_number(ratios.msgs_per_s)}};
    results.push_back(std::move(j));
  }
  json skipped = json::array();
  for (const Skipped& s : r.skipped) skipped.push_back({{"name", s.name}, {"reason", s.reason}});
  json j = {{"bench", "compare"}, {"size", r.size_bytes}, {"results", results}};
  j["reference"] = r.reference;
  const Row* lat = latency_reference(r);
  const Row* tp = throughput_reference(r);
  j["reference_latency"] = lat ? json(lat->transport.info.name) : json(nullptr);
  j["reference_throughput"] = tp ? json(tp->transport.info.name) : json(nullptr);
  j["count"] = r.count;
  j["warmup"] = r.warmup;
  j["throughput_count"] = r.throughput_count;
  j["throughput_warmup"] = r.throughput_warmup;
  j["rate_msgs_per_s"] = r.rate_msgs_per_s > 0 ? json(r.rate_msgs_per_s) : json(nullptr);
  j["skipped"] = skipped;
  json targets = json::array();
  for (const TargetCheck& t : check_targets(r)) {
    targets.push_back({{"what", t.what}, {"value", t.value}, {"limit", t.limit},
                       {"at_most", t.at_most}, {"met", t.met()}});
  }
  j["targets"] = targets;  // DESIGN §9, 64 B only; empty when the rows are missing
  return j;
}

}  // namespace

std::string render_json(const Report& report, const Environment& env) {
  json j = report.kind == BenchKind::pingpong     ? pingpong_json(report)
           : report.kind == BenchKind::throughput ? throughput_json(report)
                                                  : compare_json(report);
  j.update(environment_json(report, env));
  return j.dump(2) + "\n";
}

}  // namespace sluice::bench
