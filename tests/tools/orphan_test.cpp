// No orphans: after success, after an error and after SIGTERM to the tool,
// no child process survives and no segment, queue or socket file is left.
// Leftovers are found by the tool's pid (names carry it; the test is the
// subreaper that inherits any unreaped peer), never by process name.
#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <thread>

#include "tests/tools/tool_runner.hpp"

namespace sluice::bench::test {
namespace {

using std::chrono::milliseconds;

// Transports that create each kind of named resource: sluice segments, a
// POSIX shm segment, Boost message queues (/dev/shm), a Unix socket file, a
// ZeroMQ ipc file.
class NoOrphans : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    // sluice-shm is a row only once its adapter is compiled in.
    const ToolRun list = run_tool({"list"});
    if (list.out.find(std::string(GetParam()) + " ") == std::string::npos) {
      GTEST_SKIP() << GetParam() << " is not built into this sluice-bench";
    }
  }
  void expect_nothing_left(const ToolRun& run, std::vector<pid_t> peers = {}) {
    EXPECT_TRUE(leftover_children().empty());
    peers.push_back(run.pid);
    const auto shm = shm_leftovers(peers);
    EXPECT_TRUE(shm.empty()) << shm.front();
    EXPECT_TRUE(tmp_.entries().empty()) << tmp_.entries().front();
  }
  TempDir tmp_;
};

TEST_P(NoOrphans, AfterSuccess) {
  const ToolRun run = run_tool({"pingpong", "--transport", GetParam(), "--count", "200"}, {.tmpdir = tmp_.path()});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  expect_nothing_left(run);
}

// Waits until the tool has a peer (so a run is under way), then acts.
struct MidRun {
  int signal_to_tool = 0;  // or
  int signal_to_peer = 0;
  std::vector<pid_t> peers{};  // seen mid-run, for the leftover check
};

void act_mid_run(pid_t tool, void* context) {
  auto* what = static_cast<MidRun*>(context);
  const auto deadline = std::chrono::steady_clock::now() + milliseconds(10'000);
  std::vector<pid_t> peers;
  while ((peers = children_of(tool)).empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  what->peers = peers;
  std::this_thread::sleep_for(milliseconds(300));  // into the measuring loop
  if (what->signal_to_peer != 0) {
    for (pid_t peer : peers) kill(peer, what->signal_to_peer);  // by its own pid
  } else {
    kill(tool, what->signal_to_tool);
  }
}

TEST_P(NoOrphans, AfterSigtermOfTheTool) {
  MidRun what{.signal_to_tool = SIGTERM};
  const ToolRun run = run_tool({"pingpong", "--transport", GetParam(), "--count", "1000000000"},
                               {.timeout = milliseconds(30'000), .tmpdir = tmp_.path(),
                                .on_started = act_mid_run, .context = &what});
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 128 + SIGTERM) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("interrupted by SIGTERM"), std::string::npos) << run.err;
  EXPECT_FALSE(what.peers.empty()) << "the run never got as far as a peer";
  expect_nothing_left(run, what.peers);
}

TEST_P(NoOrphans, AfterThePeerDiesMidRun) {
  MidRun what{.signal_to_peer = SIGKILL};
  const ToolRun run = run_tool({"pingpong", "--transport", GetParam(), "--count", "1000000000"},
                               {.timeout = milliseconds(30'000), .tmpdir = tmp_.path(),
                                .on_started = act_mid_run, .context = &what});
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("killed by signal KILL"), std::string::npos) << run.err;
  EXPECT_FALSE(what.peers.empty()) << "the run never got as far as a peer";
  expect_nothing_left(run, what.peers);
}

TEST_P(NoOrphans, AfterThePeerStopsResponding) {
  // A stopped (SIGSTOP) peer neither answers nor exits: only the stall
  // detector can end the run. It must still be killed and reaped.
  MidRun what{.signal_to_peer = SIGSTOP};
  const ToolRun run = run_tool({"pingpong", "--transport", GetParam(), "--count", "1000000000",
                                "--stall-timeout-ms", "1500"},
                               {.timeout = milliseconds(30'000), .tmpdir = tmp_.path(),
                                .on_started = act_mid_run, .context = &what});
  EXPECT_FALSE(run.timed_out);
  EXPECT_EQ(run.exit_code, 1) << run.err;
  EXPECT_EQ(line_count(run.err), 1u) << run.err;
  EXPECT_NE(run.err.find("no progress for 1.5 s"), std::string::npos) << run.err;
  EXPECT_LT(run.elapsed, milliseconds(10'000));
  expect_nothing_left(run, what.peers);
}

TEST_P(NoOrphans, AfterAnErrorDuringSetUp) {
  const ToolRun run = run_tool({"pingpong", "--transport", GetParam(), "--peer-exe", "/nonexistent/peer"},
                               {.tmpdir = tmp_.path()});
  EXPECT_NE(run.exit_code, 0);
  expect_nothing_left(run);
}

INSTANTIATE_TEST_SUITE_P(Transports, NoOrphans,
                         ::testing::Values("sluice-shm", "raw-cacheline", "boost-mq", "unix-socket-spin", "zmq-ipc"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::erase(name, '-');
                           return name;
                         });

}  // namespace
}  // namespace sluice::bench::test
