// Supervisor: the thread that ends the tool cleanly whatever happens.
//
// Every measuring loop blocks or spins in a transport with no timeout (a
// timeout check per message would cost the fastest rows). Instead this
// thread watches, a few times a second:
//  - SIGINT / SIGTERM / SIGHUP (blocked in every thread, read from a
//    signalfd here, so no async-signal-safety puzzles);
//  - the peer process through a pidfd: a peer that exits non-zero or is
//    killed ends the run at once, with the peer's own error line if it sent
//    one on the control channel;
//  - the current loop's Progress: no progress for `stall_timeout` ends it;
//  - and draws the progress bar when stderr is a terminal.
// Ending means, in this order: SIGKILL the peer by its pid and reap it,
// run the registered cleanups (unlink segments/sockets, remove the run
// directory), print ONE line "sluice-bench: error: ...", _exit(code).
// fail() does the same from the main thread, so there is exactly one place
// that prints a fatal error and exits.
//
// Construct it first thing in main(), before any other thread exists: the
// signal mask it sets is inherited by every thread created afterwards
// (libzmq's I/O threads included). A peer is spawned with the mask cleared.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "tools/bench/progress.hpp"

namespace sluice::bench {

struct SupervisorOptions {
  std::chrono::milliseconds stall_timeout{10'000};  // no progress for this long: fail
  bool progress_bar = false;                         // stderr is a terminal
};

class Supervisor {
 public:
  explicit Supervisor(SupervisorOptions options);
  ~Supervisor();
  Supervisor(const Supervisor&) = delete;
  Supervisor& operator=(const Supervisor&) = delete;

  // The peer of the current run. The supervisor never reaps a watched peer
  // unless it is ending the process; call unwatch_peer() before waitpid().
  void watch_peer(pid_t pid, int pidfd, int status_fd);
  void unwatch_peer();

  // Cleanups run (newest first) only if the process ends through fail().
  int add_cleanup(std::function<void()> action);
  void remove_cleanup(int id);

  // The loop being measured: for the bar and stall detection.
  void show_progress(Progress* progress, std::string label);
  void hide_progress();

  // If the watched peer has ended (or ends within `wait`) other than with
  // status 0, fails with its exit status or its own error line. Used when
  // the control channel closed, to report the cause rather than a symptom.
  void fail_if_peer_ended(std::chrono::milliseconds wait);

  // Ends the process: kill + reap the peer, cleanups, one line, _exit(code).
  [[noreturn]] void fail(std::string_view message, int exit_code);

 private:
  void run();
  void check_peer_locked();
  void check_progress_locked();
  void draw_bar_locked(std::uint64_t done, std::uint64_t total);
  void erase_bar_locked();
  [[noreturn]] void end_locked(std::string_view message, int exit_code);

  SupervisorOptions options_;
  int signal_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: destructor stops the thread
  std::mutex mutex_;
  pid_t peer_pid_ = -1;
  int peer_pidfd_ = -1;
  int peer_status_fd_ = -1;
  bool peer_exited_ok_ = false;
  std::map<int, std::function<void()>> cleanups_;
  int next_cleanup_id_ = 1;
  Progress* progress_ = nullptr;
  std::string label_;
  std::uint64_t last_phase_ = 0;
  std::uint64_t last_done_ = 0;
  std::chrono::steady_clock::time_point last_change_{};
  bool bar_drawn_ = false;
  std::thread thread_;
};

}  // namespace sluice::bench
