#include "tools/bench/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace sluice::bench {

LatencyHistogram::LatencyHistogram(unsigned precision_bits)
    : precision_bits_(precision_bits), sub_buckets_(std::uint64_t{1} << precision_bits) {
  if (precision_bits < 1 || precision_bits > 16) {
    throw std::invalid_argument("LatencyHistogram: precision_bits must be in [1, 16]");
  }
  // The largest index is the one of UINT64_MAX.
  counts_.assign(bucket_index(UINT64_MAX) + 1, 0);
}

void LatencyHistogram::reset() noexcept {
  std::fill(counts_.begin(), counts_.end(), 0);
  total_count_ = 0;
  min_ns_ = UINT64_MAX;
  max_ns_ = 0;
}

void LatencyHistogram::add(const LatencyHistogram& other) {
  if (other.precision_bits_ != precision_bits_) {
    throw std::invalid_argument("LatencyHistogram::add: precision differs");
  }
  for (std::size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  total_count_ += other.total_count_;
  min_ns_ = std::min(min_ns_, other.min_ns_);
  max_ns_ = std::max(max_ns_, other.max_ns_);
}

std::uint64_t LatencyHistogram::bucket_lower_bound(std::size_t index) const noexcept {
  // Blocks of 2^P indices: blocks 0 and 1 hold the exact values below
  // 2^(P+1); block k >= 2 holds shift k-1, where value >> shift = 2^P + offset.
  const std::uint64_t block = index >> precision_bits_;
  if (block <= 1) return index;
  const std::uint64_t offset = index & (sub_buckets_ - 1);
  return (offset + sub_buckets_) << (block - 1);
}

std::uint64_t LatencyHistogram::bucket_upper_bound(std::size_t index) const noexcept {
  const std::uint64_t block = index >> precision_bits_;
  if (block <= 1) return index;  // width-1 buckets hold exact values
  const std::uint64_t width = std::uint64_t{1} << (block - 1);
  return bucket_lower_bound(index) + (width - 1);
}

double LatencyHistogram::mean_ns() const noexcept {
  if (total_count_ == 0) return 0.0;
  // Bucket midpoints: the mean carries the same relative error bound.
  double sum = 0.0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    const double mid = (static_cast<double>(bucket_lower_bound(i)) +
                        static_cast<double>(bucket_upper_bound(i))) / 2.0;
    sum += mid * static_cast<double>(counts_[i]);
  }
  return sum / static_cast<double>(total_count_);
}

std::uint64_t LatencyHistogram::percentile_ns(double q) const noexcept {
  if (total_count_ == 0) return 0;
  q = std::clamp(q, 0.0, 1.0);
  // Nearest rank, at least 1: the q-quantile of n values is the
  // ceil(q*n)-th smallest.
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(total_count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, total_count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(bucket_upper_bound(i), min_ns_, max_ns_);
  }
  return max_ns_;
}

std::vector<LatencyHistogram::CdfPoint> LatencyHistogram::cdf() const {
  std::vector<CdfPoint> points;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] == 0) continue;
    seen += counts_[i];
    points.push_back({std::clamp(bucket_upper_bound(i), min_ns_, max_ns_),
                      static_cast<double>(seen) / static_cast<double>(total_count_)});
  }
  return points;
}

}  // namespace sluice::bench
