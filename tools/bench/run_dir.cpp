#include "tools/bench/run_dir.hpp"

#include <dirent.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace sluice::bench {

const std::string& RunDir::path() {
  if (!path_.empty()) return path_;
  const char* tmp = std::getenv("TMPDIR");
  std::string base = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
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
  if (DIR* dir = opendir(path_.c_str())) {
    while (const dirent* entry = readdir(dir)) {
      const std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      unlink((path_ + "/" + name).c_str());
    }
    closedir(dir);
  }
  rmdir(path_.c_str());
  path_.clear();
}

}  // namespace sluice::bench
