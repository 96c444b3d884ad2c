#include "bench/baselines/socket_util.hpp"

#include <arpa/inet.h>
#include <fcntl.h>

#include "bench/baselines/posix_error.hpp"

namespace sluice::bench::baselines {

sockaddr_in loopback_address(std::uint16_t port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return addr;
}

std::uint16_t bound_port(int fd) {
  sockaddr_in addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw_errno("getsockname", "udp socket");
  }
  return ntohs(addr.sin_port);
}

void set_nonblocking(int fd) {
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl", "O_NONBLOCK");
}

void request_buffer_bytes(int fd, int bytes) {
  // Best effort by design: a smaller granted size is the system's choice.
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
}

void DatagramBatch::resize(std::size_t slots, std::size_t message_bytes) {
  message_bytes_ = message_bytes;
  storage_.assign(slots * message_bytes, std::byte{0});
  iov_.resize(slots);
  headers_.assign(slots, mmsghdr{});
  for (std::size_t i = 0; i < slots; ++i) {
    iov_[i] = {storage_.data() + i * message_bytes, message_bytes};
    headers_[i].msg_hdr.msg_iov = &iov_[i];
    headers_[i].msg_hdr.msg_iovlen = 1;
  }
  count_ = next_ = 0;
}

int DatagramBatch::fill(int fd, int flags) noexcept {
  const int n = recvmmsg(fd, headers_.data(), static_cast<unsigned>(headers_.size()), flags, nullptr);
  count_ = n > 0 ? static_cast<std::size_t>(n) : 0;
  next_ = 0;
  return n;
}

std::span<const std::byte> DatagramBatch::next() noexcept {
  const std::size_t i = next_++;
  return {storage_.data() + i * message_bytes_, headers_[i].msg_len};
}

}  // namespace sluice::bench::baselines
