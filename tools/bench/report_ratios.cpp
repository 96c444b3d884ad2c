#include "tools/bench/report.hpp"

namespace sluice::bench {
namespace {

std::optional<double> ratio(double value, double reference) {
  if (reference <= 0.0) return std::nullopt;
  return value / reference;
}

}  // namespace

const Row* latency_reference(const Report& report) {
  for (const Row& r : report.rows) {
    if (r.transport.info.name == report.reference && r.ping) return &r;
  }
  for (const Row& r : report.rows) {
    if (r.ping) return &r;
  }
  return nullptr;
}

const Row* throughput_reference(const Report& report) {
  for (const Row& r : report.rows) {
    if (r.transport.info.name == report.reference && r.throughput) return &r;
  }
  for (const Row& r : report.rows) {
    if (r.throughput) return &r;
  }
  return nullptr;
}

RowRatios ratios_to_reference(const Report& report, const Row& row) {
  RowRatios out;
  const Row* lat = latency_reference(report);
  const Row* tp = throughput_reference(report);
  if (row.ping && lat != nullptr) {
    out.p50 = ratio(static_cast<double>(row.ping->rtt.p50_ns), static_cast<double>(lat->ping->rtt.p50_ns));
    out.p99 = ratio(static_cast<double>(row.ping->rtt.p99_ns), static_cast<double>(lat->ping->rtt.p99_ns));
  }
  if (row.throughput && tp != nullptr) {
    out.msgs_per_s = ratio(row.throughput->msgs_per_s, tp->throughput->msgs_per_s);
  }
  return out;
}

}  // namespace sluice::bench
