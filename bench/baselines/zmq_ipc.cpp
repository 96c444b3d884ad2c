// zmq-ipc / zmq-ipc-spin: ZeroMQ PAIR sockets over ipc:// (a Unix socket
// underneath, driven by libzmq's I/O thread in each process).
//
// zmq-ipc blocks in zmq_send()/zmq_recv(); zmq-ipc-spin polls with
// ZMQ_DONTWAIT. Both keep libzmq's defaults (high-water mark 1000 messages,
// one I/O thread), which is how ZeroMQ is normally deployed; libzmq batches
// messages on the wire by itself. Note the I/O threads: each process has
// one besides the thread we pin, so on a 2-core machine four busy threads
// share two cores, which is part of what this row measures.
//
// The initiator binds (and owns the socket file in the run directory), the
// responder connects.
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <unistd.h>

#include "bench/baselines/baselines.hpp"
#include "bench/baselines/posix_error.hpp"

namespace sluice::bench::baselines {
namespace {

template <WaitMode Wait>
class ZmqIpc {
 public:
  ZmqIpc() = default;
  ZmqIpc(const ZmqIpc&) = delete;
  ZmqIpc& operator=(const ZmqIpc&) = delete;
  ~ZmqIpc() {
    if (socket_ != nullptr) zmq_close(socket_);
    if (context_ != nullptr) zmq_ctx_term(context_);
    if (role_ == Role::initiator) unlink_names();
  }

  std::string open(const OpenParams& p) {
    role_ = p.role;
    path_ = p.run_dir + "/" + p.name + ".zmq";
    const std::string endpoint = "ipc://" + path_;
    context_ = zmq_ctx_new();
    if (context_ == nullptr) throw_errno("zmq_ctx_new", endpoint);
    socket_ = zmq_socket(context_, ZMQ_PAIR);
    if (socket_ == nullptr) throw_errno("zmq_socket", endpoint);
    const int linger_ms = 0;  // never hang in close on unsent messages
    zmq_setsockopt(socket_, ZMQ_LINGER, &linger_ms, sizeof linger_ms);
    const int rc = p.role == Role::initiator ? zmq_bind(socket_, endpoint.c_str())
                                             : zmq_connect(socket_, endpoint.c_str());
    if (rc != 0) throw_errno(p.role == Role::initiator ? "zmq_bind" : "zmq_connect", endpoint);
    return {};
  }

  void on_peer_ready(std::string_view) {}

  bool send(std::span<const std::byte> msg) noexcept {
    for (;;) {
      const int rc = zmq_send(socket_, msg.data(), msg.size(), flags);
      if (rc >= 0) return true;
      if (errno != EAGAIN && errno != EINTR) return false;
    }
  }

  bool receive(std::span<std::byte> msg) noexcept {
    for (;;) {
      const int rc = zmq_recv(socket_, msg.data(), msg.size(), flags);
      if (rc >= 0) return static_cast<std::size_t>(rc) == msg.size();
      if (errno != EAGAIN && errno != EINTR) return false;
    }
  }

  void unlink_names() const noexcept {
    if (!path_.empty()) ::unlink(path_.c_str());
  }

 private:
  static constexpr int flags = Wait == WaitMode::spin ? ZMQ_DONTWAIT : 0;
  Role role_ = Role::initiator;
  std::string path_;
  void* context_ = nullptr;
  void* socket_ = nullptr;
};

static_assert(BenchTransport<ZmqIpc<WaitMode::spin>>);

}  // namespace

TransportInfo zmq_ipc(WaitMode wait) {
  if (wait == WaitMode::blocking) {
    return {.name = "zmq-ipc",
            .summary = "ZeroMQ PAIR over ipc://, blocking zmq_send/zmq_recv",
            .wait = WaitMode::blocking,
            .make = [](std::string_view) { return make_workload<ZmqIpc<WaitMode::blocking>>(); }};
  }
  return {.name = "zmq-ipc-spin",
          .summary = "ZeroMQ PAIR over ipc://, ZMQ_DONTWAIT busy loop",
          .wait = WaitMode::spin,
          .make = [](std::string_view) { return make_workload<ZmqIpc<WaitMode::spin>>(); }};
}

}  // namespace sluice::bench::baselines
