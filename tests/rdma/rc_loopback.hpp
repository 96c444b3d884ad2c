// RcLoopback: an RC queue pair connected to itself through rdma_cm, for tests.
//
// One process plays both sides, on one rxe device or two: a listener bound to
// a device's IPv4 address and a client that resolves, connects and is accepted.
// Both run in the calling thread, driven by one rdma_cm event channel, so
// there are no threads to join and every step is bounded by
// RcLoopbackOptions::step_timeout. Each side owns its PD, CQ, QP and a
// registered buffer, as two hosts would.
//
// Set-up failures throw std::runtime_error naming the failed call and errno.
// Not thread-safe; one instance per test.
#pragma once

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace sluice::test {

struct RcLoopbackOptions {
  /// IPv4 address of the client's rxe device.
  std::string address = "10.10.0.1";
  /// IPv4 address the listener binds; empty = `address` (one device talking to
  /// itself). Another device's address connects two devices (vm-run --two-devices).
  std::string listen_address;
  /// Size of each side's registered buffer.
  std::size_t buffer_bytes = 1 << 20;
  /// Local ACK timeout, IB encoding: 4.096 us * 2^n. 14 = 67 ms per try.
  /// rdma_cm's default (19, ~2 s) makes a lost peer take 15 s to surface on rxe.
  std::uint8_t ack_timeout = 14;
  /// Transport retries before IBV_WC_RETRY_EXC_ERR. Never 7: on rxe a silent
  /// peer then never raises an error at all.
  std::uint8_t retry_count = 6;
  /// Receiver-not-ready retries (7 would mean "forever").
  std::uint8_t rnr_retry_count = 6;
  /// Upper bound on every wait: each rdma_cm event, each completion.
  std::chrono::milliseconds step_timeout{5000};
};

/// One side of the connection. Owned and released by RcLoopback.
struct Endpoint {
  rdma_cm_id* id = nullptr;
  ibv_pd* pd = nullptr;
  ibv_cq* cq = nullptr;
  ibv_mr* mr = nullptr;
  std::vector<std::byte> buffer;

  ibv_qp* qp() const { return id->qp; }
  std::span<std::byte> bytes() { return buffer; }
  /// Address of buffer[offset] as the remote side names it in a work request.
  std::uint64_t remote_address(std::size_t offset) const;
};

class RcLoopback {
 public:
  /// Listens, connects and accepts; returns once both sides are ESTABLISHED.
  explicit RcLoopback(RcLoopbackOptions options = {});
  ~RcLoopback();
  RcLoopback(const RcLoopback&) = delete;
  RcLoopback& operator=(const RcLoopback&) = delete;

  Endpoint& client() { return client_; }  ///< the active side (rdma_connect)
  Endpoint& server() { return server_; }  ///< the passive side (rdma_accept)
  const RcLoopbackOptions& options() const { return options_; }

  /// Posts one signaled send-queue work request of `length` bytes starting at
  /// `from.buffer[local_offset]`. For RDMA opcodes the target is
  /// `to.buffer[remote_offset]` (pass remote_address to aim elsewhere).
  /// Returns ibv_post_send's result (0 or an errno value).
  int post_send(Endpoint& from, ibv_wr_opcode opcode, std::size_t local_offset,
                std::size_t length, const Endpoint& to, std::size_t remote_offset,
                std::uint32_t immediate = 0);
  int post_send_to_address(Endpoint& from, ibv_wr_opcode opcode, std::size_t local_offset,
                           std::size_t length, std::uint64_t remote_address,
                           std::uint32_t rkey, std::uint32_t immediate = 0);

  /// Posts one receive of up to `length` bytes into `on.buffer[offset]`.
  int post_recv(Endpoint& on, std::size_t offset, std::size_t length);

  /// Next completion on `on`'s CQ, or nullopt after step_timeout.
  std::optional<ibv_wc> wait_completion(Endpoint& on);

 private:
  struct CmEvent {
    rdma_cm_event_type type;
    rdma_cm_id* id;
    int status;
  };

  void connect();
  void listen();
  void resolve_client();
  void accept(rdma_cm_id* id);
  void await_established();
  void open_endpoint(Endpoint& side, rdma_cm_id* id);
  void set_ack_timeout(rdma_cm_id* id);
  rdma_conn_param connection_parameters() const;
  CmEvent next_event(const char* awaited);
  CmEvent expect_event(rdma_cm_event_type type);
  void disconnect();
  void close();
  static void close_endpoint(Endpoint& side);

  RcLoopbackOptions options_;
  rdma_event_channel* channel_ = nullptr;
  rdma_cm_id* listener_ = nullptr;
  Endpoint client_;
  Endpoint server_;
  std::uint64_t next_wr_id_ = 1;
};

/// Index of the first byte where `a` and `b` differ (they have equal size), or nullopt.
std::optional<std::size_t> first_difference(std::span<const std::byte> a,
                                            std::span<const std::byte> b);

/// Fills `bytes` with a pattern that differs per seed and never repeats within 251 bytes.
void fill_pattern(std::span<std::byte> bytes, std::uint8_t seed);

}  // namespace sluice::test
