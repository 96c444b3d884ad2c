#include "tools/bench/run_dir.hpp"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace sluice::bench {
namespace {

constexpr std::string_view prefix = "sluice-bench-";

std::string temp_base() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

// The <pid> of a name containing "sluice-bench-<pid>-" (at the start for our
// own names, after a prefix for segments a transport names after the run,
// e.g. sluice's "sluice-sluice-bench-<pid>-1-ping").
// `anywhere` = false: only names that start with the prefix (the run
// directories; $TMPDIR holds other people's files too).
std::optional<pid_t> owner_pid(std::string_view name, bool anywhere) {
  const auto at = name.find(prefix);
  if (at == std::string_view::npos || (at != 0 && !anywhere)) return std::nullopt;
  name.remove_prefix(at + prefix.size());
  pid_t pid = 0;
  const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), pid);
  if (ec != std::errc{} || pid <= 0 || end == name.data() + name.size() || *end != '-') return std::nullopt;
  return pid;
}

bool is_dead(pid_t pid) { return kill(pid, 0) != 0 && errno == ESRCH; }

void remove_dir_entries(const std::string& path) {
  if (DIR* dir = opendir(path.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name != "." && name != "..") unlink((path + "/" + name).c_str());
    }
    closedir(dir);
  }
}

template <class Action>
void for_each_stale(const std::string& dir_path, bool anywhere, Action action) {
  DIR* dir = opendir(dir_path.c_str());
  if (dir == nullptr) return;
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    const auto pid = owner_pid(name, anywhere);
    if (pid && *pid != getpid() && is_dead(*pid)) action(dir_path + "/" + name);
  }
  closedir(dir);
}

}  // namespace

void remove_stale_leftovers() noexcept {
  for_each_stale("/dev/shm", /*anywhere=*/true, [](const std::string& path) { unlink(path.c_str()); });
  for_each_stale(temp_base(), /*anywhere=*/false, [](const std::string& path) {
    remove_dir_entries(path);
    rmdir(path.c_str());
  });
}

const std::string& RunDir::path() {
  if (!path_.empty()) return path_;
  const std::string base = temp_base();
  std::string templ = base + "/sluice-bench-" + std::to_string(getpid()) + "-XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    throw std::runtime_error("cannot create run directory under " + base + ": " + std::strerror(errno));
  }
  path_ = buf.data();
  return path_;
}

std::string RunDir::next_name() {
  return "sluice-bench-" + std::to_string(getpid()) + "-" + std::to_string(++runs_);
}

void RunDir::remove() noexcept {
  if (path_.empty()) return;
  remove_dir_entries(path_);
  rmdir(path_.c_str());
  path_.clear();
}

}  // namespace sluice::bench
