// The ring tests' common read: the seqs of the frames one poll delivers.
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

}  // namespace sluice::queue::test
