// check_targets: the DESIGN §9 ratios from the rows of one compare run.
#include "tools/bench/targets.hpp"

#include <gtest/gtest.h>

namespace sluice::bench {
namespace {

Row row(std::string_view name, std::uint64_t p50_ns, std::uint64_t p99_ns, double msgs_per_s) {
  Row r;
  r.transport.info.name = name;
  r.ping = PingResult{};
  r.ping->rtt.p50_ns = p50_ns;
  r.ping->rtt.p99_ns = p99_ns;
  if (msgs_per_s > 0) {
    r.throughput = ThroughputResult{};
    r.throughput->msgs_per_s = msgs_per_s;
  }
  return r;
}

Report compare_report(std::size_t size) {
  Report r;
  r.kind = BenchKind::compare;
  r.size_bytes = size;
  r.rows = {row("sluice-shm", 140, 300, 30e6), row("raw-cacheline", 100, 200, 0),
            row("boost-mq", 40'000, 80'000, 6e6), row("boost-mq-spin", 2'000, 4'000, 7e6),
            row("zmq-ipc", 70'000, 90'000, 5e6)};
  return r;
}

TEST(Targets, RatiosComeFromTheRowsOfTheRun) {
  const auto checks = check_targets(compare_report(64));
  ASSERT_EQ(checks.size(), 5u);
  EXPECT_DOUBLE_EQ(checks[0].value, 1.4);  // p50 140 / 100
  EXPECT_TRUE(checks[0].met());
  EXPECT_DOUBLE_EQ(checks[1].value, 1.5);  // p99 300 / 200
  EXPECT_TRUE(checks[1].met());
  EXPECT_DOUBLE_EQ(checks[2].value, 30.0);  // millions of msgs/s
  EXPECT_TRUE(checks[2].met());
}

TEST(Targets, ThroughputIsComparedWithTheBetterVariantOfABaseline) {
  const auto checks = check_targets(compare_report(64));
  EXPECT_NEAR(checks[3].value, 30.0 / 7.0, 1e-9);  // boost-mq-spin beat boost-mq
  EXPECT_TRUE(checks[3].met());
  EXPECT_DOUBLE_EQ(checks[4].value, 6.0);
}

TEST(Targets, AMissedTargetIsReportedAsMissed) {
  Report r = compare_report(64);
  r.rows[0].ping->rtt.p50_ns = 200;
  EXPECT_FALSE(check_targets(r)[0].met());
}

TEST(Targets, NoneAtOtherSizesOrWithoutSluice) {
  EXPECT_TRUE(check_targets(compare_report(4096)).empty());
  Report r = compare_report(64);
  r.rows.erase(r.rows.begin());
  EXPECT_TRUE(check_targets(r).empty());
}

}  // namespace
}  // namespace sluice::bench
