// Hook for the sluice transports (the rows sluice-bench exists for).
//
// The adapter lives in tools/bench/transport_sluice.cpp, written with the
// transport API. tools/meson.build compiles it and defines
// SLUICE_BENCH_HAVE_SLUICE_SHM when that file exists; the registry then
// offers the `sluice-shm` row in compare and maps `--transport shm:...`
// to it. Until then, asking for shm: is a clear "not built in" error.
//
// What transport_sluice.cpp must define:
//
//   namespace sluice::bench {
//   TransportInfo sluice_shm_transport() {
//     return {.name = "sluice-shm",               // exactly this row name
//             .summary = "...",
//             .wait = WaitMode::spin,              // the bench default
//             .max_message_bytes = ...,            // largest message it takes
//             .make = [](std::string_view uri) {   // "shm:NAME?params"
//               return make_workload<SluiceShmAdapter>(std::string(uri)); }};
//   }
//   }
//
// where SluiceShmAdapter satisfies BenchTransport (transport.hpp): open(),
// on_peer_ready(), send(), receive(), unlink_names(). Name every segment
// after OpenParams::name (unique per run), create what both directions
// need or derive each side's names from it, and make unlink_names() remove
// all of them: the tool calls it if the run dies half-way. "All of them"
// includes per-process segments (a Context's counters segment) of both
// processes: the responder can return its own names from open() as its
// hint, which the initiator receives in on_peer_ready().
// Optionally add receive_batch() (BatchReceive, transport.hpp) so the
// throughput sink reads a whole poll() batch in place.
#pragma once

#include "tools/bench/transport_info.hpp"

namespace sluice::bench {

// The URI compare uses for the sluice-shm row (the adapter appends the
// unique run name to keep runs apart).
inline constexpr const char* default_sluice_shm_uri = "shm:sluice-bench";

// The sluice-shm row for `uri`: a broadcast channel is lossy (a reader the
// writer laps loses frames, the stream's end marker among them). Throws
// UsageError naming what is wrong with a malformed URI.
TransportInfo sluice_shm_transport(std::string_view uri = default_sluice_shm_uri);

}  // namespace sluice::bench
