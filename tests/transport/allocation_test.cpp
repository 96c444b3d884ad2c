// The hot path never allocates: offer, claim/commit and poll are counted
// through a replaced global operator new.
#include <gtest/gtest.h>

#include <atomic>
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstdlib>
#include <new>

#include "sluice.hpp"
#include "tests/support/child_process.hpp"

namespace {
std::atomic<long> allocations{0};
}

void* operator new(std::size_t n) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace sluice {
namespace {

TEST(HotPath, OfferClaimAndPollAllocateNothing) {
  Context ctx;
  const auto name = test::unique_name("alloc");
  for (const char* kind : {"spsc", "mpsc", "broadcast"}) {
    const std::string uri = "shm:" + name + kind + "?kind=" + kind;
    auto pub = ctx.publication(uri);
    auto sub = ctx.subscription(uri);
    std::byte msg[64]{};
    std::size_t got = 0;
    auto handler = [&](const Message& m) { got += m.payload().size(); };
    // Warm up: the first message from a session creates its receive state.
    ASSERT_TRUE(pub.offer(msg));
    ASSERT_TRUE(sub.poll(handler, 16));
    const long before = allocations.load();
    for (int i = 0; i < 10'000; ++i) {
      ASSERT_TRUE(pub.offer(msg));
      auto claim = pub.try_claim(32);
      ASSERT_TRUE(claim);
      claim->commit();
      ASSERT_TRUE(sub.poll(handler, 16));
    }
    // The spsc/mpsc subscription found a backlog and reads behind a lead:
    // the rest comes once the publisher has stopped for a few polls.
    for (int i = 0; i < 100 && got < 64u + 10'000u * 96u; ++i) ASSERT_TRUE(sub.poll(handler, 1000));
    EXPECT_EQ(allocations.load() - before, 0) << kind;
    EXPECT_EQ(got, 64u + 10'000u * 96u) << kind;
    boost::interprocess::shared_memory_object::remove(("sluice-" + name + kind).c_str());
  }
}

}  // namespace
}  // namespace sluice
