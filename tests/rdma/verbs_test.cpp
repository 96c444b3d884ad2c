// Verbs on a real rxe device, as a specification of what the rdma/ layer
// relies on: the device is there, memory registers, an RC QP connects to
// itself through rdma_cm, and WRITE, WRITE_WITH_IMM, SEND/RECV and READ move
// exactly the bytes asked for — no more, no fewer, nothing around them.
//
// Runs inside the soft-RoCE VM: tests/rxe/vm-run -- build/tests/rdma/test_rdma_verbs
// (the harness exports SLUICE_RXE_DEVICE, SLUICE_RXE_ADDR, SLUICE_RXE_GID_INDEX).
// With vm-run --two-devices (SLUICE_RXE_PEER_DEVICE/ADDR set) the server side
// sits on the second device, across the veth pair. Outside the VM, with no
// RDMA device, every test skips.
#include "rc_loopback.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

namespace sluice::test {
namespace {

std::string env_or(const char* name, const char* fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

const std::string device_name = env_or("SLUICE_RXE_DEVICE", "rxe0");
const std::string device_address = env_or("SLUICE_RXE_ADDR", "10.10.0.1");
const int gid_index = std::atoi(env_or("SLUICE_RXE_GID_INDEX", "1").c_str());
const std::string peer_device_name = env_or("SLUICE_RXE_PEER_DEVICE", device_name.c_str());
const std::string peer_address = env_or("SLUICE_RXE_PEER_ADDR", device_address.c_str());

bool have_rdma_device() {
  int count = 0;
  ibv_device** list = ibv_get_device_list(&count);
  if (list != nullptr) ibv_free_device_list(list);
  return count > 0;
}

// Skip only where RDMA cannot be: in the VM a missing device is a failure.
#define SKIP_WITHOUT_RDMA()                                                        \
  do {                                                                             \
    if (std::getenv("SLUICE_IN_RXE_VM") == nullptr && !have_rdma_device())         \
      GTEST_SKIP() << "no RDMA device; run it in the VM: tests/rxe/vm-run -- "     \
                      "build/tests/rdma/test_rdma_verbs";                          \
  } while (false)

// An open device context, released on scope exit.
struct DeviceContext {
  ibv_context* context = nullptr;
  explicit DeviceContext(const std::string& name) {
    int count = 0;
    ibv_device** list = ibv_get_device_list(&count);
    for (int i = 0; list != nullptr && i < count; ++i)
      if (name == ibv_get_device_name(list[i])) context = ibv_open_device(list[i]);
    if (list != nullptr) ibv_free_device_list(list);
  }
  ~DeviceContext() {
    if (context != nullptr) ibv_close_device(context);
  }
};

TEST(RxeDevice, HasAnActiveEthernetPortWithARoceV2GidForItsIpv4Address) {
  SKIP_WITHOUT_RDMA();
  DeviceContext device(device_name);
  ASSERT_NE(device.context, nullptr) << "no device named " << device_name;

  ibv_port_attr port{};
  ASSERT_EQ(ibv_query_port(device.context, 1, &port), 0);
  EXPECT_EQ(port.state, IBV_PORT_ACTIVE);
  EXPECT_EQ(port.link_layer, IBV_LINK_LAYER_ETHERNET);

  ibv_gid_entry gid{};
  ASSERT_EQ(ibv_query_gid_ex(device.context, 1, static_cast<std::uint32_t>(gid_index), &gid, 0), 0);
  EXPECT_EQ(gid.gid_type, IBV_GID_TYPE_ROCE_V2);
  in_addr expected{};
  ASSERT_EQ(inet_pton(AF_INET, device_address.c_str(), &expected), 1);
  // An IPv4 GID is the IPv4-mapped IPv6 address ::ffff:a.b.c.d.
  EXPECT_EQ(std::memcmp(gid.gid.raw + 12, &expected, 4), 0) << "GID index " << gid_index;
}

TEST(RxeDevice, RegistersMemoryForRemoteReadAndWrite) {
  SKIP_WITHOUT_RDMA();
  DeviceContext device(device_name);
  ASSERT_NE(device.context, nullptr) << "no device named " << device_name;
  ibv_pd* pd = ibv_alloc_pd(device.context);
  ASSERT_NE(pd, nullptr);
  std::vector<std::byte> buffer(64 * 1024);
  ibv_mr* mr = ibv_reg_mr(pd, buffer.data(), buffer.size(),
                          IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_WRITE | IBV_ACCESS_REMOTE_READ);
  ASSERT_NE(mr, nullptr) << std::strerror(errno);
  EXPECT_EQ(mr->addr, buffer.data());
  EXPECT_EQ(mr->length, buffer.size());
  EXPECT_EQ(ibv_dereg_mr(mr), 0);
  EXPECT_EQ(ibv_dealloc_pd(pd), 0);
}

class RcLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_RDMA();
    RcLoopbackOptions options;
    options.address = device_address;
    options.listen_address = peer_address;
    loop_ = std::make_unique<RcLoopback>(options);
    fill_pattern(client().bytes(), 1);
    fill_pattern(server().bytes(), 2);
  }

