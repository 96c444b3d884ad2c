// The ring tests' common reads: the seqs of the frames one poll delivers,
// and polling a stream a reader may hold back.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "queue/frame.hpp"

namespace sluice::queue::test {

// A poll that fails is a test failure; the seqs read before it are returned.
template <class Ring>
std::vector<std::uint64_t> poll_seqs(Ring& ring, std::size_t limit) {
  std::vector<std::uint64_t> seqs;
  auto n = ring.poll([&](const FrameView& f) { seqs.push_back(f.seq()); }, limit);
  EXPECT_TRUE(n) << (n ? "" : to_string(n.error()));
  return seqs;
}

// Polls until `count` frames came, or until one poll more than a
// streaming reader may hold back (`end_polls`, queue/stream_pacer.hpp)
// found none in a row. Calls on_frame(const FrameView&) for each frame;
// returns how many polls it made. A poll that fails is a test failure.
template <class Ring, class OnFrame>
std::size_t poll_stream(Ring& ring, std::size_t count, std::uint32_t end_polls, OnFrame&& on_frame) {
  std::size_t got = 0;
  std::size_t polls = 0;
  for (std::uint32_t empty = 0; got < count && empty <= end_polls; ++polls) {
    auto n = ring.poll([&](const FrameView& f) {
      ++got;
      on_frame(f);
    }, count - got);
    if (!n) {
      ADD_FAILURE() << to_string(n.error());
      break;
    }
    empty = *n == 0 ? empty + 1 : 0;
  }
  return polls;
}

}  // namespace sluice::queue::test
