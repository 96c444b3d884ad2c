// A real child process for cross-process tests: spawned with its stdout on
// a pipe, waited for with a deadline, killed by its own pid (never by name)
// if it overstays or the test ends early.
#pragma once

#include <signal.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace sluice::test {

class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv);
  ChildProcess(ChildProcess&&) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILL + reap if still running; removes the counters
                    // segment of a child that died by a signal

  pid_t pid() const noexcept { return pid_; }
  // Reads stdout until a line equal to `line` or the deadline; true if seen.
  bool wait_for_line(const std::string& line, std::chrono::milliseconds timeout);
  // Waits for exit; on timeout kills it and returns nullopt. Exit code, or
  // 128 + signal when killed by a signal.
  std::optional<int> wait(std::chrono::milliseconds timeout);
  void kill(int signal = SIGKILL) noexcept;
  // Everything the child printed on stdout so far (after wait: all of it).
  const std::string& output() const noexcept { return output_; }

 private:
  bool read_some(std::chrono::milliseconds timeout);
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  bool reaped_ = false;
  bool died_by_signal_ = false;
  std::string output_;
};

// Value of "key=value" in a peer's result line, or nullopt.
std::optional<std::string> field(const std::string& output, const std::string& key);
std::optional<unsigned long long> number_field(const std::string& output, const std::string& key);

// Path of a binary built next to the test binary (meson passes it as env).
std::string peer_binary();
// A segment name no other test (or test run) uses.
std::string unique_name(const std::string& stem);

}  // namespace sluice::test
