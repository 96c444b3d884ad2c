#include "tools/bench/peer_process.hpp"

#include <poll.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <stdexcept>

extern char** environ;

namespace sluice::bench {
namespace {

int open_pidfd(pid_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
}

std::runtime_error spawn_error(const std::string& what, int err) {
  return std::runtime_error("cannot start peer: " + what + ": " + std::strerror(err));
}

}  // namespace

PeerProcess::PeerProcess(const std::string& executable, const std::vector<std::string>& args) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    throw spawn_error("socketpair", errno);
  }
  channel_fd_ = pair[0];

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears FD_CLOEXEC on the copy; everything else above 3 is closed.
  posix_spawn_file_actions_adddup2(&actions, pair[1], peer_status_fd);
  posix_spawn_file_actions_addclosefrom_np(&actions, peer_status_fd + 1);

  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGHUP);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(executable.c_str()));
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const int rc = posix_spawn(&pid_, executable.c_str(), &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(pair[1]);
  if (rc != 0) {
    close(channel_fd_);
    throw spawn_error(executable, rc);
  }
  pidfd_ = open_pidfd(pid_);
  if (pidfd_ < 0) {
    const int err = errno;
    reap(std::chrono::milliseconds(0));
    throw spawn_error("pidfd_open", err);
  }
}

PeerProcess::~PeerProcess() {
  if (!reaped_) reap(std::chrono::milliseconds(0));
  if (pidfd_ >= 0) close(pidfd_);
  if (channel_fd_ >= 0) close(channel_fd_);
}

std::optional<PeerMessage> PeerProcess::wait_message(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    // Rounded up: truncated, a 1 ms wait became poll(0) after the first
    // microsecond, and the lossy end-marker loop (bench_runner.cpp) sent
    // markers back to back instead of one per millisecond.
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() < 0) return std::nullopt;
    pollfd fd{channel_fd_, POLLIN, 0};
    const int ready = poll(&fd, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return std::nullopt;
    PeerMessage message;
    const ssize_t n = recv(channel_fd_, &message, sizeof message, MSG_DONTWAIT);
    if (n == sizeof message && message.magic == PeerMessage::expected_magic) return message;
    if (n == 0) {  // peer closed its end: it is exiting
      channel_closed_ = true;
      return std::nullopt;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n < 0) return std::nullopt;
    // A record of the wrong size or magic: ignore it (never from our peer).
  }
}

bool PeerProcess::reap(std::chrono::milliseconds grace) {
  if (reaped_) return false;
  pollfd fd{pidfd_, POLLIN, 0};
  if (pidfd_ < 0 || poll(&fd, 1, static_cast<int>(grace.count())) <= 0) {
    kill(pid_, SIGKILL);  // still running after the grace period
  }
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  reaped_ = true;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace sluice::bench
