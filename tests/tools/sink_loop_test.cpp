// run_sink: the throughput receiver's loop, over in-process fake
// transports, through both receive paths (receive() and receive_batch()).
#include "tools/bench/throughput_loop.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstring>
#include <vector>

namespace sluice::bench {
namespace {

// Delivers a scripted sequence of seqs, one message per receive().
class ScriptedTransport {
 public:
  explicit ScriptedTransport(std::vector<std::uint64_t> seqs) : seqs_(std::move(seqs)) {}
  std::string open(const OpenParams&) { return {}; }
  void on_peer_ready(std::string_view) {}
  bool send(std::span<const std::byte>) noexcept { return true; }
  bool receive(std::span<std::byte> in) noexcept {
    if (next_ >= seqs_.size()) return false;  // script exhausted: "broken"
    stamp_seq(in, seqs_[next_++]);
    return true;
  }
  void unlink_names() const noexcept {}

 protected:
  std::vector<std::uint64_t> seqs_;
  std::size_t next_ = 0;
};

// The same script, handed over in batches of up to `limit`, in place.
class ScriptedBatchTransport : public ScriptedTransport {
 public:
  using ScriptedTransport::ScriptedTransport;
  template <class F>
  long receive_batch(F&& on_message, std::size_t limit) noexcept {
    if (next_ >= seqs_.size()) return -1;
    long n = 0;
    for (; next_ < seqs_.size() && static_cast<std::size_t>(n) < std::min<std::size_t>(limit, 3); ++n) {
      stamp_seq(slot_, seqs_[next_++]);
      on_message(std::span<const std::byte>(slot_));
    }
    return n;
  }

 private:
  std::array<std::byte, 64> slot_{};
};

static_assert(BenchTransport<ScriptedTransport> && !BatchReceive<ScriptedTransport>);
static_assert(BenchTransport<ScriptedBatchTransport> && BatchReceive<ScriptedBatchTransport>);

template <class T>
SequenceCounts sink_counts(std::vector<std::uint64_t> seqs, std::uint64_t warmup, std::uint64_t count,
                           LoopError expect = LoopError::none) {
  T transport(std::move(seqs));
  std::array<std::byte, 64> buffer{};
  SequenceCheck check(warmup, count);
  const SinkOutcome outcome = run_sink(transport, std::span(buffer), warmup, check);
  EXPECT_EQ(outcome.error, expect);
  return check.counts();
}

template <class T>
class SinkLoop : public ::testing::Test {};
using Transports = ::testing::Types<ScriptedTransport, ScriptedBatchTransport>;
TYPED_TEST_SUITE(SinkLoop, Transports);

TYPED_TEST(SinkLoop, StopsAtTheEndMarkerWithEverythingCounted) {
  const auto c = sink_counts<TypeParam>({1, 2, 3, 4, 5, 6, end_marker_seq, 99}, 2, 4);
  EXPECT_EQ(c.received, 4u);
  EXPECT_EQ(c.lost, 0u);
  EXPECT_EQ(c.invalid, 0u) << "nothing after the marker is read";
}

TYPED_TEST(SinkLoop, ReportsLossDuplicatesAndReordering) {
  const auto c = sink_counts<TypeParam>({1, 3, 2, 2, 6, end_marker_seq}, 0, 6);
  EXPECT_EQ(c.received, 4u);
  EXPECT_EQ(c.lost, 2u);
  EXPECT_EQ(c.duplicated, 1u);
  EXPECT_EQ(c.out_of_order, 1u);
}

TYPED_TEST(SinkLoop, ABrokenTransportEndsTheLoopWithAnError) {
  sink_counts<TypeParam>({1, 2}, 0, 5, LoopError::broken);
}

}  // namespace
}  // namespace sluice::bench
