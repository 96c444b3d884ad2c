// The DESIGN §9 targets for sluice-shm, checked against one compare run.
//
// Evaluated only when the rows they relate are in the report and the
// message size is 64 bytes (the size the targets are stated for). Against
// a baseline with blocking and spinning rows, the better of the two is used:
// a target is met against the best honest use of the alternative.
#pragma once

#include <string_view>
#include <vector>

#include "tools/bench/results.hpp"

namespace sluice::bench {

struct TargetCheck {
  std::string_view what;  // a literal, e.g. "sluice-shm p50 RTT / raw-cacheline p50 RTT"
  double value = 0.0;
  double limit = 0.0;
  bool at_most = true;  // value <= limit (else value >= limit)
  bool met() const noexcept { return at_most ? value <= limit : value >= limit; }
};

std::vector<TargetCheck> check_targets(const Report& report);

}  // namespace sluice::bench
