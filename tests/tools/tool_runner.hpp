// Runs sluice-bench as a real process for the tool tests, and checks what
// it left behind.
//
// The test process makes itself a child subreaper: any process the tool
// fails to reap (an orphaned peer) is re-parented to the test, where
// leftover_children() finds it by pid. Nothing is ever looked up or killed
// by name.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

namespace sluice::bench::test {

// Path of the binary under test ($SLUICE_BENCH, set by meson).
std::string tool_path();

struct ToolRun {
  int exit_code = -1;     // 128 + signal if it was killed
  bool timed_out = false; // killed by us after the timeout
  std::string out;
  std::string err;
  std::chrono::milliseconds elapsed{0};
  pid_t pid = -1;
};

// A private $TMPDIR for one test, removed (with its content) at the end.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const;

 private:
  std::string path_;
};

struct ToolOptions {
  std::chrono::milliseconds timeout{60'000};
  std::vector<std::string> env{};  // extra NAME=VALUE entries (override)
  std::string tmpdir{};  // $TMPDIR for the tool (its run directory goes there)
  // Called once the tool runs, with its pid (e.g. to signal it).
  void (*on_started)(pid_t tool, void* context) = nullptr;
  void* context = nullptr;
};

ToolRun run_tool(const std::vector<std::string>& args, const ToolOptions& options = {});

// Children of the test process other than those already reaped: processes
// the tool left behind (re-parented to us). Reaps zombies it finds.
std::vector<pid_t> leftover_children();

// Children of `parent` right now (from /proc).
std::vector<pid_t> children_of(pid_t parent);

// /dev/shm entries that belong to one of `pids` (the tool, its peers):
// names containing "sluice-bench-<pid>-" (the tool's run names) or ending
// in "-<pid>" (per-process segments such as sluice's counters).
std::vector<std::string> shm_leftovers(const std::vector<pid_t>& pids);

// Number of lines in s (a trailing newline does not start a new line).
std::size_t line_count(const std::string& s);

}  // namespace sluice::bench::test
