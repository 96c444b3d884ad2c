// TransportInfo: how the tool knows a transport before opening it.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>

#include "tools/bench/workload.hpp"

namespace sluice::bench {

enum class WaitMode : std::uint8_t { spin, blocking };

struct TransportInfo {
  std::string_view name;     // row name in compare, e.g. "boost-mq-spin"
  std::string_view summary;  // one line for --help and the docs
  WaitMode wait = WaitMode::spin;
  // Lossless and ordered by construction. A lossy transport's stream end
  // marker is repeated until the sink reports (throughput_loop.hpp).
  bool reliable = true;
  // false: throughput is not meaningful for this transport (the row shows
  // none); the reason is in `summary`.
  bool supports_throughput = true;
  std::size_t max_message_bytes = 1 << 20;
  // Builds an unopened instance. `uri` is what the user selected: a
  // baseline's name, or a sluice URI such as "shm:bench?wait=spin".
  std::unique_ptr<Workload> (*make)(std::string_view uri) = nullptr;
};

}  // namespace sluice::bench
