// The three subcommands, as runs over BenchRunner producing a Report.
#pragma once

#include "tools/bench/bench_runner.hpp"
#include "tools/bench/options.hpp"
#include "tools/bench/results.hpp"

namespace sluice::bench {

// Checks everything that can be checked before running (transport names,
// sizes against each transport's maximum): throws UsageError.
void validate_request(const BenchOptions& options);

Report run_pingpong(BenchRunner& runner, const BenchOptions& options);
Report run_throughput(BenchRunner& runner, const BenchOptions& options);
Report run_compare(BenchRunner& runner, const BenchOptions& options);

}  // namespace sluice::bench
