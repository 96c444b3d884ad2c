// Micro-benchmarks of the hot path, one thread, no contention: what the
// instructions cost before any cache line crosses cores.
#include <benchmark/benchmark.h>

#include <vector>

#include "queue/broadcast_ring.hpp"
#include "queue/mpsc_ring.hpp"
#include "queue/sequence_tracker.hpp"
#include "queue/spsc_ring.hpp"

namespace sluice::queue {
namespace {

constexpr RingGeometry geometry{.capacity_bytes = 1 << 20, .max_frame_bytes = 4096};

template <class Ring>
struct Fixture {
  std::vector<std::byte> region = std::vector<std::byte>(ring_required_bytes(geometry.capacity_bytes));
  Ring ring{region, geometry};
};

// Claim + commit + poll of one frame (the consumer keeps the ring empty).
template <class Ring>
void claim_commit_poll(benchmark::State& state) {
  Fixture<Ring> f;
  const auto size = static_cast<std::size_t>(state.range(0));
  std::uint64_t seq = 1, sum = 0;
  for (auto _ : state) {
    auto claim = f.ring.try_claim(size);
    claim->payload()[0] = std::byte(seq);
    f.ring.commit(*claim, {.seq = seq++});
    (void)f.ring.poll([&](const FrameView& v) { sum += v.seq(); }, 1);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(claim_commit_poll<SpscRing>)->Arg(64)->Arg(1024);
BENCHMARK(claim_commit_poll<MpscRing>)->Arg(64)->Arg(1024);

// offer (copy in) of a batch, then one poll of the batch.
template <class Ring>
void offer_batch_poll(benchmark::State& state) {
  Fixture<Ring> f;
  std::vector<std::byte> msg(static_cast<std::size_t>(state.range(0)));
  std::uint64_t seq = 1, sum = 0;
  for (auto _ : state) {
    for (int i = 0; i < 64; ++i) (void)f.ring.offer(msg, {.seq = seq++});
    (void)f.ring.poll([&](const FrameView& v) { sum += v.payload().size(); }, 64);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations() * 64);
}
BENCHMARK(offer_batch_poll<SpscRing>)->Arg(64);
BENCHMARK(offer_batch_poll<MpscRing>)->Arg(64);

void broadcast_offer_read(benchmark::State& state) {
  std::vector<std::byte> region(ring_required_bytes(geometry.capacity_bytes));
  BroadcastWriter writer(region, geometry);
  BroadcastReader reader(region, geometry, ReaderStart::Live);
  std::vector<std::byte> msg(64);
  std::uint64_t seq = 1, sum = 0;
  for (auto _ : state) {
    (void)writer.offer(msg, {.seq = seq++});
    (void)reader.poll([&](const FrameView& v) { sum += v.seq(); }, 1);
  }
  benchmark::DoNotOptimize(sum);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(broadcast_offer_read);

void tracker_in_order(benchmark::State& state) {
  SequenceTracker t(1, 0, 0);
  std::uint64_t seq = 1;
  for (auto _ : state) benchmark::DoNotOptimize(t.on_arrival(seq++, 0));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(tracker_in_order);

void tracker_reordered_pairs(benchmark::State& state) {
  SequenceTracker t(1, 64, 1'000'000);
  std::uint64_t base = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(t.on_arrival(base + 1, 0));  // held
    benchmark::DoNotOptimize(t.on_arrival(base, 0));      // fills the gap
    benchmark::DoNotOptimize(t.pop_ready());
    base += 2;
  }
  state.SetItemsProcessed(state.iterations() * 2);
}
BENCHMARK(tracker_reordered_pairs);

}  // namespace
}  // namespace sluice::queue

BENCHMARK_MAIN();
