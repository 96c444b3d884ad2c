// Entry point of the peer process (see peer_main.cpp).
#pragma once

#include "tools/bench/options.hpp"

namespace sluice::bench {

int peer_main(const PeerOptions& options);

}  // namespace sluice::bench