  RcLoopback& loop() { return *loop_; }
  Endpoint& client() { return loop_->client(); }
  Endpoint& server() { return loop_->server(); }

  // The next completion on `side`, which must be a success of `opcode`.
  ibv_wc expect_success(Endpoint& side, ibv_wc_opcode opcode) {
    std::optional<ibv_wc> wc = loop().wait_completion(side);
    EXPECT_TRUE(wc.has_value()) << "no completion within the step timeout";
    if (!wc) return ibv_wc{};
    EXPECT_EQ(wc->status, IBV_WC_SUCCESS) << ibv_wc_status_str(wc->status);
    EXPECT_EQ(wc->opcode, opcode);
    return *wc;
  }

  std::unique_ptr<RcLoopback> loop_;
};

TEST_F(RcLoopbackTest, ConnectsBothSidesOnTheirRxeDevicesInReadyToSend) {
  EXPECT_EQ(ibv_get_device_name(client().id->verbs->device), device_name);
  EXPECT_EQ(ibv_get_device_name(server().id->verbs->device), peer_device_name);
  for (Endpoint* side : {&client(), &server()}) {
    ibv_qp_attr attr{};
    ibv_qp_init_attr init{};
    ASSERT_EQ(ibv_query_qp(side->qp(), &attr, IBV_QP_STATE | IBV_QP_TIMEOUT, &init), 0);
    EXPECT_EQ(attr.qp_state, IBV_QPS_RTS);
    EXPECT_EQ(init.qp_type, IBV_QPT_RC);
  }
  ibv_qp_attr attr{};
  ibv_qp_init_attr init{};
  ASSERT_EQ(ibv_query_qp(client().qp(), &attr, IBV_QP_TIMEOUT | IBV_QP_RETRY_CNT, &init), 0);
  EXPECT_EQ(attr.timeout, loop().options().ack_timeout);
  EXPECT_EQ(attr.retry_cnt, loop().options().retry_count);
}

TEST_F(RcLoopbackTest, RdmaWriteOutsideTheRemoteRegionFailsWithRemoteAccessError) {
  const std::size_t end = server().buffer.size();
  ASSERT_EQ(loop().post_send_to_address(client(), IBV_WR_RDMA_WRITE, 0, 64,
                                        server().remote_address(end - 32), server().mr->rkey),
            0);
  std::optional<ibv_wc> wc = loop().wait_completion(client());
  ASSERT_TRUE(wc.has_value()) << "no completion within the step timeout";
  EXPECT_EQ(wc->status, IBV_WC_REM_ACCESS_ERR) << ibv_wc_status_str(wc->status);
}

// The same four operations at sizes around the interesting boundaries:
// 1 byte, a cache line, rxe's 512 B max inline, its 1024 B path MTU, a page,
// and a many-packet message that does not end on a packet boundary.
class RcTransferTest : public RcLoopbackTest,
                       public ::testing::WithParamInterface<std::size_t> {
 protected:
  // Odd offsets on both sides: nothing may depend on alignment.
  static constexpr std::size_t local_offset = 3;
  static constexpr std::size_t remote_offset = 4099;

  std::size_t size() const { return GetParam(); }

  // `to` must equal `from` in [to_offset, +size) and still hold its own
  // pattern everywhere else.
  void expect_exactly_copied(Endpoint& from, std::size_t from_offset, Endpoint& to,
                             std::size_t to_offset, std::uint8_t to_seed) {
    std::span<std::byte> dst = to.bytes();
    std::span<std::byte> src = from.bytes();
    EXPECT_EQ(first_difference(dst.subspan(to_offset, size()), src.subspan(from_offset, size())),
              std::nullopt)
        << "copied range differs";
    std::vector<std::byte> untouched(dst.size());
    fill_pattern(untouched, to_seed);
    EXPECT_EQ(first_difference(dst.first(to_offset), std::span(untouched).first(to_offset)),
              std::nullopt)
        << "bytes before the range changed";
    const std::size_t end = to_offset + size();
    EXPECT_EQ(first_difference(dst.subspan(end), std::span(untouched).subspan(end)), std::nullopt)
        << "bytes after the range changed";
  }
};

TEST_P(RcTransferTest, RdmaWriteChangesExactlyTheBytesAskedFor) {
  ASSERT_EQ(loop().post_send(client(), IBV_WR_RDMA_WRITE, local_offset, size(), server(),
                             remote_offset),
            0);
  ibv_wc wc = expect_success(client(), IBV_WC_RDMA_WRITE);
  EXPECT_EQ(wc.wr_id, 1u);
  expect_exactly_copied(client(), local_offset, server(), remote_offset, 2);
}

TEST_P(RcTransferTest, RdmaWriteWithImmediateDeliversTheBytesThenTheImmediate) {
  constexpr std::uint32_t immediate = 0x5e1ce001;
  // WRITE_WITH_IMM consumes a receive; its buffer stays untouched.
  ASSERT_EQ(loop().post_recv(server(), 0, 0), 0);
  ASSERT_EQ(loop().post_send(client(), IBV_WR_RDMA_WRITE_WITH_IMM, local_offset, size(), server(),
                             remote_offset, immediate),
            0);
  expect_success(client(), IBV_WC_RDMA_WRITE);
  ibv_wc wc = expect_success(server(), IBV_WC_RECV_RDMA_WITH_IMM);
  EXPECT_TRUE(wc.wc_flags & IBV_WC_WITH_IMM);
  EXPECT_EQ(ntohl(wc.imm_data), immediate);
  EXPECT_EQ(wc.byte_len, size());
  // Checked after the receive completion: that completion is what orders the data.
  expect_exactly_copied(client(), local_offset, server(), remote_offset, 2);
}

TEST_P(RcTransferTest, SendFillsExactlyTheBytesSentIntoThePostedReceive) {
  // The receive offers more room than the message needs.
  ASSERT_EQ(loop().post_recv(server(), remote_offset, size() + 4096), 0);
  ASSERT_EQ(loop().post_send(client(), IBV_WR_SEND, local_offset, size(), server(), 0), 0);
  expect_success(client(), IBV_WC_SEND);
  ibv_wc wc = expect_success(server(), IBV_WC_RECV);
  EXPECT_EQ(wc.byte_len, size());
  expect_exactly_copied(client(), local_offset, server(), remote_offset, 2);
}

TEST_P(RcTransferTest, RdmaReadFetchesExactlyTheBytesAskedFor) {
  ASSERT_EQ(loop().post_send(client(), IBV_WR_RDMA_READ, local_offset, size(), server(),
                             remote_offset),
            0);
  ibv_wc wc = expect_success(client(), IBV_WC_RDMA_READ);
  EXPECT_EQ(wc.byte_len, size());
  expect_exactly_copied(server(), remote_offset, client(), local_offset, 1);
}

INSTANTIATE_TEST_SUITE_P(Sizes, RcTransferTest,
                         ::testing::Values(1, 64, 512, 1024, 4096, 65537),
                         [](const auto& info) { return std::to_string(info.param) + "B"; });

}  // namespace
}  // namespace sluice::test
