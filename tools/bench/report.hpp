// Rendering a Report: table (default), JSON (DESIGN §8 schema), CSV, plot.
#pragma once

#include <optional>
#include <string>

#include "tools/bench/machine_info.hpp"
#include "tools/bench/results.hpp"

namespace sluice::bench {

// Compare: each row's value divided by the reference row's. The reference
// is Report::reference (sluice-shm when it ran, else the first row); for a
// metric the reference row lacks (raw-cacheline has no throughput), the
// first row that has it.
struct RowRatios {
  std::optional<double> p50;
  std::optional<double> p99;
  std::optional<double> msgs_per_s;
};
RowRatios ratios_to_reference(const Report& report, const Row& row);
const Row* latency_reference(const Report& report);
const Row* throughput_reference(const Report& report);

std::string render_table(const Report& report, const Environment& env);
std::string render_json(const Report& report, const Environment& env);
std::string render_csv(const Report& report);

}  // namespace sluice::bench
