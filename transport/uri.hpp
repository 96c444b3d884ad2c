// Channel URIs, parsed strictly: an unknown scheme, parameter or value is a
// SetupError that names it.
//
//   shm:NAME?kind=spsc|mpsc|broadcast&capacity=1m&max_frame=64k
//           &max_message=256k&wait=spin|yield|block&file=PATH&mode=0600
//           &stream=ID&start=live|earliest|POSITION
//
// Sizes take k, m, g suffixes (binary: 1k = 1024). Each parameter maps to
// the options field of the same name (capacity -> capacity_bytes).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "queue/broadcast_ring.hpp"
#include "shm/segment_descriptor.hpp"
#include "shm/wait_strategy.hpp"

namespace sluice {

// Channel names may not start with this: sluice-counters-PID, beside the
// channels' sluice-NAME, is a process's counters segment (counters.hpp).
inline constexpr std::string_view reserved_name_prefix = "counters-";

struct ShmChannel {
  std::string name;                               // [A-Za-z0-9._-], 1..200, not counters-*
  std::optional<shm::RingKind> kind;              // kind=; default spsc when creating
  std::optional<std::size_t> capacity_bytes;      // capacity=; default 1m when creating
  std::optional<std::size_t> max_frame_bytes;     // max_frame=; default 64k when creating
  std::optional<std::size_t> max_message_bytes;   // max_message=; default capacity / 4
  shm::WaitKind wait = shm::WaitKind::Spin;       // wait=; how poll() idles
  std::optional<std::string> file;                // file=; durable journal at this path
  unsigned mode = 0600;                           // mode=; octal permissions when creating
  std::uint32_t stream_id = 0;                    // stream=; stamped into every frame
  // start=; broadcast subscriptions only (implies kind=broadcast): live
  // (the default), earliest (oldest intact lap), or a stream position a
  // subscription reported earlier (Subscription::position(); the channel
  // must exist).
  std::optional<queue::ReaderStart> start;
  std::optional<std::uint64_t> start_position;
};

struct Uri {
  enum class Scheme : std::uint8_t { Shm };
  Scheme scheme = Scheme::Shm;
  ShmChannel shm;

  static Uri parse(std::string_view text);  // throws SetupError
};

// "64k" -> 65536. Throws SetupError naming `what` on a malformed value.
std::size_t parse_size(std::string_view value, std::string_view what);

}  // namespace sluice
