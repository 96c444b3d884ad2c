// Control tables arrive from the network: only verified buffers are read.
#include <flatbuffers/flatbuffers.h>
#include <gtest/gtest.h>

#include <random>

#include "schema/sluice_generated.h"

namespace sluice::schema {
namespace {

flatbuffers::DetachedBuffer build_nak() {
  flatbuffers::FlatBufferBuilder b;
  auto nak = CreateNak(b, 7, 9, 100, 5);
  b.Finish(CreateControlMessage(b, ControlBody::Nak, nak.Union()));
  return b.Release();
}

bool verifies(const std::uint8_t* data, std::size_t size) {
  flatbuffers::Verifier v(data, size);
  return VerifyControlMessageBuffer(v);
}

TEST(ControlMessage, WellFormedNakVerifiesAndReadsBack) {
  auto buf = build_nak();
  ASSERT_TRUE(verifies(buf.data(), buf.size()));
  const auto* msg = GetControlMessage(buf.data());
  ASSERT_EQ(msg->body_type(), ControlBody::Nak);
  EXPECT_EQ(msg->body_as_Nak()->first_seq(), 100u);
  EXPECT_EQ(msg->body_as_Nak()->count(), 5u);
}

TEST(ControlMessage, EveryTruncationFailsVerification) {
  auto buf = build_nak();
  for (std::size_t size = 0; size < buf.size(); ++size)
    EXPECT_FALSE(verifies(buf.data(), size)) << "truncated to " << size;
}

TEST(ControlMessage, CorruptOffsetsFailVerificationWithoutCrashing) {
  auto buf = build_nak();
  std::mt19937 rng(1234);
  int rejected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::vector<std::uint8_t> copy(buf.data(), buf.data() + buf.size());
    copy[rng() % copy.size()] ^= static_cast<std::uint8_t>(1 + rng() % 255);
    if (!verifies(copy.data(), copy.size())) ++rejected;
  }
  EXPECT_GT(rejected, 0);
}

TEST(ControlMessage, RingDescriptorCarriesAddressesAndKeys) {
  flatbuffers::FlatBufferBuilder b;
  auto d = CreateRdmaRingDescriptor(b, 0x1000, 0xabc, 1 << 20, 65536, 0x2000, 0xdef);
  b.Finish(CreateControlMessage(b, ControlBody::RdmaRingDescriptor, d.Union()));
  ASSERT_TRUE(verifies(b.GetBufferPointer(), b.GetSize()));
  const auto* got = GetControlMessage(b.GetBufferPointer())->body_as_RdmaRingDescriptor();
  EXPECT_EQ(got->ring_rkey(), 0xabcu);
  EXPECT_EQ(got->credit_addr(), 0x2000u);
}

}  // namespace
}  // namespace sluice::schema
