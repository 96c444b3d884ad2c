// What the command line asked for (cli.cpp fills these in).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::bench {

enum class BenchKind : std::uint8_t { pingpong, throughput, compare };

// --json / --csv: off, to stdout (no value) or to a file (=FILE).
struct OutputTarget {
  bool enabled = false;
  std::string path;  // empty: stdout
  bool to_stdout() const noexcept { return enabled && path.empty(); }
};

struct BenchOptions {
  BenchKind kind = BenchKind::pingpong;
  std::string transport;                // pingpong / throughput: name or URI
  std::vector<std::string> only;        // compare --transports: subset of rows
  std::size_t size_bytes = 64;          // --size
  std::uint64_t count = 0;              // --count: round trips, or messages for throughput
  std::uint64_t warmup = 0;             // --warmup (default count / 10)
  std::uint64_t throughput_count = 0;   // compare --throughput-count (default 10 x count)
  std::uint64_t throughput_warmup = 0;  // throughput: --warmup; compare: throughput_count / 10
  double rate_msgs_per_s = 0.0;         // --rate: 0 = back to back
  unsigned repeat = 1;                  // --repeat K
  OutputTarget json;
  OutputTarget csv;
  std::string plot_path;                // --plot FILE.png
  // Hidden, for tests and debugging:
  std::string peer_executable;          // --peer-exe: what to spawn as the peer
  std::chrono::milliseconds peer_start_timeout{5'000};
  std::chrono::milliseconds stall_timeout{10'000};
};

// The peer's arguments (hidden subcommand "__peer").
struct PeerOptions {
  bool sink = false;          // --role sink (throughput) or echo (ping-pong)
  bool paced = false;         // --paced: the stream carries send times
  std::string transport;      // as selected by the tool
  std::string name;           // OpenParams::name
  std::string run_dir;        // OpenParams::run_dir
  std::string hint;           // the initiator's open() result
  std::size_t size_bytes = 64;
  std::uint64_t warmup = 0;
  std::uint64_t count = 0;
  int cpu = -1;
  long parent_pid = 0;
};

}  // namespace sluice::bench
