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
