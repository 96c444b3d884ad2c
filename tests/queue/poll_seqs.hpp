// The ring tests' common steps: the seqs of the frames one poll delivers,
// polling a stream a reader may hold back, a corrupt head.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "queue/frame.hpp"
#include "queue/ring_layout.hpp"

namespace sluice::queue::test {

// A poll that fails is a test failure; the seqs read before it are returned.
template <class Ring>
std::vector<std::uint64_t> poll_seqs(Ring& ring, std::size_t limit) {
  std::vector<std::uint64_t> seqs;
  auto n = ring.poll([&](const FrameView& f) { seqs.push_back(f.seq()); }, limit);
  EXPECT_TRUE(n) << (n ? "" : to_string(n.error()));
  return seqs;
}

// Fills the ring (nothing read), writes `slot` (a head word) past the
// tail, as corrupt memory would, and returns the next claim's refusal
// (none: it was granted, over unread frames).
template <class Ring>
std::optional<RingError> refusal_with_head_past_tail(Ring& ring, std::span<std::byte> region,
                                                     std::size_t capacity, TrailerSlot slot) {
  while (auto claim = ring.try_claim(32)) ring.commit(*claim, FrameFields{.seq = 1});
  trailer_counter(region, capacity, slot).store(ring.producer_position() + 64);
  auto claim = ring.try_claim(32);
  if (claim) return std::nullopt;
  return claim.error();
}

// Longer than a streaming reader ever holds frames back
// (queue/stream_pacer.hpp: microseconds), with room for a sanitizer's pace
// and the host's preemptions.
inline constexpr std::chrono::seconds quiet_ends_stream{1};

// Polls until `count` frames came, or until no frame came for
// quiet_ends_stream. Calls on_frame(const FrameView&) for each frame;
// returns how many polls it made. A poll that fails is a test failure.
template <class Ring, class OnFrame>
std::size_t poll_stream(Ring& ring, std::size_t count, OnFrame&& on_frame) {
  std::size_t got = 0;
  std::size_t polls = 0;
  auto last_frame = std::chrono::steady_clock::now();
  while (got < count && std::chrono::steady_clock::now() - last_frame < quiet_ends_stream) {
    ++polls;
    auto n = ring.poll([&](const FrameView& f) {
      ++got;
      on_frame(f);
    }, count - got);
    if (!n) {
      ADD_FAILURE() << to_string(n.error());
      break;
    }
    if (*n > 0) last_frame = std::chrono::steady_clock::now();
  }
  return polls;
}

}  // namespace sluice::queue::test
