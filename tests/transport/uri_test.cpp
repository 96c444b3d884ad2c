#include "transport/uri.hpp"

#include <gtest/gtest.h>

#include "transport/errors.hpp"

namespace sluice {
namespace {

TEST(Uri, BareNameTakesDefaults) {
  const auto u = Uri::parse("shm:orders");
  EXPECT_EQ(u.shm.name, "orders");
  EXPECT_FALSE(u.shm.kind);
  EXPECT_EQ(u.shm.wait, shm::WaitKind::Spin);
  EXPECT_EQ(u.shm.mode, 0600u);
}

TEST(Uri, EveryParameterIsParsed) {
  const auto u = Uri::parse(
      "shm:md.feed-1?kind=broadcast&capacity=4m&max_frame=64k&max_message=256k&wait=block"
      "&file=/tmp/x.j&mode=0640&stream=7&start=earliest");
  EXPECT_EQ(u.shm.kind, shm::RingKind::Broadcast);
  EXPECT_EQ(u.shm.capacity_bytes, 4u << 20);
  EXPECT_EQ(u.shm.max_frame_bytes, 64u << 10);
  EXPECT_EQ(u.shm.max_message_bytes, 256u << 10);
  EXPECT_EQ(u.shm.wait, shm::WaitKind::Block);
  EXPECT_EQ(u.shm.file, "/tmp/x.j");
  EXPECT_EQ(u.shm.mode, 0640u);
  EXPECT_EQ(u.shm.stream_id, 7u);
  EXPECT_EQ(u.shm.start, queue::ReaderStart::Earliest);
}

struct BadUri {
  const char* uri;
  const char* names;  // the error must mention this
};

class RejectedUri : public ::testing::TestWithParam<BadUri> {};

TEST_P(RejectedUri, IsASetupErrorNamingTheProblem) {
  try {
    (void)Uri::parse(GetParam().uri);
    FAIL() << "accepted " << GetParam().uri;
  } catch (const SetupError& e) {
    EXPECT_NE(std::string(e.what()).find(GetParam().names), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shm, RejectedUri,
    ::testing::Values(BadUri{"orders", "no scheme"}, BadUri{"tcp:orders", "'tcp'"},
                      BadUri{"shm:", "1 to 200"}, BadUri{"shm:a/b", "'/'"},
                      BadUri{"shm:x?colour=red", "'colour'"}, BadUri{"shm:x?kind=fifo", "spsc|mpsc|broadcast"},
                      BadUri{"shm:x?capacity=lots", "capacity=lots"}, BadUri{"shm:x?capacity=", "capacity="},
                      BadUri{"shm:x?capacity=99999999g", "capacity"}, BadUri{"shm:x?wait=sleep", "spin|yield|block"},
                      BadUri{"shm:x?mode=0400", "mode"}, BadUri{"shm:x?mode=9", "mode=9"},
                      BadUri{"shm:x?stream=-1", "stream=-1"}, BadUri{"shm:x?kind", "key=value"},
                      BadUri{"shm:x?=spsc", "key=value"}, BadUri{"shm:x?file=", "file="},
                      BadUri{"shm:x?kind=spsc&capacity=1m&kind=broadcast", "'kind' is given twice"},
                      BadUri{"shm:x?capacity=1m&", "'' is not key=value"},
                      BadUri{"shm:x?&capacity=1m", "'' is not key=value"},
                      BadUri{"shm:x?", "'' is not key=value"},
                      BadUri{"shm:x?max_message=0", "max_message=0"},
                      BadUri{"shm:counters-42", "reserved for counters"},
                      BadUri{"shm:x?kind=spsc&start=earliest", "start= applies to broadcast"},
                      BadUri{"shm:x?start=0&kind=mpsc", "not kind=mpsc"}));

TEST(Uri, StartTakesAStreamPosition) {
  const auto u = Uri::parse("shm:x?kind=broadcast&start=4096");
  EXPECT_EQ(u.shm.start_position, 4096u);
}

// Only a broadcast ring replays: a subscriber that says where to start may
// create the channel before its publisher, and must create that kind.
TEST(Uri, StartImpliesABroadcastChannel) {
  EXPECT_EQ(Uri::parse("shm:x?start=live").shm.kind, shm::RingKind::Broadcast);
  EXPECT_EQ(Uri::parse("shm:x?start=64").shm.kind, shm::RingKind::Broadcast);
  EXPECT_FALSE(Uri::parse("shm:x").shm.start);
}

TEST(Uri, SizesTakeBinarySuffixes) {
  EXPECT_EQ(parse_size("4096", "s"), 4096u);
  EXPECT_EQ(parse_size("64k", "s"), 65536u);
  EXPECT_EQ(parse_size("1M", "s"), 1u << 20);
  EXPECT_EQ(parse_size("2g", "s"), 2ull << 30);
}

}  // namespace
}  // namespace sluice
