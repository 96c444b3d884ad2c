// udp-loopback / udp-loopback-spin: kernel UDP datagrams over 127.0.0.1.
//
// Each side binds an ephemeral port on 127.0.0.1 and connect()s to the
// other's (the initiator's port travels in the open() hint, the responder's
// back in its own hint), so send()/recv() need no address per call.
// udp-loopback blocks in the syscalls; udp-loopback-spin uses MSG_DONTWAIT
// and retries (busy poll).
//
// Receiving: ping-pong uses recv() (one datagram in flight; recvmmsg would
// only add work); the throughput sink uses recvmmsg() with a batch of 64,
// the usual way to drain a busy UDP socket, and reads them in place
// (receive_batch). Socket buffers ask for 4 MiB (capped by
// net.core.rmem_max/wmem_max, not forced).
//
// UDP has no flow control: a sender faster than its receiver loses
// datagrams at the receiver's socket buffer. The throughput row reports
// delivered messages per second and the loss count; that loss is the real
// behaviour of raw UDP, not a bench error.
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

#include "bench/baselines/baselines.hpp"
#include "bench/baselines/posix_error.hpp"
#include "bench/baselines/socket_util.hpp"

namespace sluice::bench::baselines {
namespace {

constexpr std::size_t batch_slots = 64;
constexpr int buffer_bytes = 4 << 20;
constexpr std::size_t max_udp_payload_bytes = 65507;  // IPv4: 65535 - 20 - 8

template <WaitMode Wait>
class UdpLoopback {
 public:
  UdpLoopback() = default;
  UdpLoopback(const UdpLoopback&) = delete;
  UdpLoopback& operator=(const UdpLoopback&) = delete;
  ~UdpLoopback() {
    if (fd_ >= 0) close(fd_);
  }

  std::string open(const OpenParams& p) {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw_errno("socket", "udp");
    request_buffer_bytes(fd_, buffer_bytes);
    const sockaddr_in any_port = loopback_address(0);
    if (bind(fd_, reinterpret_cast<const sockaddr*>(&any_port), sizeof any_port) != 0) {
      throw_errno("bind", "udp 127.0.0.1:0");
    }
    if (Wait == WaitMode::spin) set_nonblocking(fd_);
    batched_ = p.throughput;
    message_bytes_ = p.message_bytes;
    if (batched_) batch_.resize(batch_slots, p.message_bytes);
    if (p.role == Role::responder) connect_to(p.peer_hint);
    return std::to_string(bound_port(fd_));
  }

  void on_peer_ready(std::string_view hint) { connect_to(hint); }

  bool send(std::span<const std::byte> msg) noexcept {
    for (;;) {
      const ssize_t n = ::send(fd_, msg.data(), msg.size(), 0);
      if (n >= 0) return true;
      // ECONNREFUSED: an ICMP port-unreachable from an earlier datagram
      // while the peer's socket was not yet connected; not fatal for UDP.
      if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) return false;
    }
  }

  bool receive(std::span<std::byte> msg) noexcept {
    if (batched_) return receive_batched(msg);
    for (;;) {
      const ssize_t n = ::recv(fd_, msg.data(), msg.size(), 0);
      if (n >= 0) return static_cast<std::size_t>(n) == msg.size();
      if (errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) return false;
    }
  }

  // Throughput sink: hands each datagram of a recvmmsg batch over in place.
  template <class F>
  long receive_batch(F&& on_message, std::size_t limit) noexcept {
    if (!batched_) {
      return -1;  // only opened for throughput runs
    }
    while (batch_.empty()) {
      const int flags = Wait == WaitMode::spin ? MSG_DONTWAIT : MSG_WAITFORONE;
      if (batch_.fill(fd_, flags) < 0 && errno != EAGAIN && errno != EINTR && errno != ECONNREFUSED) {
        return -1;
      }
    }
    long delivered = 0;
    while (!batch_.empty() && static_cast<std::size_t>(delivered) < limit) {
      const std::span<const std::byte> datagram = batch_.next();
      if (datagram.size() != message_bytes_) return -1;
      on_message(datagram);
      ++delivered;
    }
    return delivered;
  }

  void unlink_names() const noexcept {}  // ports are not names: nothing to remove

 private:
  bool receive_batched(std::span<std::byte> msg) noexcept {
    while (batch_.empty()) {
      const int flags = Wait == WaitMode::spin ? MSG_DONTWAIT : MSG_WAITFORONE;
      if (batch_.fill(fd_, flags) < 0 && errno != EAGAIN && errno != EINTR &&
          errno != ECONNREFUSED) {
        return false;
      }
    }
    const std::span<const std::byte> datagram = batch_.next();
    if (datagram.size() != msg.size()) return false;
    std::memcpy(msg.data(), datagram.data(), msg.size());
    return true;
  }

  void connect_to(std::string_view port_text) {
    std::uint16_t port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0) {
      throw std::runtime_error("udp-loopback: bad peer port '" + std::string(port_text) + "'");
    }
    const sockaddr_in peer = loopback_address(port);
    if (connect(fd_, reinterpret_cast<const sockaddr*>(&peer), sizeof peer) != 0) {
      throw_errno("connect", "udp 127.0.0.1:" + std::string(port_text));
    }
  }

  int fd_ = -1;
  bool batched_ = false;
  std::size_t message_bytes_ = 0;
  DatagramBatch batch_;
};

static_assert(BenchTransport<UdpLoopback<WaitMode::spin>>);
static_assert(BatchReceive<UdpLoopback<WaitMode::spin>>);

}  // namespace

TransportInfo udp_loopback(WaitMode wait) {
  if (wait == WaitMode::blocking) {
    return {.name = "udp-loopback",
            .summary = "kernel UDP on 127.0.0.1, blocking send/recv (recvmmsg for throughput)",
            .wait = WaitMode::blocking,
            .reliable = false,
            .max_message_bytes = max_udp_payload_bytes,
            .make = [](std::string_view) { return make_workload<UdpLoopback<WaitMode::blocking>>(); }};
  }
  return {.name = "udp-loopback-spin",
          .summary = "kernel UDP on 127.0.0.1, non-blocking busy poll",
          .wait = WaitMode::spin,
          .reliable = false,
          .max_message_bytes = max_udp_payload_bytes,
          .make = [](std::string_view) { return make_workload<UdpLoopback<WaitMode::spin>>(); }};
}

}  // namespace sluice::bench::baselines
