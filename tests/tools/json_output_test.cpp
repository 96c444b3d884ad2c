// --json against the DESIGN §8 schema, parsed with a real JSON parser:
// every contract key present with its type, plus the documented extras.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

#include "tests/tools/tool_runner.hpp"

namespace sluice::bench::test {
namespace {

using nlohmann::json;

json run_json(const std::vector<std::string>& args) {
  const ToolRun run = run_tool(args);
  EXPECT_EQ(run.exit_code, 0) << run.err;
  // stderr is a pipe here, not a terminal: no progress bar, nothing at all.
  EXPECT_TRUE(run.err.empty()) << run.err;
  EXPECT_TRUE(json::accept(run.out)) << run.out;
  return json::parse(run.out, nullptr, /*allow_exceptions=*/false);
}

void expect_unsigned(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  EXPECT_TRUE(j[key].is_number_unsigned()) << key << " = " << j[key].dump();
}

void expect_number(const json& j, const char* key) {
  ASSERT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
  EXPECT_TRUE(j[key].is_number()) << key << " = " << j[key].dump();
}

void expect_rtt(const json& rtt) {
  ASSERT_TRUE(rtt.is_object()) << rtt.dump();
  for (const char* k : {"min", "p50", "p90", "p99", "p999", "max"}) expect_unsigned(rtt, k);
  EXPECT_EQ(rtt.size(), 6u) << "rtt_ns holds exactly the six contract keys: " << rtt.dump();
  const auto v = [&](const char* k) { return rtt[k].get<std::uint64_t>(); };
  EXPECT_GT(v("p50"), 0u);
  EXPECT_LE(v("min"), v("p50"));
  EXPECT_LE(v("p50"), v("p90"));
  EXPECT_LE(v("p90"), v("p99"));
  EXPECT_LE(v("p99"), v("p999"));
  EXPECT_LE(v("p999"), v("max"));
}

void expect_environment(const json& j) {
  ASSERT_TRUE(j.contains("machine"));
  EXPECT_TRUE(j["machine"]["cpu_model"].is_string());
  EXPECT_TRUE(j["machine"]["logical_cpus"].is_number_integer());
  EXPECT_TRUE(j["machine"]["kernel"].is_string());
  EXPECT_TRUE(j["git_commit"].is_string());
  EXPECT_TRUE(j["timestamp"].is_string());
  EXPECT_TRUE(j["clock"]["source"].is_string());
  EXPECT_TRUE(j["cpus"]["pinned"].is_boolean());
}

TEST(JsonOutput, PingpongMatchesTheSchema) {
  const json j = run_json({"pingpong", "--transport", "raw-cacheline", "--count", "2000", "--json"});
  EXPECT_EQ(j["bench"], "pingpong");
  EXPECT_EQ(j["transport"], "raw-cacheline");
  EXPECT_EQ(j["size"], 64);
  EXPECT_EQ(j["count"], 2000);
  expect_unsigned(j, "size");
  expect_unsigned(j, "count");
  expect_rtt(j["rtt_ns"]);
  EXPECT_EQ(j["coordinated_omission_corrected"], false);
  expect_environment(j);
}

TEST(JsonOutput, PingpongAtAFixedRateReportsCorrectedAndUncorrected) {
  const json j = run_json({"pingpong", "--transport", "unix-socket-spin", "--count", "500", "--rate", "20000",
                           "--json"});
  EXPECT_EQ(j["coordinated_omission_corrected"], true);
  expect_number(j, "rate_msgs_per_s");
  expect_rtt(j["rtt_ns"]);
  expect_rtt(j["rtt_uncorrected_ns"]);
  // Measured from the scheduled send, a corrected sample is never shorter.
  EXPECT_GE(j["rtt_ns"]["max"].get<std::uint64_t>(), j["rtt_uncorrected_ns"]["max"].get<std::uint64_t>());
}

TEST(JsonOutput, ThroughputMatchesTheSchema) {
  const json j = run_json({"throughput", "--transport", "unix-socket", "--count", "20000", "--json"});
  EXPECT_EQ(j["bench"], "throughput");
  EXPECT_EQ(j["transport"], "unix-socket");
  EXPECT_EQ(j["size"], 64);
  EXPECT_EQ(j["count"], 20000);
  expect_number(j, "msgs_per_s");
  expect_number(j, "mb_per_s");
  for (const char* k : {"received", "lost", "duplicated", "out_of_order"}) expect_unsigned(j, k);
  EXPECT_EQ(j["received"], 20000);
  EXPECT_EQ(j["lost"], 0);
  EXPECT_EQ(j["duplicated"], 0);
  EXPECT_EQ(j["out_of_order"], 0);
  EXPECT_GT(j["msgs_per_s"].get<double>(), 0.0);
  expect_environment(j);
}

// A paced stream over sluice's shared memory: every measured message's
// one-way latency, from its scheduled send, and none lost.
TEST(JsonOutput, PacedThroughputReportsOneWayLatency) {
  const json j = run_json({"throughput", "--transport", "shm:json-paced-test", "--count", "20000",
                           "--rate", "200000", "--json"});
  EXPECT_EQ(j["bench"], "throughput");
  EXPECT_EQ(j["rate_msgs_per_s"], 200000.0);
  expect_rtt(j["one_way_ns"]);
  EXPECT_EQ(j["one_way_samples"], 20000) << "one sample per measured message";
  EXPECT_EQ(j["received"], 20000);
  EXPECT_EQ(j["lost"], 0);
  EXPECT_EQ(j["duplicated"], 0);
  // A paced sender offers no more than its rate (the receiver may briefly
  // exceed it catching up on a backlog).
  EXPECT_LT(j["sender_msgs_per_s"].get<double>(), 200000.0 * 1.01);
}

TEST(JsonOutput, UnpacedThroughputHasNoLatency) {
  const json j = run_json({"throughput", "--transport", "shm:json-unpaced-test", "--count", "20000", "--json"});
  EXPECT_TRUE(j["rate_msgs_per_s"].is_null());
  EXPECT_FALSE(j.contains("one_way_ns"));
}

TEST(JsonOutput, CompareMatchesTheSchema) {
  const json j = run_json({"compare", "--transports", "raw-cacheline,boost-mq-spin,unix-socket-spin",
                           "--count", "500", "--throughput-count", "5000", "--json"});
  EXPECT_EQ(j["bench"], "compare");
  EXPECT_EQ(j["size"], 64);
  ASSERT_TRUE(j["results"].is_array());
  ASSERT_EQ(j["results"].size(), 3u);
  for (const json& row : j["results"]) {
    EXPECT_TRUE(row["name"].is_string());
    expect_rtt(row["rtt_ns"]);
    ASSERT_TRUE(row.contains("msgs_per_s"));
    if (row["name"] == "raw-cacheline") {
      EXPECT_TRUE(row["msgs_per_s"].is_null()) << "no throughput mode: null, never a made-up number";
    } else {
      EXPECT_TRUE(row["msgs_per_s"].is_number());
    }
  }
  EXPECT_TRUE(j["reference"].is_string());
  expect_environment(j);
}

TEST(JsonOutput, JsonToAFileKeepsTheTableOnStdout) {
  TempDir dir;
  const std::string path = dir.path() + "/out.json";
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--count", "500", "--json=" + path});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_NE(run.out.find("p99.9"), std::string::npos) << run.out;
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_TRUE(json::accept(text.str()));
}

TEST(CsvOutput, HasAHeaderAndOneLinePerRow) {
  const ToolRun run = run_tool({"compare", "--transports", "raw-cacheline,unix-socket-spin", "--count", "300",
                                "--throughput-count", "3000", "--csv"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(line_count(run.out), 3u) << run.out;
  EXPECT_EQ(run.out.rfind("bench,name,transport,size,count,min_ns,p50_ns", 0), 0u) << run.out;
  EXPECT_NE(run.out.find("\ncompare,raw-cacheline,"), std::string::npos);
}

}  // namespace
}  // namespace sluice::bench::test
