// sluice-bench: entry point. Parses, validates everything that can be
// checked up front, runs the subcommand under the supervisor, writes the
// outputs. Exit codes: 0 ok, 1 a run failed, 2 bad input, 128+N on signal N.
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <iostream>

#include "tools/bench/bench_runner.hpp"
#include "tools/bench/cli.hpp"
#include "tools/bench/commands.hpp"
#include "tools/bench/errors.hpp"
#include "tools/bench/machine_info.hpp"
#include "tools/bench/output_file.hpp"
#include "tools/bench/peer_main.hpp"
#include "tools/bench/plot_gnuplot.hpp"
#include "tools/bench/report.hpp"
#include "tools/bench/supervisor.hpp"
#include "tools/bench/transport_registry.hpp"

namespace sluice::bench {
namespace {

int usage_error(const std::string& message) {
  std::fprintf(stderr, "sluice-bench: error: %s\n", message.c_str());
  return exit_usage;
}

std::string own_executable() {
  char buf[PATH_MAX];
  const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) throw std::runtime_error("cannot resolve /proc/self/exe");
  return std::string(buf, static_cast<std::size_t>(n));
}

void print_list() {
  for (const SelectedTransport& t : available_transports()) {
    std::printf("%-18s %-8s %s\n", std::string(t.info.name).c_str(),
                t.info.wait == WaitMode::spin ? "spin" : "blocking", std::string(t.info.summary).c_str());
  }
  if (!have_sluice_shm()) std::printf("(sluice-shm / shm:NAME: not built in: tools/bench/transport_sluice.cpp missing)\n");
}

// Fails fast on everything checkable before a run starts.
void check_outputs(const BenchOptions& o) {
  if (o.json.enabled && !o.json.path.empty()) check_writable("--json", o.json.path);
  if (o.csv.enabled && !o.csv.path.empty()) check_writable("--csv", o.csv.path);
  if (!o.plot_path.empty()) {
    check_gnuplot_available();
    check_writable("--plot", o.plot_path);
  }
}

void emit(const OutputTarget& target, const std::string& text) {
  if (!target.enabled) return;
  if (target.path.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
  } else {
    write_file(target.path, text);
  }
}

int run_bench(const BenchOptions& options) {
  validate_request(options);
  check_outputs(options);
  Supervisor supervisor({.stall_timeout = options.stall_timeout, .progress_bar = isatty(STDERR_FILENO) == 1});
  try {
    BenchRunner runner(supervisor, {.peer_executable = options.peer_executable.empty() ? own_executable()
                                                                                        : options.peer_executable,
                                    .peer_start_timeout = options.peer_start_timeout});
    const Report report = options.kind == BenchKind::pingpong     ? run_pingpong(runner, options)
                          : options.kind == BenchKind::throughput ? run_throughput(runner, options)
                                                                  : run_compare(runner, options);
    const Environment env = describe_environment(runner.clock(), runner.cpus());
    supervisor.hide_progress();
    if (!options.json.to_stdout() && !options.csv.to_stdout()) {
      const std::string table = render_table(report, env);
      std::fwrite(table.data(), 1, table.size(), stdout);
    }
    emit(options.json, render_json(report, env));
    emit(options.csv, render_csv(report));
    if (!options.plot_path.empty()) render_plot(report, options.plot_path);
    std::fflush(stdout);
  } catch (const UsageError& e) {
    supervisor.fail(e.what(), exit_usage);
  } catch (const std::exception& e) {
    supervisor.fail(e.what(), exit_failure);
  }
  return exit_ok;
}

}  // namespace
}  // namespace sluice::bench

int main(int argc, char** argv) {
  using namespace sluice::bench;
  Command command;
  try {
    command = parse_command_line(argc, argv);
  } catch (const UsageError& e) {
    return usage_error(e.what());
  }
  switch (command.kind) {
    case Command::Kind::done:
      std::fputs(command.output.c_str(), stdout);
      return exit_ok;
    case Command::Kind::list:
      print_list();
      return exit_ok;
    case Command::Kind::peer:
      return peer_main(command.peer);
    case Command::Kind::bench:
      break;
  }
  try {
    return run_bench(command.bench);
  } catch (const UsageError& e) {
    return usage_error(e.what());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sluice-bench: error: %s\n", e.what());
    return exit_failure;
  }
}
