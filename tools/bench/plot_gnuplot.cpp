#include "tools/bench/plot_gnuplot.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <stdexcept>

#include "tools/bench/errors.hpp"

extern char** environ;

namespace sluice::bench {
namespace {

constexpr int gnuplot_timeout_ms = 30'000;

std::string find_gnuplot() {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = (dir.empty() ? "." : dir) + "/gnuplot";
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Twelve distinguishable colours: gnuplot's default cycle has eight, and
// compare draws up to eleven rows.
constexpr const char* colours[] = {"#204a87", "#cc0000", "#4e9a06", "#f57900", "#75507b", "#c4a000",
                                   "#06989a", "#8f5902", "#ef29b4", "#555753", "#729fcf", "#000000"};

const char* colour(int i) { return colours[i % 12]; }

// gnuplot single-quoted string: a quote is written twice.
std::string quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

std::string title_of(const Report& r) {
  const char* kind = r.kind == BenchKind::pingpong ? "pingpong" : r.kind == BenchKind::throughput ? "throughput" : "compare";
  return std::string("sluice-bench ") + kind + ", " + std::to_string(r.size_bytes) + "-byte messages";
}

void latency_panels(std::ostringstream& s, const Report& r) {
  int n = 0;
  for (const Row& row : r.rows) {
    if (!row.ping) continue;
    s << "$cdf" << n++ << " << EOD\n";
    for (const auto& p : row.ping->cdf) s << p.value_ns << " " << p.cumulative_fraction << "\n";
    s << "EOD\n";
  }
  auto plot_all = [&](const char* ycol) {
    s << "plot ";
    int i = 0;
    for (const Row& row : r.rows) {
      if (!row.ping) continue;
      s << (i ? ", " : "") << "$cdf" << i << " using 1:" << ycol << " with steps lw 2 lc rgb '"
        << colour(i) << "' title " << quoted(std::string(row.transport.info.name));
      ++i;
    }
    s << "\n";
  };
  s << "set grid\nset logscale x\nset xlabel 'round trip (ns)'\n";
  s << "set title 'RTT CDF'\nset ylabel 'fraction of round trips <= x'\nset yrange [0:1]\n"
       "set key bottom right\n";
  plot_all("2");
  s << "set title 'RTT tail: 1 - CDF (p99 = 1e-2, p99.9 = 1e-3)'\nset logscale y\n"
       "set ylabel 'fraction of round trips > x'\nset yrange [1e-6:1]\nset format y '1e%L'\n"
       "set key top right\n";
  plot_all("(1-$2)");
  s << "unset logscale\nset yrange [*:*]\nset format y '%g'\n";
}

void throughput_panel(std::ostringstream& s, const Report& r) {
  s << "$tp << EOD\n";
  for (const Row& row : r.rows) {
    // Datablock fields: double quotes group a label (names hold none).
    if (row.throughput) s << '"' << row.transport.info.name << "\" " << row.throughput->msgs_per_s << "\n";
  }
  s << "EOD\n";
  s << "set title 'one-way throughput'\nset ylabel 'messages / s'\nset xlabel ''\nunset logscale\n"
       "set style data histograms\nset style fill solid 0.8\nset boxwidth 0.8\nset xtics rotate by -30\n"
       "set yrange [0:*]\nset format y '%.1s%c'\n"
       "plot $tp using 2:xtic(1) notitle lc rgb '#3465a4', "
       "'' using 0:2:(sprintf('%.2fM', $2/1e6)) with labels offset 0,0.7 notitle\n";
}

std::string script(const Report& r, const std::string& png_path) {
  std::ostringstream s;
  const bool latency = r.kind != BenchKind::throughput;
  const bool bars = r.kind != BenchKind::pingpong &&
                    std::any_of(r.rows.begin(), r.rows.end(), [](const Row& row) { return row.throughput.has_value(); });
  const int panels = (latency ? 2 : 0) + (bars ? 1 : 0);
  s << "set terminal pngcairo size " << 520 * panels << ",480 noenhanced font ',9'\n";
  s << "set output " << quoted(png_path) << "\n";
  s << "set multiplot layout 1," << panels << " title " << quoted(title_of(r)) << "\n";
  if (latency) latency_panels(s, r);
  if (bars) throughput_panel(s, r);
  s << "unset multiplot\nset output\n";
  return s.str();
}

}  // namespace

void check_gnuplot_available() {
  if (find_gnuplot().empty()) {
    throw UsageError("--plot: gnuplot not found in PATH (install the gnuplot-nox package)");
  }
}

void render_plot(const Report& report, const std::string& png_path) {
  const std::string gnuplot = find_gnuplot();
  if (gnuplot.empty()) throw std::runtime_error("--plot: gnuplot not found in PATH");
  int in[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("--plot: pipe failed");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in[0], 0);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  char* argv[] = {const_cast<char*>(gnuplot.c_str()), nullptr};
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, gnuplot.c_str(), &actions, &attr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(in[0]);
  close(err[1]);
  if (rc != 0) {
    close(in[1]);
    close(err[0]);
    throw std::runtime_error("--plot: cannot start gnuplot: " + std::string(std::strerror(rc)));
  }
  const std::string text = script(report, png_path);
  // The script is small (a few hundred KB at most); gnuplot reads it all.
  std::size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = write(in[1], text.data() + off, text.size() - off);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
  }
  close(in[1]);
  std::string errors;
  const int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  pollfd fds[2] = {{err[0], POLLIN, 0}, {pidfd, POLLIN, 0}};
  bool timed_out = false;
  for (;;) {
    const int ready = poll(fds, 2, gnuplot_timeout_ms);
    if (ready == 0) {
      timed_out = true;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char buf[512];
      const ssize_t n = read(err[0], buf, sizeof buf);
      if (n > 0) {
        errors.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      fds[0].fd = -1;  // EOF: gnuplot closed stderr
    }
    if (fds[1].revents & POLLIN) break;
  }
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(err[0]);
  if (pidfd >= 0) close(pidfd);
  if (timed_out) throw std::runtime_error("--plot: gnuplot did not finish within 30 s");
  // gnuplot also writes warnings to stderr; only its exit status means failure.
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string first = errors.substr(0, errors.find('\n', errors.find_first_not_of("\n ")));
    throw std::runtime_error("--plot: gnuplot failed: " + (first.empty() ? std::string("exit status ") +
                                                                              std::to_string(WEXITSTATUS(status))
                                                                        : first));
  }
}

}  // namespace sluice::bench
