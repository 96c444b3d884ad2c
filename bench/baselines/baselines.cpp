#include "bench/baselines/baselines.hpp"

#include <array>

namespace sluice::bench::baselines {

std::span<const TransportInfo> all() {
  // Built once; the order is the order of compare's rows after sluice.
  static const std::array<TransportInfo, 10> rows = {
      raw_cacheline(),
      raw_cacheline_walk(),
      boost_mq(WaitMode::blocking),     boost_mq(WaitMode::spin),
      zmq_ipc(WaitMode::blocking),      zmq_ipc(WaitMode::spin),
      udp_loopback(WaitMode::blocking), udp_loopback(WaitMode::spin),
      unix_socket(WaitMode::blocking),  unix_socket(WaitMode::spin),
  };
  return rows;
}

}  // namespace sluice::bench::baselines
