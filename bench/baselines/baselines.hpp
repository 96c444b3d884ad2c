// The baselines sluice-bench compares against: what a user would otherwise
// pick to move messages between two processes on one host. Each lives in
// its own file and is written to be the best honest use of its mechanism:
// a blocking row (the default way to use it) and a busy-poll "-spin" row
// where the API allows it.
#pragma once

#include <span>

#include "tools/bench/transport_info.hpp"

namespace sluice::bench::baselines {

// Every baseline, in the order compare shows them.
std::span<const TransportInfo> all();

// One per file.
TransportInfo raw_cacheline();
TransportInfo raw_cacheline_walk();
TransportInfo boost_mq(WaitMode wait);
TransportInfo zmq_ipc(WaitMode wait);
TransportInfo udp_loopback(WaitMode wait);
TransportInfo unix_socket(WaitMode wait);

}  // namespace sluice::bench::baselines
