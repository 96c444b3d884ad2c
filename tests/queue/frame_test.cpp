#include "queue/frame.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <vector>

namespace sluice::queue {
namespace {

constexpr std::size_t max_frame = 4096;

std::vector<std::byte> region_of(std::size_t bytes) {
  return std::vector<std::byte>(bytes, std::byte{0});
}

void write_frame(std::byte* at, std::span<const std::byte> payload, const FrameFields& f) {
  write_header(at, f);
  // An empty vector's data() may be null, which memcpy must never get.
  if (!payload.empty()) std::memcpy(at + frame_header_bytes, payload.data(), payload.size());
  publish_length(at, static_cast<std::int32_t>(frame_header_bytes + payload.size()));
}

TEST(FrameHeader, LayoutIsFrozenAt32Bytes) {
  FrameHeader h(0x11223344, 1, 3, 7, 9, 0x0102030405060708ull, 42);
  const auto* b = reinterpret_cast<const std::byte*>(&h);
  std::int32_t length;
  std::uint64_t seq;
  std::memcpy(&length, b + header_offset::length, 4);
  std::memcpy(&seq, b + header_offset::seq, 8);
  EXPECT_EQ(length, 0x11223344);
  EXPECT_EQ(seq, 0x0102030405060708ull);
  std::uint32_t session;
  std::memcpy(&session, b + header_offset::session_id, 4);
  EXPECT_EQ(session, 9u);
}

TEST(Frame, RoundTripsEveryPayloadSizeUpToMaxFrame) {
  auto region = region_of(2 * max_frame);
  for (std::size_t size = 0; size + frame_header_bytes <= max_frame; ++size) {
    std::vector<std::byte> payload(size);
    for (std::size_t i = 0; i < size; ++i) payload[i] = std::byte(i * 31 + size);
    std::fill(region.begin(), region.end(), std::byte{0});
    write_frame(region.data(), payload, {.stream_id = 5, .session_id = 6, .seq = size + 1, .timestamp_ns = 77});
    auto view = check_frame(region, 0, max_frame);
    ASSERT_TRUE(view) << "size " << size << ": " << to_string(view.error());
    EXPECT_EQ(view->frame_bytes(), frame_header_bytes + size);
    EXPECT_EQ(view->seq(), size + 1);
    EXPECT_EQ(view->stream_id(), 5u);
    EXPECT_EQ(view->session_id(), 6u);
    EXPECT_EQ(view->timestamp_ns(), 77u);
    EXPECT_TRUE(view->has_flag(FrameFlags::Begin) && view->has_flag(FrameFlags::End));
    ASSERT_EQ(view->payload().size(), size);
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), view->payload().begin()));
    EXPECT_EQ(view->payload().data(), region.data() + frame_header_bytes) << "views never copy";
  }
}

TEST(Frame, AlignedSizeRoundsUpToThe32ByteBoundary) {
  EXPECT_EQ(frame_bytes_for(0), 32u);
  EXPECT_EQ(frame_bytes_for(1), 64u);
  EXPECT_EQ(frame_bytes_for(32), 64u);
  EXPECT_EQ(frame_bytes_for(33), 96u);
  EXPECT_EQ(frame_bytes_for(64), 96u);
}

TEST(Frame, UncommittedFrameIsInvisible) {
  auto region = region_of(256);
  write_header(region.data(), {.seq = 1});
  auto view = check_frame(region, 0, max_frame);
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error(), FrameError::NotCommitted);
}

struct BadLength {
  std::int32_t length;
  std::size_t offset;
  FrameError expected;
};

class MalformedFrame : public ::testing::TestWithParam<BadLength> {};

TEST_P(MalformedFrame, IsRejectedWithItsReason) {
  auto region = region_of(1024);
  const auto p = GetParam();
  write_header(region.data() + p.offset, {.seq = 1});
  publish_length(region.data() + p.offset, p.length);
  auto view = check_frame(region, p.offset, 512);
  ASSERT_FALSE(view);
  EXPECT_EQ(view.error(), p.expected) << to_string(view.error());
}

INSTANTIATE_TEST_SUITE_P(
    Lengths, MalformedFrame,
    ::testing::Values(BadLength{1, 0, FrameError::TooShort},
                      BadLength{31, 0, FrameError::TooShort},
                      BadLength{513, 0, FrameError::TooLong},
                      BadLength{0x7fffffff, 0, FrameError::TooLong},
                      BadLength{200, 992 - 160, FrameError::PastRegion},
                      BadLength{-16, 0, FrameError::TooShort},
                      BadLength{-48, 0, FrameError::Misaligned},
                      BadLength{-2048, 0, FrameError::PastRegion},
                      BadLength{-0x7fffffff - 1, 0, FrameError::PastRegion}));

TEST(Frame, OffsetOutsideRegionIsRejectedWithoutReading) {
  auto region = region_of(128);
  EXPECT_EQ(check_frame(region, 128, max_frame).error(), FrameError::PastRegion);
  EXPECT_EQ(check_frame(region, 1u << 30, max_frame).error(), FrameError::PastRegion);
  EXPECT_EQ(check_frame(region, 100, max_frame).error(), FrameError::Misaligned);
  EXPECT_EQ(check_frame(region, 112, max_frame).error(), FrameError::Misaligned);
}

TEST(Frame, UnknownTypeIsRejected) {
  auto region = region_of(128);
  write_header(region.data(), {.type = static_cast<FrameType>(99), .seq = 1});
  publish_length(region.data(), 40);
  EXPECT_EQ(check_frame(region, 0, max_frame).error(), FrameError::BadType);
}

TEST(Frame, PaddingIsReportedWithItsExtent) {
  auto region = region_of(256);
  write_header(region.data() + 64, {.type = FrameType::Pad});
  publish_length(region.data() + 64, -192);
  auto view = check_frame(region, 64, max_frame);
  ASSERT_TRUE(view);
  EXPECT_TRUE(view->is_padding());
  EXPECT_EQ(view->frame_bytes(), 192u);
}

TEST(Frame, DatagramBytesShorterThanTheirLengthAreRejected) {
  auto region = region_of(128);
  write_frame(region.data(), std::vector<std::byte>(40), {.seq = 1});
  EXPECT_TRUE(check_frame_bytes(std::span(region).first(96), max_frame));
  EXPECT_EQ(check_frame_bytes(std::span(region).first(64), max_frame).error(),
            FrameError::PastRegion);
  EXPECT_EQ(check_frame_bytes(std::span(region).first(16), max_frame).error(),
            FrameError::PastRegion);
}

// Found by tests/fuzz/frame_fuzz: bytes at an address a FrameHeader cannot
// sit at used to be read in place through a misaligned header.
TEST(Frame, BytesNotAlignedForAHeaderAreRefusedNotRead) {
  auto region = region_of(256);  // heap memory: 8-byte aligned or better
  const auto shifted = std::span(region).subspan(4);
  write_frame(shifted.data(), std::vector<std::byte>(40), {.seq = 1});
  EXPECT_EQ(check_frame_bytes(shifted, max_frame).error(), FrameError::Misaligned);
  EXPECT_EQ(check_frame(shifted, 0, max_frame).error(), FrameError::Misaligned);
}

}  // namespace
}  // namespace sluice::queue
