#include "rc_loopback.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <thread>

namespace sluice::test {
namespace {

using Clock = std::chrono::steady_clock;

// Queue depths: tests keep at most a handful of requests in flight.
constexpr int cq_depth = 64;
constexpr std::uint32_t queue_depth = 32;

[[noreturn]] void fail(const std::string& call, int error = errno) {
  throw std::runtime_error(call + " failed: " + std::strerror(error) + " (errno " +
                           std::to_string(error) + ")");
}

sockaddr_in ipv4(const std::string& address, std::uint16_t port_network_order) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = port_network_order;
  if (inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1)
    throw std::runtime_error("not an IPv4 address: '" + address + "'");
  return sa;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

}  // namespace

std::uint64_t Endpoint::remote_address(std::size_t offset) const {
  return reinterpret_cast<std::uint64_t>(buffer.data() + offset);
}

RcLoopback::RcLoopback(RcLoopbackOptions options) : options_(std::move(options)) {
  if (options_.listen_address.empty()) options_.listen_address = options_.address;
  try {
    connect();
  } catch (...) {
    close();
    throw;
  }
}

RcLoopback::~RcLoopback() {
  disconnect();
  close();
}

void RcLoopback::connect() {
  channel_ = rdma_create_event_channel();
  if (channel_ == nullptr) fail("rdma_create_event_channel");
  // Non-blocking, so next_event() can bound its wait with poll().
  int flags = fcntl(channel_->fd, F_GETFL);
  if (flags < 0 || fcntl(channel_->fd, F_SETFL, flags | O_NONBLOCK) < 0) fail("fcntl(O_NONBLOCK)");
  listen();
  resolve_client();
  open_endpoint(client_, client_.id);
  rdma_conn_param param = connection_parameters();
  if (rdma_connect(client_.id, &param) != 0) fail("rdma_connect to " + options_.listen_address);
  CmEvent request = expect_event(RDMA_CM_EVENT_CONNECT_REQUEST);
  accept(request.id);
  await_established();
}

void RcLoopback::listen() {
  if (rdma_create_id(channel_, &listener_, nullptr, RDMA_PS_TCP) != 0) fail("rdma_create_id");
  // Port 0: the kernel picks a free one, so parallel test binaries never collide.
  sockaddr_in local = ipv4(options_.listen_address, 0);
  if (rdma_bind_addr(listener_, reinterpret_cast<sockaddr*>(&local)) != 0)
    fail("rdma_bind_addr " + options_.listen_address + " (is an RDMA device on it?)");
  if (rdma_listen(listener_, 1) != 0) fail("rdma_listen");
}

void RcLoopback::resolve_client() {
  if (rdma_create_id(channel_, &client_.id, nullptr, RDMA_PS_TCP) != 0) fail("rdma_create_id");
  // The source address picks the client's device when two are in play.
  sockaddr_in local = ipv4(options_.address, 0);
  sockaddr_in remote = ipv4(options_.listen_address, rdma_get_src_port(listener_));
  const int timeout_ms = static_cast<int>(options_.step_timeout.count());
  if (rdma_resolve_addr(client_.id, reinterpret_cast<sockaddr*>(&local),
                        reinterpret_cast<sockaddr*>(&remote), timeout_ms) != 0)
    fail("rdma_resolve_addr " + options_.address + " -> " + options_.listen_address);
  expect_event(RDMA_CM_EVENT_ADDR_RESOLVED);
  if (rdma_resolve_route(client_.id, timeout_ms) != 0) fail("rdma_resolve_route");
  expect_event(RDMA_CM_EVENT_ROUTE_RESOLVED);
}

void RcLoopback::accept(rdma_cm_id* id) {
  open_endpoint(server_, id);
  rdma_conn_param param = connection_parameters();
  if (rdma_accept(server_.id, &param) != 0) fail("rdma_accept");
}

// Both sides report ESTABLISHED, in no promised order.
void RcLoopback::await_established() {
  bool client_up = false;
  bool server_up = false;
  while (!client_up || !server_up) {
    CmEvent event = next_event("ESTABLISHED");
    if (event.type != RDMA_CM_EVENT_ESTABLISHED)
      throw std::runtime_error(std::string("expected ESTABLISHED, got ") +
                               rdma_event_str(event.type) + " status " +
                               std::to_string(event.status));
    client_up = client_up || event.id == client_.id;
    server_up = server_up || event.id == server_.id;
  }
}

void RcLoopback::open_endpoint(Endpoint& side, rdma_cm_id* id) {
  side.id = id;
  side.pd = ibv_alloc_pd(id->verbs);
  if (side.pd == nullptr) fail("ibv_alloc_pd");
  side.cq = ibv_create_cq(id->verbs, cq_depth, nullptr, nullptr, 0);
  if (side.cq == nullptr) fail("ibv_create_cq");
  side.buffer.assign(options_.buffer_bytes, std::byte{0});
  constexpr int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ;
  side.mr = ibv_reg_mr(side.pd, side.buffer.data(), side.buffer.size(), access);
  if (side.mr == nullptr) fail("ibv_reg_mr of " + std::to_string(side.buffer.size()) + " bytes");
  ibv_qp_init_attr attr{};
  attr.send_cq = side.cq;
  attr.recv_cq = side.cq;
  attr.qp_type = IBV_QPT_RC;
  attr.cap.max_send_wr = queue_depth;
  attr.cap.max_recv_wr = queue_depth;
  attr.cap.max_send_sge = 1;
  attr.cap.max_recv_sge = 1;
  if (rdma_create_qp(id, side.pd, &attr) != 0) fail("rdma_create_qp");
  set_ack_timeout(id);
}

// rdma_cm applies this when it moves the QP to RTS; see RcLoopbackOptions::ack_timeout.
void RcLoopback::set_ack_timeout(rdma_cm_id* id) {
  std::uint8_t timeout = options_.ack_timeout;
  if (rdma_set_option(id, RDMA_OPTION_ID, RDMA_OPTION_ID_ACK_TIMEOUT, &timeout, sizeof timeout) != 0)
    fail("rdma_set_option(ACK_TIMEOUT)");
}

rdma_conn_param RcLoopback::connection_parameters() const {
  rdma_conn_param param{};
  // One outstanding RDMA READ each way is all the tests need.
  param.responder_resources = 1;
  param.initiator_depth = 1;
  param.retry_count = options_.retry_count;
  param.rnr_retry_count = options_.rnr_retry_count;
  return param;
}

RcLoopback::CmEvent RcLoopback::next_event(const char* awaited) {
  const auto deadline = Clock::now() + options_.step_timeout;
  for (;;) {
    rdma_cm_event* event = nullptr;
    if (rdma_get_cm_event(channel_, &event) == 0) {
      CmEvent copy{event->event, event->id, event->status};
      rdma_ack_cm_event(event);
      return copy;
    }
    if (errno != EAGAIN) fail("rdma_get_cm_event");
    pollfd pfd{channel_->fd, POLLIN, 0};
    int ready = ::poll(&pfd, 1, remaining_ms(deadline));
    if (ready < 0 && errno != EINTR) fail("poll(rdma_cm channel)");
    if (ready == 0)
      throw std::runtime_error(std::string("no rdma_cm event within ") +
                               std::to_string(options_.step_timeout.count()) + " ms, awaiting " +
                               awaited);
  }
}

RcLoopback::CmEvent RcLoopback::expect_event(rdma_cm_event_type type) {
  CmEvent event = next_event(rdma_event_str(type));
  if (event.type != type)
    throw std::runtime_error(std::string("expected ") + rdma_event_str(type) + ", got " +
                             rdma_event_str(event.type) + " status " +
                             std::to_string(event.status));
  return event;
}

int RcLoopback::post_send(Endpoint& from, ibv_wr_opcode opcode, std::size_t local_offset,
                          std::size_t length, const Endpoint& to, std::size_t remote_offset,
                          std::uint32_t immediate) {
  return post_send_to_address(from, opcode, local_offset, length, to.remote_address(remote_offset),
                              to.mr->rkey, immediate);
}

int RcLoopback::post_send_to_address(Endpoint& from, ibv_wr_opcode opcode,
                                     std::size_t local_offset, std::size_t length,
                                     std::uint64_t remote_address, std::uint32_t rkey,
                                     std::uint32_t immediate) {
  ibv_sge sge{};
  sge.addr = from.remote_address(local_offset);
  sge.length = static_cast<std::uint32_t>(length);
  sge.lkey = from.mr->lkey;
  ibv_send_wr wr{};
  wr.wr_id = next_wr_id_++;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  wr.opcode = opcode;
  wr.send_flags = IBV_SEND_SIGNALED;
  wr.imm_data = htonl(immediate);
  wr.wr.rdma.remote_addr = remote_address;
  wr.wr.rdma.rkey = rkey;
  ibv_send_wr* bad = nullptr;
  return ibv_post_send(from.qp(), &wr, &bad);
}

int RcLoopback::post_recv(Endpoint& on, std::size_t offset, std::size_t length) {
  ibv_sge sge{};
  sge.addr = on.remote_address(offset);
  sge.length = static_cast<std::uint32_t>(length);
  sge.lkey = on.mr->lkey;
  ibv_recv_wr wr{};
  wr.wr_id = next_wr_id_++;
  wr.sg_list = &sge;
  wr.num_sge = 1;
  ibv_recv_wr* bad = nullptr;
  return ibv_post_recv(on.qp(), &wr, &bad);
}

// Busy-polls (with yield: the rxe kernel threads need the vCPU too) until a
// completion arrives or step_timeout passes.
std::optional<ibv_wc> RcLoopback::wait_completion(Endpoint& on) {
  const auto deadline = Clock::now() + options_.step_timeout;
  ibv_wc wc{};
  for (;;) {
    int n = ibv_poll_cq(on.cq, 1, &wc);
    if (n < 0) fail("ibv_poll_cq", -n);
    if (n == 1) return wc;
    if (Clock::now() > deadline) return std::nullopt;
    std::this_thread::yield();
  }
}

// Best effort, bounded: a test may leave the QP in the error state.
// The client's DREQ makes the server report DISCONNECTED; the client only
// reports it once the server answers with its own rdma_disconnect (the DREP),
// otherwise it waits for the CM's DREQ timeout.
void RcLoopback::disconnect() {
  if (client_.id == nullptr || client_.id->qp == nullptr || server_.id == nullptr) return;
  if (rdma_disconnect(client_.id) != 0) return;
  bool client_down = false;
  bool server_down = false;
  try {
    while (!client_down || !server_down) {
      CmEvent event = next_event("DISCONNECTED");
      if (event.type != RDMA_CM_EVENT_DISCONNECTED) continue;
      if (event.id == server_.id && !server_down) {
        server_down = true;
        rdma_disconnect(server_.id);
      }
      client_down = client_down || event.id == client_.id;
    }
  } catch (const std::runtime_error&) {
    // Timed out: tear down anyway, destroying the ids completes the disconnect.
  }
}

void RcLoopback::close_endpoint(Endpoint& side) {
  if (side.id != nullptr && side.id->qp != nullptr) rdma_destroy_qp(side.id);
  if (side.mr != nullptr) ibv_dereg_mr(side.mr);
  if (side.cq != nullptr) ibv_destroy_cq(side.cq);
  if (side.pd != nullptr) ibv_dealloc_pd(side.pd);
  if (side.id != nullptr) rdma_destroy_id(side.id);
  side = Endpoint{};
}

void RcLoopback::close() {
  close_endpoint(client_);
  close_endpoint(server_);
  if (listener_ != nullptr) rdma_destroy_id(listener_);
  listener_ = nullptr;
  if (channel_ != nullptr) rdma_destroy_event_channel(channel_);
  channel_ = nullptr;
}

std::optional<std::size_t> first_difference(std::span<const std::byte> a,
                                            std::span<const std::byte> b) {
  auto [ia, ib] = std::ranges::mismatch(a, b);
  if (ia == a.end() && ib == b.end()) return std::nullopt;
  return static_cast<std::size_t>(ia - a.begin());
}

void fill_pattern(std::span<std::byte> bytes, std::uint8_t seed) {
  for (std::size_t i = 0; i < bytes.size(); ++i)
    bytes[i] = static_cast<std::byte>((i % 251 + seed * 37u) & 0xffu);
}

}  // namespace sluice::test
