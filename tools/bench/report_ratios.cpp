#include "tools/bench/report.hpp"

namespace sluice::bench {
namespace {

std::optional<double> ratio(double value, double reference) {
  if (reference <= 0.0) return std::nullopt;
  return value / reference;
}

}  // namespace

RowRatios ratios_to_reference(const Report& report, const Row& row) {
  const Row* ref = nullptr;
  for (const Row& r : report.rows) {
    if (r.transport.info.name == report.reference) ref = &r;
  }
  RowRatios out;
  if (ref == nullptr) return out;
  if (row.ping && ref->ping) {
    out.p50 = ratio(static_cast<double>(row.ping->rtt.p50_ns), static_cast<double>(ref->ping->rtt.p50_ns));
    out.p99 = ratio(static_cast<double>(row.ping->rtt.p99_ns), static_cast<double>(ref->ping->rtt.p99_ns));
  }
  if (row.throughput && ref->throughput) {
    out.msgs_per_s = ratio(row.throughput->msgs_per_s, ref->throughput->msgs_per_s);
  }
  return out;
}

}  // namespace sluice::bench
