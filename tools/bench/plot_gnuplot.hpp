// --plot FILE.png through gnuplot (the gnuplot-nox package).
//
// pingpong / compare: latency CDF (log-scale x) beside its complement
// 1 - CDF on log-log axes, where p99..p99.9 tails are visible; compare adds
// a bar chart of one-way msgs/s. throughput: bars.
// The data travels inline in the script (gnuplot datablocks): no temp files.
#pragma once

#include <string>

#include "tools/bench/results.hpp"

namespace sluice::bench {

// Throws UsageError if no gnuplot executable is on PATH.
void check_gnuplot_available();

// Runs gnuplot (killed by pid after 30 s). Throws std::runtime_error with
// gnuplot's first error line on failure.
void render_plot(const Report& report, const std::string& png_path);

}  // namespace sluice::bench
