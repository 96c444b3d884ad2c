#include "tests/tools/tool_runner.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

extern char** environ;

namespace sluice::bench::test {
namespace {

// Subreaper from the start: set before the first tool runs.
[[maybe_unused]] const bool subreaper = prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;

pid_t parent_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return -1;
  // Field 4 follows the ")" that closes the command name.
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  char state;
  pid_t ppid = -1;
  rest >> state >> ppid;
  return ppid;
}

void remove_tree(const std::string& path) {
  if (DIR* dir = opendir(path.c_str())) {
    while (const dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = path + "/" + name;
      if (e->d_type == DT_DIR) {
        remove_tree(child);
      } else {
        unlink(child.c_str());
      }
    }
    closedir(dir);
  }
  rmdir(path.c_str());
}

}  // namespace

std::string tool_path() {
  const char* p = std::getenv("SLUICE_BENCH");
  if (p == nullptr) throw std::runtime_error("SLUICE_BENCH is not set (run through meson test)");
  return p;
}

TempDir::TempDir() {
  char templ[] = "/tmp/sluice-bench-test-XXXXXX";
  if (mkdtemp(templ) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() { remove_tree(path_); }

std::vector<std::string> TempDir::entries() const {
  std::vector<std::string> names;
  if (DIR* dir = opendir(path_.c_str())) {
    while (const dirent* e = readdir(dir)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(dir);
  }
  return names;
}

ToolRun run_tool(const std::vector<std::string>& args, const ToolOptions& options) {
  int out[2], err[2];
  if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) throw std::runtime_error("pipe");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, out[1], 1);
  posix_spawn_file_actions_adddup2(&actions, err[1], 2);
  const std::string tool = tool_path();
  std::vector<char*> argv{const_cast<char*>(tool.c_str())};
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  std::vector<std::string> env_storage;
  std::vector<std::string> overrides = options.env;
  if (!options.tmpdir.empty()) overrides.push_back("TMPDIR=" + options.tmpdir);
  const auto overridden = [&](const std::string& entry) {
    const std::string name = entry.substr(0, entry.find('=') + 1);
    for (const auto& o : overrides) {
      if (o.rfind(name, 0) == 0) return true;
    }
    return false;
  };
  for (char** e = environ; *e != nullptr; ++e) {
    if (!overridden(*e)) env_storage.emplace_back(*e);
  }
  env_storage.insert(env_storage.end(), overrides.begin(), overrides.end());
  std::vector<char*> envp;
  for (auto& e : env_storage) envp.push_back(e.data());
  envp.push_back(nullptr);

  ToolRun run;
  const auto start = std::chrono::steady_clock::now();
  const int rc = posix_spawn(&run.pid, tool.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out[1]);
  close(err[1]);
  if (rc != 0) throw std::runtime_error("posix_spawn " + tool + " failed");
  if (options.on_started != nullptr) options.on_started(run.pid, options.context);

  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  const auto deadline = start + options.timeout;
  while (fds[0].fd >= 0 || fds[1].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      kill(run.pid, SIGKILL);  // by its own pid
      break;
    }
    if (poll(fds, 2, static_cast<int>(left.count())) <= 0) continue;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[4096];
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        (i == 0 ? run.out : run.err).append(buf, static_cast<std::size_t>(n));
      } else {
        fds[i].fd = -1;
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(run.pid, &status, 0);
  run.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return run;
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> kids;
  if (DIR* proc = opendir("/proc")) {
    while (const dirent* e = readdir(proc)) {
      char* end = nullptr;
      const long pid = std::strtol(e->d_name, &end, 10);
      if (*end != '\0' || pid <= 0) continue;
      if (parent_of(static_cast<pid_t>(pid)) == parent) kids.push_back(static_cast<pid_t>(pid));
    }
    closedir(proc);
  }
  return kids;
}

std::vector<pid_t> leftover_children() {
  std::vector<pid_t> left = children_of(getpid());
  // Zombies re-parented to us count too (they were not reaped by the tool).
  for (pid_t pid; (pid = waitpid(-1, nullptr, WNOHANG)) > 0;) left.push_back(pid);
  return left;
}

std::vector<std::string> shm_leftovers(const std::vector<pid_t>& pids) {
  std::vector<std::string> names;
  DIR* dir = opendir("/dev/shm");
  if (dir == nullptr) return names;
  while (const dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    for (pid_t pid : pids) {
      const std::string id = std::to_string(pid);
      const std::string suffix = "-" + id;
      const bool run_name = name.find("sluice-bench-" + id + "-") != std::string::npos;
      const bool per_process = name.size() > suffix.size() &&
                               name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
      if (run_name || per_process) {
        names.push_back(name);
        break;
      }
    }
  }
  closedir(dir);
  return names;
}

std::size_t line_count(const std::string& s) {
  std::size_t lines = 0;
  for (char c : s) lines += c == '\n';
  if (!s.empty() && s.back() != '\n') ++lines;
  return lines;
}

}  // namespace sluice::bench::test
