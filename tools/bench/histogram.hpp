// LatencyHistogram: log-bucketed (HDR-style) histogram of nanosecond values
// with a bounded relative error and constant-time, allocation-free recording.
//
// Layout: values below 2^(P+1) get one bucket each (exact). Above that, every
// power-of-two range [2^m, 2^(m+1)) is split into 2^P equal buckets of width
// 2^(m-P). A bucket therefore never spans more than 2^-P of its lower bound.
// With the default P = 7 that is 0.78 %, for all of uint64_t, in 7.4 k
// buckets (59 KiB, allocated once in the constructor).
//
// Percentiles use the nearest-rank definition: p(q) is the smallest recorded
// value v such that at least ceil(q * n) values are <= v. The histogram
// reports the upper bound of the bucket holding that value, clamped to the
// recorded maximum, so for the exact nearest-rank value x:
//     x <= reported <= x * (1 + 2^-P)
// i.e. it never under-reports a latency. min and max are kept exactly.
//
// Not thread-safe: one writer (the measuring loop), read after the run.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace sluice::bench {

class LatencyHistogram {
 public:
  static constexpr unsigned default_precision_bits = 7;

  // precision_bits in [1, 16]: relative error bound is 2^-precision_bits.
  explicit LatencyHistogram(unsigned precision_bits = default_precision_bits);

  // Hot path: no allocation, no branches beyond min/max.
  void record(std::uint64_t value_ns) noexcept {
    ++counts_[bucket_index(value_ns)];
    ++total_count_;
    if (value_ns < min_ns_) min_ns_ = value_ns;
    if (value_ns > max_ns_) max_ns_ = value_ns;
  }

  // Forgets everything recorded (used after warm-up). Keeps the buckets.
  void reset() noexcept;
  // Adds another histogram of the same precision (for merging runs).
  void add(const LatencyHistogram& other);

  std::uint64_t count() const noexcept { return total_count_; }
  std::uint64_t min_ns() const noexcept { return total_count_ ? min_ns_ : 0; }
  std::uint64_t max_ns() const noexcept { return max_ns_; }
  double mean_ns() const noexcept;
  // q in [0, 1]; 0 on an empty histogram. See the header comment for bounds.
  std::uint64_t percentile_ns(double q) const noexcept;
  // The stated relative error bound: 2^-precision_bits.
  double relative_error() const noexcept { return 1.0 / static_cast<double>(sub_buckets_); }

  struct CdfPoint {
    std::uint64_t value_ns;      // bucket upper bound (clamped to max)
    double cumulative_fraction;  // fraction of values <= value_ns
  };
  // One point per non-empty bucket, ascending: for plots and exports.
  std::vector<CdfPoint> cdf() const;

  // Bucket geometry, public for tests.
  std::size_t bucket_index(std::uint64_t value) const noexcept {
    // shift = max(0, msb(value) - P); values < 2^(P+1) map to themselves.
    const unsigned msb = static_cast<unsigned>(std::bit_width(value | 1)) - 1;
    const unsigned shift = msb > precision_bits_ ? msb - precision_bits_ : 0;
    return (static_cast<std::size_t>(shift) << precision_bits_) + (value >> shift);
  }
  std::uint64_t bucket_lower_bound(std::size_t index) const noexcept;
  std::uint64_t bucket_upper_bound(std::size_t index) const noexcept;  // inclusive

 private:
  unsigned precision_bits_;
  std::uint64_t sub_buckets_;  // 2^P
  std::vector<std::uint64_t> counts_;
  std::uint64_t total_count_ = 0;
  std::uint64_t min_ns_ = UINT64_MAX;
  std::uint64_t max_ns_ = 0;
};

}  // namespace sluice::bench
