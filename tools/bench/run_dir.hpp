// RunDir: the private directory and the names one tool process uses.
//
// Socket files live in a directory made with mkdtemp under $TMPDIR (or
// /tmp), named after the tool's pid; shared-memory names are
// "sluice-bench-<pid>-<n>". Everything a run leaves behind is therefore
// attributable to one pid, and remove() (also run by the supervisor when
// the tool dies) deletes the directory and whatever is in it.
#pragma once

#include <string>

namespace sluice::bench {

// Removes what an earlier sluice-bench left behind when it was SIGKILLed
// (nothing else can clean up after SIGKILL): /dev/shm entries whose name
// contains "sluice-bench-<pid>-" and $TMPDIR entries "sluice-bench-<pid>-..."
// whose <pid> no longer exists. A live pid (or a reused one) is left alone.
void remove_stale_leftovers() noexcept;

class RunDir {
 public:
  RunDir() = default;
  ~RunDir() { remove(); }
  RunDir(const RunDir&) = delete;
  RunDir& operator=(const RunDir&) = delete;

  // Creates the directory on first use. Throws std::runtime_error.
  const std::string& path();
  // "sluice-bench-<pid>-<n>", n counting runs in this process.
  std::string next_name();
  // Deletes the directory and its entries (best effort, idempotent).
  void remove() noexcept;

 private:
  std::string path_;
  unsigned runs_ = 0;
};

}  // namespace sluice::bench
