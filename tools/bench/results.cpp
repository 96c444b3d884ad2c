#include "tools/bench/results.hpp"

#include <algorithm>

namespace sluice::bench {

RttSummary RttSummary::of(const LatencyHistogram& h) {
  return {.min_ns = h.min_ns(),
          .p50_ns = h.percentile_ns(0.50),
          .p90_ns = h.percentile_ns(0.90),
          .p99_ns = h.percentile_ns(0.99),
          .p999_ns = h.percentile_ns(0.999),
          .max_ns = h.max_ns(),
          .mean_ns = h.mean_ns(),
          .samples = h.count()};
}

Spread Spread::of(std::vector<double> values) {
  Spread s;
  s.values = values;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  s.min = values.front();
  s.max = values.back();
  s.median = values[(values.size() - 1) / 2];  // lower median: an actual run
  return s;
}

}  // namespace sluice::bench
