// Small socket helpers shared by the kernel-socket baselines.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace sluice::bench::baselines {

// 127.0.0.1:port.
sockaddr_in loopback_address(std::uint16_t port);
std::uint16_t bound_port(int fd);
void set_nonblocking(int fd);
// Asks for `bytes` of socket buffer; the kernel caps it at its configured
// maximum (we do not force past it: the row shows a stock system).
void request_buffer_bytes(int fd, int bytes);

// A batch of receive slots for recvmmsg: one syscall returns up to
// `slots` datagrams, handed out one by one by next().
class DatagramBatch {
 public:
  void resize(std::size_t slots, std::size_t message_bytes);
  // Fills the batch from fd. Returns the datagram count, or -1 (errno set).
  int fill(int fd, int flags) noexcept;
  bool empty() const noexcept { return next_ == count_; }
  // The next datagram (size as received).
  std::span<const std::byte> next() noexcept;

 private:
  std::vector<std::byte> storage_;
  std::vector<iovec> iov_;
  std::vector<mmsghdr> headers_;
  std::size_t message_bytes_ = 0;
  std::size_t count_ = 0;
  std::size_t next_ = 0;
};

}  // namespace sluice::bench::baselines
