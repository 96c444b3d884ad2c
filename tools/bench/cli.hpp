// Command line: CLI11 definitions of the subcommands and their options.
#pragma once

#include <string>

#include "tools/bench/options.hpp"

namespace sluice::bench {

struct Command {
  enum class Kind : std::uint8_t { bench, peer, list, done } kind = Kind::done;
  BenchOptions bench;
  PeerOptions peer;
  std::string output;  // kind == done: text to print (help), exit 0
};

// Throws UsageError with a one-line message on bad input.
Command parse_command_line(int argc, char** argv);

}  // namespace sluice::bench
