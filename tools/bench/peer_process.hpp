// PeerProcess: the tool's own binary started as the other end of a run.
//
// Spawned with posix_spawn (safe in a process that already has threads),
// the signal mask cleared, every descriptor above 2 closed except the
// control channel, which the peer finds at peer_status_fd. The peer asks
// for SIGKILL when the tool dies (PR_SET_PDEATHSIG, see peer_main.cpp), so
// even a SIGKILLed tool leaves no peer behind.
//
// Ownership: the object owns the pid until reap() or its destructor, which
// SIGKILLs and reaps a peer that is still there. It is always addressed by
// its own pid (never by name) and reaped, so the pid is never reused under us.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tools/bench/peer_protocol.hpp"

namespace sluice::bench {

class PeerProcess {
 public:
  // Throws std::runtime_error if the process cannot be started at all.
  PeerProcess(const std::string& executable, const std::vector<std::string>& args);
  ~PeerProcess();
  PeerProcess(const PeerProcess&) = delete;
  PeerProcess& operator=(const PeerProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return pidfd_; }
  int status_fd() const noexcept { return channel_fd_; }

  // Next control record, waiting up to `timeout`. nullopt on timeout or
  // when the peer closed the channel (exited): the supervisor reports the
  // exit itself; the caller reports a timeout.
  std::optional<PeerMessage> wait_message(std::chrono::milliseconds timeout);
  // True once the peer closed its end of the channel (it is exiting).
  bool channel_closed() const noexcept { return channel_closed_; }

  // Waits up to `grace` for the peer to exit by itself, then SIGKILLs it;
  // reaps it either way. Returns true if it exited with status 0.
  bool reap(std::chrono::milliseconds grace);

 private:
  pid_t pid_ = -1;
  int pidfd_ = -1;
  int channel_fd_ = -1;
  bool reaped_ = false;
  bool channel_closed_ = false;
};

}  // namespace sluice::bench
