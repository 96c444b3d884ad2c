// sluice: low-latency messaging over shared memory (and, as they land,
// RDMA, DPDK and UDP). Include this one header.
#pragma once

#include "transport/context.hpp"
#include "transport/counters.hpp"
#include "transport/errors.hpp"
#include "transport/message.hpp"
#include "transport/publication.hpp"
#include "transport/subscription.hpp"
#include "transport/uri.hpp"
