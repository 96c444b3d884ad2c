// Bad input: one line on stderr, a non-zero exit, within seconds, and
// nothing left behind.
#include <gtest/gtest.h>

#include <fstream>
#include <sys/stat.h>

#include "tests/tools/tool_runner.hpp"

namespace sluice::bench::test {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds quick{5'000};

void expect_one_line_error(const ToolRun& run, int code, const std::string& mentions) {
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, code) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("sluice-bench: error: "), std::string::npos) << run.err;
  EXPECT_NE(run.err.find(mentions), std::string::npos) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

TEST(BadInput, UnknownTransportIsAUsageError) {
  const ToolRun run = run_tool({"pingpong", "--transport", "carrier-pigeon"});
  expect_one_line_error(run, 2, "unknown transport 'carrier-pigeon'");
  EXPECT_LT(run.elapsed, quick);
}

TEST(BadInput, SizeAboveTheTransportsMaximumIsAUsageError) {
  const ToolRun run = run_tool({"pingpong", "--transport", "udp-loopback", "--size", "70000"});
  expect_one_line_error(run, 2, "exceeds udp-loopback's maximum of 65507 bytes");
}

TEST(BadInput, SizeBelowTheSequenceNumberIsAUsageError) {
  const ToolRun run = run_tool({"throughput", "--transport", "unix-socket", "--size", "4"});
  expect_one_line_error(run, 2, "--size must be at least 8");
}

TEST(BadInput, PacedStreamOfMessagesTooSmallForASendTimeIsAUsageError) {
  const ToolRun run = run_tool({"throughput", "--transport", "unix-socket", "--rate", "1000", "--size", "8"});
  expect_one_line_error(run, 2, "--rate on throughput needs --size of at least 16");
}

TEST(BadInput, CountZeroIsAUsageError) {
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--count", "0"});
  expect_one_line_error(run, 2, "--count must be at least 1");
}

TEST(BadInput, NegativeCountIsAUsageError) {
  const ToolRun run = run_tool({"compare", "--count", "-3"});
  expect_one_line_error(run, 2, "--count must be at least 1");
}

TEST(BadInput, UnwritableJsonPathIsRefusedBeforeRunning) {
  const ToolRun run = run_tool({"pingpong", "--transport", "boost-mq", "--count", "100000000",
                                "--json=/nonexistent-dir/out.json"});
  expect_one_line_error(run, 2, "--json: cannot write /nonexistent-dir/out.json");
  EXPECT_LT(run.elapsed, quick);
}

TEST(BadInput, PlotIntoADirectoryIsRefused) {
  TempDir dir;
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--plot", dir.path()});
  expect_one_line_error(run, 2, "is a directory");
}

TEST(BadInput, PlotWithoutGnuplotSaysWhatToInstall) {
  TempDir empty;  // a PATH with no gnuplot in it (the peer needs no PATH)
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--plot", empty.path() + "/x.png"},
                               {.env = {"PATH=" + empty.path()}});
  expect_one_line_error(run, 2, "gnuplot not found in PATH (install the gnuplot-nox package)");
}

TEST(BadInput, ThroughputOverRawCachelineIsRefusedWithTheReason) {
  const ToolRun run = run_tool({"throughput", "--transport", "raw-cacheline"});
  expect_one_line_error(run, 2, "raw-cacheline has no throughput mode");
}

TEST(BadInput, ShmWithoutTheSluiceAdapterSaysSoOrRuns) {
  // Either the adapter is compiled in (then the URI must be accepted) or
  // the error names what is missing. Never an "unknown transport".
  const ToolRun run = run_tool({"pingpong", "--transport", "shm:bad-input-test", "--count", "100"});
  if (run.exit_code != 0) expect_one_line_error(run, 2, "not built into this sluice-bench");
}

TEST(BadInput, MalformedShmUriIsRefusedNamingTheBadParameter) {
  const ToolRun run = run_tool({"throughput", "--transport", "shm:bad-input-test?kind=bogus"});
  if (run.err.find("not built into this sluice-bench") != std::string::npos) return;
  expect_one_line_error(run, 2, "kind=bogus is not one of spsc|mpsc|broadcast");
}

TEST(BadInput, PeerThatCannotBeExecutedFailsAtOnce) {
  TempDir tmp;
  const ToolRun run = run_tool({"pingpong", "--transport", "unix-socket", "--peer-exe", "/nonexistent/peer"},
                               {.tmpdir = tmp.path()});
  expect_one_line_error(run, 1, "cannot start peer");
  EXPECT_LT(run.elapsed, quick);
  EXPECT_TRUE(tmp.entries().empty());
  EXPECT_TRUE(leftover_children().empty());
}

TEST(BadInput, PeerThatNeverStartsIsKilledAfterTheStartTimeout) {
  TempDir tmp;
  const std::string script = tmp.path() + "/silent-peer.sh";
  std::ofstream(script) << "#!/bin/sh\nexec sleep 60\n";
  chmod(script.c_str(), 0755);
  TempDir run_tmp;
  const ToolRun run = run_tool({"pingpong", "--transport", "boost-mq", "--peer-exe", script,
                                "--peer-timeout-ms", "1000"},
                               {.tmpdir = run_tmp.path()});
  expect_one_line_error(run, 1, "did not start within 1000 ms");
  EXPECT_LT(run.elapsed, quick);
  // The silent peer (a sleep) was killed and reaped by the tool.
  EXPECT_TRUE(leftover_children().empty());
  EXPECT_TRUE(shm_leftovers({run.pid}).empty());
  EXPECT_TRUE(run_tmp.entries().empty());
}

TEST(BadInput, PeerThatExitsAtOnceIsReportedWithItsStatus) {
  TempDir tmp;
  const std::string script = tmp.path() + "/failing-peer.sh";
  std::ofstream(script) << "#!/bin/sh\nexit 3\n";
  chmod(script.c_str(), 0755);
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--peer-exe", script});
  expect_one_line_error(run, 1, "exited with status 3");
  EXPECT_LT(run.elapsed, quick);
  EXPECT_TRUE(shm_leftovers({run.pid}).empty());
}

TEST(BadInput, JsonAndCsvCannotBothUseStdout) {
  const ToolRun run = run_tool({"pingpong", "--transport", "raw-cacheline", "--json", "--csv"});
  expect_one_line_error(run, 2, "cannot both write to stdout");
}

}  // namespace
}  // namespace sluice::bench::test
