// unix-socket / unix-socket-spin: a connected SOCK_STREAM Unix-domain
// socket, the most common local IPC a service would reach for.
//
// A stream has no message boundaries, so messages are framed by their fixed
// size: the sender writes each message whole (looping over partial writes);
// the receiver reads into a 64 KiB buffer and hands messages out of it, so
// one recv() drains every message that has arrived (the usual buffered
// reader; it matters for throughput, and costs nothing in ping-pong).
// unix-socket blocks in send()/recv(); unix-socket-spin makes the socket
// non-blocking and retries on EAGAIN (busy poll).
//
// The initiator binds and listens on a socket file in the run directory and
// accepts once the responder reported it connected.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "bench/baselines/baselines.hpp"
#include "bench/baselines/posix_error.hpp"
#include "bench/baselines/socket_util.hpp"

namespace sluice::bench::baselines {
namespace {

constexpr std::size_t read_buffer_bytes = 64 << 10;

template <WaitMode Wait>
class UnixSocket {
 public:
  UnixSocket() = default;
  UnixSocket(const UnixSocket&) = delete;
  UnixSocket& operator=(const UnixSocket&) = delete;
  ~UnixSocket() {
    if (fd_ >= 0) close(fd_);
    if (listen_fd_ >= 0) close(listen_fd_);
    if (role_ == Role::initiator) unlink_names();
  }

  std::string open(const OpenParams& p) {
    role_ = p.role;
    path_ = p.run_dir + "/" + p.name + ".sock";
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (path_.size() >= sizeof addr.sun_path) {
      throw std::runtime_error("unix-socket: path too long: " + path_);
    }
    std::memcpy(addr.sun_path, path_.c_str(), path_.size() + 1);
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw_errno("socket", "AF_UNIX");
    const auto* sa = reinterpret_cast<const sockaddr*>(&addr);
    if (p.role == Role::initiator) {
      listen_fd_ = fd;
      if (bind(fd, sa, sizeof addr) != 0) throw_errno("bind", path_);
      if (listen(fd, 1) != 0) throw_errno("listen", path_);
    } else {
      fd_ = fd;
      if (connect(fd, sa, sizeof addr) != 0) throw_errno("connect", path_);
      ready_connection();
    }
    buffer_.assign(std::max(read_buffer_bytes, p.message_bytes), std::byte{0});
    return {};
  }

  void on_peer_ready(std::string_view) {
    fd_ = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd_ < 0) throw_errno("accept", path_);
    ready_connection();
  }

  bool send(std::span<const std::byte> msg) noexcept {
    std::size_t sent = 0;
    while (sent < msg.size()) {
      const ssize_t n = ::send(fd_, msg.data() + sent, msg.size() - sent, MSG_NOSIGNAL);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
      } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
        return false;
      }
    }
    return true;
  }

  bool receive(std::span<std::byte> msg) noexcept {
    while (end_ - begin_ < msg.size()) {
      if (begin_ > 0) {  // keep the partial message at the front
        std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
        end_ -= begin_;
        begin_ = 0;
      }
      const ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (n > 0) {
        end_ += static_cast<std::size_t>(n);
      } else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
        return false;  // peer closed or a real error
      }
    }
    std::memcpy(msg.data(), buffer_.data() + begin_, msg.size());
    begin_ += msg.size();
    if (begin_ == end_) begin_ = end_ = 0;
    return true;
  }

  void unlink_names() const noexcept {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  void ready_connection() {
    if (Wait == WaitMode::spin) set_nonblocking(fd_);
  }

  Role role_ = Role::initiator;
  std::string path_;
  int listen_fd_ = -1;
  int fd_ = -1;
  std::vector<std::byte> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

static_assert(BenchTransport<UnixSocket<WaitMode::spin>>);

}  // namespace

TransportInfo unix_socket(WaitMode wait) {
  if (wait == WaitMode::blocking) {
    return {.name = "unix-socket",
            .summary = "Unix-domain SOCK_STREAM socket, blocking send/recv, buffered reads",
            .wait = WaitMode::blocking,
            .make = [](std::string_view) { return make_workload<UnixSocket<WaitMode::blocking>>(); }};
  }
  return {.name = "unix-socket-spin",
          .summary = "Unix-domain SOCK_STREAM socket, non-blocking busy poll",
          .wait = WaitMode::spin,
          .make = [](std::string_view) { return make_workload<UnixSocket<WaitMode::spin>>(); }};
}

}  // namespace sluice::bench::baselines
