// A short compare end to end: every available row present and sane, and a
// PNG written.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "tests/tools/tool_runner.hpp"

namespace sluice::bench::test {
namespace {

using nlohmann::json;

std::set<std::string> available_rows() {
  const ToolRun run = run_tool({"list"});
  EXPECT_EQ(run.exit_code, 0);
  std::set<std::string> names;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line[0] != '(') names.insert(line.substr(0, line.find(' ')));
  }
  return names;
}

TEST(Compare, EveryAvailableRowIsPresentAndSane) {
  TempDir dir;
  TempDir run_tmp;
  const std::string json_path = dir.path() + "/compare.json";
  const std::string png_path = dir.path() + "/compare.png";
  const ToolRun run = run_tool({"compare", "--count", "300", "--throughput-count", "20000", "--json=" + json_path,
                                "--plot", png_path},
                               {.timeout = std::chrono::milliseconds(240'000), .tmpdir = run_tmp.path()});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // Every row closed its transport: no segment, queue or socket file left.
  const auto shm = shm_leftovers({run.pid});
  EXPECT_TRUE(shm.empty()) << shm.front();
  EXPECT_TRUE(run_tmp.entries().empty()) << run_tmp.entries().front();
  EXPECT_TRUE(leftover_children().empty());

  const std::set<std::string> expected = available_rows();
  for (const char* baseline : {"raw-cacheline", "raw-cacheline-walk", "boost-mq", "boost-mq-spin", "zmq-ipc", "udp-loopback",
                               "udp-loopback-spin", "unix-socket", "unix-socket-spin"}) {
    EXPECT_TRUE(expected.count(baseline)) << baseline;
  }
  std::ifstream in(json_path);
  const json j = json::parse(in);
  std::set<std::string> seen;
  for (const json& row : j["results"]) {
    const std::string name = row["name"];
    seen.insert(name);
    SCOPED_TRACE(name);
    const json& rtt = row["rtt_ns"];
    EXPECT_GT(rtt["p50"].get<std::uint64_t>(), 0u);
    EXPECT_LE(rtt["p50"].get<std::uint64_t>(), rtt["p99"].get<std::uint64_t>());
    EXPECT_LE(rtt["p99"].get<std::uint64_t>(), rtt["max"].get<std::uint64_t>());
    // A round trip between processes on this machine: above 20 ns, below 1 s.
    EXPECT_GT(rtt["p50"].get<std::uint64_t>(), 20u);
    EXPECT_LT(rtt["p50"].get<std::uint64_t>(), 1'000'000'000u);
    if (row["msgs_per_s"].is_null()) {
      EXPECT_EQ(name.rfind("raw-cacheline", 0), 0u) << "only the latency floors have no throughput";
      continue;
    }
    EXPECT_GT(row["msgs_per_s"].get<double>(), 1'000.0);
    EXPECT_EQ(row["received"].get<std::uint64_t>() + row["lost"].get<std::uint64_t>(), 20'000u);
    EXPECT_EQ(row["duplicated"], 0);
    // Only kernel UDP may lose (it has no flow control); nothing may duplicate.
    if (name.rfind("udp-loopback", 0) != 0) {
      EXPECT_EQ(row["lost"], 0);
      EXPECT_EQ(row["out_of_order"], 0);
    }
  }
  EXPECT_EQ(seen, expected);
  if (seen.count("sluice-shm")) {
    EXPECT_EQ(j["reference"], "sluice-shm");
  }

  std::ifstream png(png_path, std::ios::binary);
  char magic[4] = {};
  png.read(magic, 4);
  EXPECT_EQ(std::string(magic + 1, 3), "PNG");
}

}  // namespace
}  // namespace sluice::bench::test
