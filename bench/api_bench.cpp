// Micro-benchmarks of the user API over a real shm segment, one thread:
// the cost sluice adds over the bare ring (sequence tracking, counters,
// session lookup).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <string>

#include "sluice.hpp"

namespace sluice {
namespace {

void offer_poll(benchmark::State& state) {
  Context ctx;
  const std::string uri = "shm:api-bench-" + std::to_string(::getpid()) + "?kind=" +
                          (state.range(0) == 0 ? "spsc" : "mpsc");
  {
    auto pub = ctx.publication(uri);
    auto sub = ctx.subscription(uri);
    std::byte msg[64]{};
    std::size_t sum = 0;
    for (auto _ : state) {
      (void)pub.offer(msg);
      (void)sub.poll([&](const Message& m) { sum += m.payload().size(); }, 1);
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations());
    state.SetLabel(state.range(0) == 0 ? "spsc" : "mpsc");
  }
  Context::remove_channel(uri);
}
BENCHMARK(offer_poll)->Arg(0)->Arg(1);

}  // namespace
}  // namespace sluice

BENCHMARK_MAIN();
