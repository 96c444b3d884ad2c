// LatencyHistogram against exact nearest-rank percentiles of known
// distributions: every reported percentile must lie in
// [exact, exact * (1 + relative_error())] (the bound the header states).
#include "tools/bench/histogram.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace sluice::bench {
namespace {

constexpr double quantiles[] = {0.0, 0.001, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999, 1.0};

std::uint64_t exact_nearest_rank(std::vector<std::uint64_t> sorted, double q) {
  const auto n = sorted.size();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(n)));
  rank = std::clamp<std::size_t>(rank, 1, n);
  return sorted[rank - 1];
}

void expect_within_bound(const std::vector<std::uint64_t>& values, unsigned precision_bits = 7) {
  LatencyHistogram h(precision_bits);
  for (auto v : values) h.record(v);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  ASSERT_EQ(h.count(), values.size());
  EXPECT_EQ(h.min_ns(), sorted.front());
  EXPECT_EQ(h.max_ns(), sorted.back());
  for (double q : quantiles) {
    const std::uint64_t exact = exact_nearest_rank(sorted, q);
    const std::uint64_t got = h.percentile_ns(q);
    EXPECT_GE(got, exact) << "q=" << q;
    EXPECT_LE(static_cast<double>(got), static_cast<double>(exact) * (1.0 + h.relative_error()))
        << "q=" << q << " exact=" << exact;
  }
}

TEST(LatencyHistogram, UniformPercentilesAreWithinTheStatedError) {
  std::mt19937_64 rng(1);
  std::uniform_int_distribution<std::uint64_t> dist(100, 1'000'000);
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = dist(rng);
  expect_within_bound(v);
}

TEST(LatencyHistogram, ExponentialPercentilesAreWithinTheStatedError) {
  std::mt19937_64 rng(2);
  std::exponential_distribution<double> dist(1.0 / 5'000.0);  // mean 5 us
  std::vector<std::uint64_t> v(200'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(dist(rng)) + 50;
  expect_within_bound(v);
}

TEST(LatencyHistogram, BimodalPercentilesAreWithinTheStatedError) {
  // 98 % fast path around 200 ns, 2 % slow path around 60 us: p99 lands in
  // the slow mode, p90 in the fast one, which a mean would hide.
  std::mt19937_64 rng(3);
  std::normal_distribution<double> fast(200.0, 15.0), slow(60'000.0, 5'000.0);
  std::bernoulli_distribution is_slow(0.02);
  std::vector<std::uint64_t> v(300'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(std::max(1.0, is_slow(rng) ? slow(rng) : fast(rng)));
  expect_within_bound(v);
  LatencyHistogram h;
  for (auto x : v) h.record(x);
  EXPECT_LT(h.percentile_ns(0.90), 1'000u);
  EXPECT_GT(h.percentile_ns(0.99), 30'000u);
}

TEST(LatencyHistogram, CoarserPrecisionStillHonoursItsOwnBound) {
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> dist(8.0, 1.5);
  std::vector<std::uint64_t> v(100'000);
  for (auto& x : v) x = static_cast<std::uint64_t>(dist(rng));
  expect_within_bound(v, 3);
}

TEST(LatencyHistogram, SmallValuesAreExact) {
  LatencyHistogram h;
  for (std::uint64_t v = 0; v < 256; ++v) {
    EXPECT_EQ(h.bucket_lower_bound(h.bucket_index(v)), v);
    EXPECT_EQ(h.bucket_upper_bound(h.bucket_index(v)), v);
  }
}

TEST(LatencyHistogram, BucketsTileTheWholeRangeWithoutGaps) {
  LatencyHistogram h;
  const std::size_t last = h.bucket_index(UINT64_MAX);
  for (std::size_t i = 0; i < last; ++i) {
    ASSERT_EQ(h.bucket_upper_bound(i) + 1, h.bucket_lower_bound(i + 1)) << "bucket " << i;
    ASSERT_EQ(h.bucket_index(h.bucket_lower_bound(i)), i);
    ASSERT_EQ(h.bucket_index(h.bucket_upper_bound(i)), i);
  }
  EXPECT_EQ(h.bucket_upper_bound(last), UINT64_MAX);
}

TEST(LatencyHistogram, ExtremeValuesAreRecordedAndReported) {
  LatencyHistogram h;
  h.record(0);
  h.record(UINT64_MAX);
  EXPECT_EQ(h.percentile_ns(0.5), 0u);
  EXPECT_EQ(h.percentile_ns(1.0), UINT64_MAX);
  EXPECT_EQ(h.min_ns(), 0u);
  EXPECT_EQ(h.max_ns(), UINT64_MAX);
}

TEST(LatencyHistogram, ResetForgetsWarmUp) {
  LatencyHistogram h;
  h.record(1'000'000);
  h.reset();
  h.record(100);
  EXPECT_EQ(h.count(), 1u);
  EXPECT_EQ(h.max_ns(), 100u);
  EXPECT_EQ(h.percentile_ns(0.999), 100u);
}

TEST(LatencyHistogram, EmptyHistogramReportsZero) {
  LatencyHistogram h;
  EXPECT_EQ(h.percentile_ns(0.5), 0u);
  EXPECT_EQ(h.min_ns(), 0u);
  EXPECT_TRUE(h.cdf().empty());
}

TEST(LatencyHistogram, CdfEndsAtOneAndIsMonotonic) {
  LatencyHistogram h;
  for (std::uint64_t v = 1; v <= 10'000; v += 7) h.record(v * 13);
  const auto cdf = h.cdf();
  ASSERT_FALSE(cdf.empty());
  for (std::size_t i = 1; i < cdf.size(); ++i) {
    EXPECT_GT(cdf[i].value_ns, cdf[i - 1].value_ns);
    EXPECT_GT(cdf[i].cumulative_fraction, cdf[i - 1].cumulative_fraction);
  }
  EXPECT_DOUBLE_EQ(cdf.back().cumulative_fraction, 1.0);
  EXPECT_EQ(cdf.back().value_ns, h.max_ns());
}

TEST(LatencyHistogram, MeanIsWithinTheStatedError) {
  LatencyHistogram h;
  double sum = 0;
  for (std::uint64_t v = 1'000; v < 200'000; v += 3) {
    h.record(v);
    sum += static_cast<double>(v);
  }
  const double exact = sum / static_cast<double>(h.count());
  EXPECT_NEAR(h.mean_ns(), exact, exact * h.relative_error());
}

}  // namespace
}  // namespace sluice::bench
