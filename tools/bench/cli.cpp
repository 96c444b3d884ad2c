#include "tools/bench/cli.hpp"

#include <CLI/CLI.hpp>

#include <sstream>

#include "tools/bench/errors.hpp"
#include "tools/bench/message.hpp"

namespace sluice::bench {
namespace {

constexpr long long default_ping_count = 100'000;
constexpr long long default_stream_count = 1'000'000;

// Values as signed so "--count -1" is reported, not wrapped around.
struct RawValues {
  long long size = 64;
  long long count = -1;
  long long warmup = -1;
  long long throughput_count = -1;
  double rate = 0.0;
  long long repeat = 1;
  long long peer_timeout_ms = 5'000;
  long long stall_timeout_ms = 10'000;
  std::string transports;
};

void add_common(CLI::App* cmd, BenchOptions& o, RawValues& v) {
  cmd->add_option("--size", v.size, "message size in bytes (>= 8; default 64)");
  cmd->add_option("--count", v.count, "measured round trips / messages");
  cmd->add_option("--warmup", v.warmup, "round trips / messages before measuring (default count/10)");
  cmd->add_option("--rate", v.rate,
                  "offered rate in msgs/s: of pings, or (throughput) of the stream, whose one-way latency "
                  "is then reported; corrected for coordinated omission (default: back to back)");
  cmd->add_option("--repeat", v.repeat, "run K times, report the median run and the spread");
  cmd->add_option("--json", o.json.path, "JSON per DESIGN §8, to stdout or =FILE")->expected(0, 1);
  cmd->add_option("--csv", o.csv.path, "CSV, to stdout or =FILE")->expected(0, 1);
  cmd->add_option("--plot", o.plot_path, "write a PNG plot with gnuplot");
  // Hidden (empty group): test hooks, not part of the interface.
  cmd->add_option("--peer-exe", o.peer_executable)->group("");
  cmd->add_option("--peer-timeout-ms", v.peer_timeout_ms)->group("");
  cmd->add_option("--stall-timeout-ms", v.stall_timeout_ms)->group("");
}

void add_peer(CLI::App& app, PeerOptions& p, std::string& role) {
  CLI::App* peer = app.add_subcommand("__peer", "")->group("");
  peer->add_option("--role", role)->required();
  peer->add_option("--transport", p.transport)->required();
  peer->add_option("--name", p.name)->required();
  peer->add_option("--run-dir", p.run_dir)->required();
  peer->add_option("--hint", p.hint);
  peer->add_option("--size", p.size_bytes)->required();
  peer->add_option("--warmup", p.warmup)->required();
  peer->add_option("--count", p.count)->required();
  peer->add_option("--cpu", p.cpu);
  peer->add_option("--parent", p.parent_pid)->required();
  peer->add_flag("--paced", p.paced);
}

std::uint64_t at_least_one(const char* option, long long value) {
  if (value < 1) throw UsageError(std::string(option) + " must be at least 1 (got " + std::to_string(value) + ")");
  return static_cast<std::uint64_t>(value);
}

void finish_bench_options(BenchOptions& o, const RawValues& v, CLI::App* cmd) {
  if (v.size < 0) throw UsageError("--size must be positive (got " + std::to_string(v.size) + ")");
  o.size_bytes = static_cast<std::size_t>(v.size);
  o.json.enabled = cmd->count("--json") > 0;
  o.csv.enabled = cmd->count("--csv") > 0;
  if (o.json.to_stdout() && o.csv.to_stdout()) {
    throw UsageError("--json and --csv cannot both write to stdout: give one of them =FILE");
  }
  const long long default_count = o.kind == BenchKind::throughput ? default_stream_count : default_ping_count;
  o.count = at_least_one("--count", v.count < 0 && cmd->count("--count") == 0 ? default_count : v.count);
  if (v.warmup < -1 || (cmd->count("--warmup") > 0 && v.warmup < 0)) {
    throw UsageError("--warmup must be 0 or more");
  }
  o.warmup = v.warmup >= 0 ? static_cast<std::uint64_t>(v.warmup) : o.count / 10;
  o.throughput_count = o.count;
  o.throughput_warmup = o.warmup;
  if (o.kind == BenchKind::compare) {
    o.throughput_count = at_least_one("--throughput-count", v.throughput_count < 0 && cmd->count("--throughput-count") == 0
                                                                ? static_cast<long long>(o.count) * 10
                                                                : v.throughput_count);
    o.throughput_warmup = o.throughput_count / 10;
  }
  if (v.rate < 0.0) throw UsageError("--rate must be positive");
  o.rate_msgs_per_s = v.rate;
  if (o.kind == BenchKind::throughput && v.rate > 0.0 && o.size_bytes < paced_message_min_bytes) {
    throw UsageError("--rate on throughput needs --size of at least " + std::to_string(paced_message_min_bytes) +
                     " (the seq and the send time)");
  }
  o.repeat = static_cast<unsigned>(at_least_one("--repeat", v.repeat));
  if (v.peer_timeout_ms < 1 || v.stall_timeout_ms < 1) throw UsageError("timeouts must be positive");
  o.peer_start_timeout = std::chrono::milliseconds(v.peer_timeout_ms);
  o.stall_timeout = std::chrono::milliseconds(v.stall_timeout_ms);
  if (!v.transports.empty()) {
    std::string list = v.transports;
    for (std::size_t start = 0; start <= list.size();) {
      const std::size_t comma = std::min(list.find(',', start), list.size());
      if (comma > start) o.only.push_back(list.substr(start, comma - start));
      start = comma + 1;
    }
  }
}

}  // namespace

Command parse_command_line(int argc, char** argv) {
  Command command;
  BenchOptions& o = command.bench;
  RawValues v;
  std::string role;

  CLI::App app{"sluice-bench: end-to-end latency and throughput of sluice and the alternatives, "
               "between two processes on this machine"};
  app.require_subcommand(1);
  CLI::App* pingpong = app.add_subcommand("pingpong", "round-trip latency histogram (min/p50/p90/p99/p99.9/max)");
  pingpong->add_option("--transport", o.transport, "shm:NAME?params, or a baseline name (see list)")->required();
  add_common(pingpong, o, v);
  CLI::App* throughput = app.add_subcommand("throughput", "one-way msgs/s and MB/s, receiver verifies every seq");
  throughput->add_option("--transport", o.transport, "shm:NAME?params, or a baseline name (see list)")->required();
  add_common(throughput, o, v);
  CLI::App* compare = app.add_subcommand("compare", "the same workloads over sluice and every baseline, side by side");
  compare->add_option("--transports", v.transports, "comma-separated subset of rows (default: all available)");
  compare->add_option("--throughput-count", v.throughput_count, "messages per throughput run (default 10 x count)");
  add_common(compare, o, v);
  CLI::App* list = app.add_subcommand("list", "the transports this binary can run");
  add_peer(app, command.peer, role);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    // app.exit() picks the help of the subcommand that was asked about.
    std::ostringstream out;
    app.exit(e, out, out);
    command.output = out.str();
    return command;
  } catch (const CLI::ParseError& e) {
    throw UsageError(std::string(e.what()) + " (see --help)");
  }

  if (list->parsed()) {
    command.kind = Command::Kind::list;
    return command;
  }
  if (app.got_subcommand("__peer")) {
    if (role != "echo" && role != "sink") throw UsageError("__peer --role must be echo or sink");
    command.peer.sink = role == "sink";
    command.kind = Command::Kind::peer;
    return command;
  }
  CLI::App* chosen = pingpong->parsed() ? pingpong : throughput->parsed() ? throughput : compare;
  o.kind = chosen == pingpong ? BenchKind::pingpong : chosen == throughput ? BenchKind::throughput : BenchKind::compare;
  finish_bench_options(o, v, chosen);
  command.kind = Command::Kind::bench;
  return command;
}

}  // namespace sluice::bench
