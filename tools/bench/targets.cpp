#include "tools/bench/targets.hpp"

#include <algorithm>
#include <initializer_list>
#include <string_view>

namespace sluice::bench {
namespace {

const Row* find_row(const Report& r, std::string_view name) {
  for (const Row& row : r.rows) {
    if (row.transport.info.name == name) return &row;
  }
  return nullptr;
}

// Highest msgs/s among the named rows that ran throughput; 0 if none did.
double best_rate(const Report& r, std::initializer_list<std::string_view> names) {
  double best = 0.0;
  for (auto name : names) {
    const Row* row = find_row(r, name);
    if (row != nullptr && row->throughput) best = std::max(best, row->throughput->msgs_per_s);
  }
  return best;
}

}  // namespace

std::vector<TargetCheck> check_targets(const Report& r) {
  std::vector<TargetCheck> checks;
  const Row* shm = find_row(r, "sluice-shm");
  if (r.kind != BenchKind::compare || r.size_bytes != 64 || shm == nullptr) return checks;

  const Row* raw = find_row(r, "raw-cacheline");
  if (raw != nullptr && raw->ping && shm->ping && raw->ping->rtt.p50_ns > 0 && raw->ping->rtt.p99_ns > 0) {
    checks.push_back({"sluice-shm p50 RTT / raw-cacheline p50 RTT",
                      static_cast<double>(shm->ping->rtt.p50_ns) / static_cast<double>(raw->ping->rtt.p50_ns),
                      1.4, true});
    checks.push_back({"sluice-shm p99 RTT / raw-cacheline p99 RTT",
                      static_cast<double>(shm->ping->rtt.p99_ns) / static_cast<double>(raw->ping->rtt.p99_ns),
                      2.0, true});
  }
  if (!shm->throughput) return checks;
  const double rate = shm->throughput->msgs_per_s;
  checks.push_back({"sluice-shm one-way msgs/s (millions)", rate / 1e6, 25.0, false});
  if (const double boost = best_rate(r, {"boost-mq", "boost-mq-spin"}); boost > 0) {
    checks.push_back({"sluice-shm msgs/s / best boost-mq msgs/s", rate / boost, 4.0, false});
  }
  if (const double zmq = best_rate(r, {"zmq-ipc", "zmq-ipc-spin"}); zmq > 0) {
    checks.push_back({"sluice-shm msgs/s / best zmq-ipc msgs/s", rate / zmq, 4.0, false});
  }
  return checks;
}

}  // namespace sluice::bench
