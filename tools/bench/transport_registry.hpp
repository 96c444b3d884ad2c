// Which transport a name or URI means, and which rows compare runs.
//
//   --transport shm:NAME?...   the sluice shm transport (row sluice-shm)
//   --transport sluice-shm     the same with the default URI
//   --transport raw-cacheline  a baseline, by its row name (see --list)
// Anything else is a UsageError naming the offending value.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tools/bench/transport_info.hpp"

namespace sluice::bench {

struct SelectedTransport {
  TransportInfo info;
  std::string uri;             // handed to info.make() and to the peer
  std::string json_transport;  // the "transport" field: "shm" for shm:..., else the row name
};

SelectedTransport select_transport(std::string_view spec);

// Every transport compiled in: sluice rows first, then the baselines.
std::vector<SelectedTransport> available_transports();

// Compare's rows: all available ones, or those named in `only` (each must
// exist), in the canonical order.
std::vector<SelectedTransport> compare_transports(const std::vector<std::string>& only);

bool have_sluice_shm() noexcept;

}  // namespace sluice::bench
