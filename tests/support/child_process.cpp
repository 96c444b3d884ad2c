#include "tests/support/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "transport/counters.hpp"

extern char** environ;

namespace sluice::test {

using Clock = std::chrono::steady_clock;

ChildProcess::ChildProcess(std::vector<std::string> argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  const int rc = ::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(fds[1]);
  stdout_fd_ = fds[0];
  if (rc != 0) {
    ::close(stdout_fd_);
    throw std::runtime_error("posix_spawn " + argv[0] + " failed: " + std::to_string(rc));
  }
}

ChildProcess::ChildProcess(ChildProcess&& o) noexcept
    : pid_(o.pid_),
      stdout_fd_(o.stdout_fd_),
      reaped_(o.reaped_),
      died_by_signal_(o.died_by_signal_),
      output_(std::move(o.output_)) {
  o.pid_ = -1;
  o.stdout_fd_ = -1;
  o.reaped_ = true;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    died_by_signal_ = true;
  }
  // A child that died by a signal never ran its Context's destructor: its
  // counters segment is still in /dev/shm. (Tests read it before this.)
  if (pid_ > 0 && died_by_signal_)
    ::shm_unlink(("/" + counters_segment_name(static_cast<std::uint64_t>(pid_))).c_str());
  if (stdout_fd_ >= 0) ::close(stdout_fd_);
}

bool ChildProcess::read_some(std::chrono::milliseconds timeout) {
  if (stdout_fd_ < 0) return false;
  pollfd p{stdout_fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  char buf[4096];
  const ssize_t n = ::read(stdout_fd_, buf, sizeof buf);
  if (n <= 0) {
    ::close(stdout_fd_);
    stdout_fd_ = -1;
    return false;
  }
  output_.append(buf, static_cast<std::size_t>(n));
  return true;
}

bool ChildProcess::wait_for_line(const std::string& line, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (output_.find(line + "\n") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || (!read_some(left) && stdout_fd_ < 0)) return false;
  }
  return true;
}

std::optional<int> ChildProcess::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      died_by_signal_ = WIFSIGNALED(status);
      while (read_some(std::chrono::milliseconds(100))) {
      }
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (Clock::now() >= deadline) {
      kill();
      ::waitpid(pid_, nullptr, 0);
      reaped_ = true;
      died_by_signal_ = true;
      return std::nullopt;
    }
    // Drain stdout so a chatty child never blocks on a full pipe.
    if (!read_some(std::chrono::milliseconds(20))) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

void ChildProcess::kill(int signal) noexcept {
  if (pid_ > 0 && !reaped_) ::kill(pid_, signal);
}

std::optional<std::string> field(const std::string& output, const std::string& key) {
  const auto at = output.rfind(key + "=");
  if (at == std::string::npos) return std::nullopt;
  const auto start = at + key.size() + 1;
  const auto end = output.find_first_of(" \n", start);
  return output.substr(start, end - start);
}

std::optional<unsigned long long> number_field(const std::string& output, const std::string& key) {
  auto v = field(output, key);
  if (!v) return std::nullopt;
  return std::strtoull(v->c_str(), nullptr, 10);
}

std::string peer_binary() {
  const char* p = std::getenv("SLUICE_TEST_PEER");
  if (!p) throw std::runtime_error("SLUICE_TEST_PEER is not set (run through meson test)");
  return p;
}

std::string unique_name(const std::string& stem) {
  static std::atomic<int> counter{0};
  return stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
}

}  // namespace sluice::test
