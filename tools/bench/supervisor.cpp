#include "tools/bench/supervisor.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "tools/bench/peer_protocol.hpp"

namespace sluice::bench {
namespace {

constexpr int tick_ms = 200;

sigset_t handled_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

std::string describe_exit(const siginfo_t& info) {
  if (info.si_code == CLD_EXITED) return "exited with status " + std::to_string(info.si_status);
  return std::string("was killed by signal ") + sigabbrev_np(info.si_status);
}

}  // namespace

Supervisor::Supervisor(SupervisorOptions options) : options_(options) {
  const sigset_t set = handled_signals();
  // Blocked here, inherited by every later thread; delivered to signal_fd_.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // A reader that went away (| head) must not kill us mid-cleanup.
  std::signal(SIGPIPE, SIG_IGN);
  signal_fd_ = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (signal_fd_ < 0 || wake_fd_ < 0) throw std::runtime_error("supervisor: signalfd/eventfd failed");
  thread_ = std::thread([this] { run(); });
}

Supervisor::~Supervisor() {
  const std::uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // Cannot happen with an eventfd counter this small; the join below
    // would then wait one tick at most.
  }
  thread_.join();
  {
    std::lock_guard lock(mutex_);
    erase_bar_locked();
  }
  close(signal_fd_);
  close(wake_fd_);
}

void Supervisor::watch_peer(pid_t pid, int pidfd, int status_fd) {
  std::lock_guard lock(mutex_);
  peer_pid_ = pid;
  peer_pidfd_ = pidfd;
  peer_status_fd_ = status_fd;
  peer_exited_ok_ = false;
}

void Supervisor::unwatch_peer() {
  std::lock_guard lock(mutex_);
  peer_pid_ = -1;
  peer_pidfd_ = -1;
  peer_status_fd_ = -1;
}

int Supervisor::add_cleanup(std::function<void()> action) {
  std::lock_guard lock(mutex_);
  const int id = next_cleanup_id_++;
  cleanups_.emplace(id, std::move(action));
  return id;
}

void Supervisor::remove_cleanup(int id) {
  std::lock_guard lock(mutex_);
  cleanups_.erase(id);
}

void Supervisor::show_progress(Progress* progress, std::string label) {
  std::lock_guard lock(mutex_);
  progress_ = progress;
  label_ = std::move(label);
  last_phase_ = progress->phase.load(std::memory_order_relaxed);
  last_done_ = progress->done.load(std::memory_order_relaxed);
  last_change_ = std::chrono::steady_clock::now();
}

void Supervisor::hide_progress() {
  std::lock_guard lock(mutex_);
  progress_ = nullptr;
  erase_bar_locked();
}

void Supervisor::fail_if_peer_ended(std::chrono::milliseconds wait) {
  int pidfd;
  {
    std::lock_guard lock(mutex_);
    pidfd = peer_pidfd_;
  }
  if (pidfd < 0) return;
  pollfd fd{pidfd, POLLIN, 0};
  poll(&fd, 1, static_cast<int>(wait.count()));
  std::lock_guard lock(mutex_);
  check_peer_locked();
}

void Supervisor::fail(std::string_view message, int exit_code) {
  // Held until _exit: whoever fails first prints the only line.
  mutex_.lock();
  end_locked(message, exit_code);
}

void Supervisor::end_locked(std::string_view message, int exit_code) {
  erase_bar_locked();
  if (peer_pid_ > 0) {
    // Unreaped, so the pid cannot have been reused: safe to signal.
    kill(peer_pid_, SIGKILL);
    waitpid(peer_pid_, nullptr, 0);
  }
  for (auto it = cleanups_.rbegin(); it != cleanups_.rend(); ++it) {
    try {
      it->second();
    } catch (...) {
      // Best effort: the remaining cleanups still run.
    }
  }
  std::string line(message);
  std::replace(line.begin(), line.end(), '\n', ' ');  // one line, always
  std::fprintf(stderr, "sluice-bench: error: %s\n", line.c_str());
  std::fflush(stderr);
  _exit(exit_code);
}

void Supervisor::run() {
  for (;;) {
    pollfd fds[3] = {{signal_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}, {-1, POLLIN, 0}};
    {
      std::lock_guard lock(mutex_);
      if (peer_pidfd_ >= 0 && !peer_exited_ok_) fds[2].fd = peer_pidfd_;
    }
    poll(fds, 3, tick_ms);
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof info) == sizeof info) {
        const int signo = static_cast<int>(info.ssi_signo);
        std::lock_guard lock(mutex_);
        end_locked(std::string("interrupted by SIG") + sigabbrev_np(signo), 128 + signo);
      }
    }
    if (fds[1].revents & POLLIN) return;
    std::lock_guard lock(mutex_);
    check_peer_locked();
    check_progress_locked();
  }
}

void Supervisor::check_peer_locked() {
  if (peer_pidfd_ < 0 || peer_exited_ok_) return;
  siginfo_t info{};
  // WNOWAIT: look without reaping; the main thread reaps a peer that ended well.
  if (waitid(P_PID, static_cast<id_t>(peer_pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0 ||
      info.si_pid == 0) {
    return;
  }
  if (info.si_code == CLD_EXITED && info.si_status == 0) {
    peer_exited_ok_ = true;
    return;
  }
  std::string message = "peer (pid " + std::to_string(peer_pid_) + ") " + describe_exit(info);
  PeerMessage record;
  while (peer_status_fd_ >= 0 &&
         recv(peer_status_fd_, &record, sizeof record, MSG_DONTWAIT) == sizeof record) {
    if (record.magic == PeerMessage::expected_magic && record.kind == PeerMessageKind::error) {
      message = "peer: " + std::string(record.text_view());
      break;
    }
  }
  end_locked(message, 1);
}

void Supervisor::check_progress_locked() {
  if (progress_ == nullptr) return;
  const std::uint64_t total = progress_->total.load(std::memory_order_relaxed);
  const std::uint64_t done = progress_->done.load(std::memory_order_relaxed);
  const std::uint64_t phase = progress_->phase.load(std::memory_order_relaxed);
  const auto now = std::chrono::steady_clock::now();
  if (phase != last_phase_ || done != last_done_) {
    last_phase_ = phase;
    last_done_ = done;
    last_change_ = now;
  } else if (total > 0 && done < total && now - last_change_ > options_.stall_timeout) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%g", static_cast<double>(options_.stall_timeout.count()) / 1000.0);
    end_locked(std::string("no progress for ") + seconds + " s in " + label_ +
                   " (" + std::to_string(done) + "/" + std::to_string(total) +
                   "): the peer or the transport is stuck",
               1);
  }
  if (options_.progress_bar && total > 0) draw_bar_locked(done, total);
}

void Supervisor::draw_bar_locked(std::uint64_t done, std::uint64_t total) {
  constexpr int width = 30;
  const double fraction = static_cast<double>(std::min(done, total)) / static_cast<double>(total);
  const int filled = static_cast<int>(fraction * width);
  char bar[width + 1];
  for (int i = 0; i < width; ++i) bar[i] = i < filled ? '#' : '.';
  bar[width] = '\0';
  std::fprintf(stderr, "\r\033[K%s [%s] %3d%%", label_.c_str(), bar, static_cast<int>(fraction * 100));
  std::fflush(stderr);
  bar_drawn_ = true;
}

void Supervisor::erase_bar_locked() {
  if (!bar_drawn_) return;
  std::fputs("\r\033[K", stderr);
  std::fflush(stderr);
  bar_drawn_ = false;
}

}  // namespace sluice::bench
