// Output files (--json=FILE, --csv=FILE, --plot FILE): checked before any
// run starts, so a typo costs seconds, not a whole benchmark.
#pragma once

#include <string>

namespace sluice::bench {

// Throws UsageError ("<option>: cannot write <path>: <reason>") unless the
// path can be created or overwritten. Leaves no file behind.
void check_writable(const std::string& option, const std::string& path);

// Writes via a temporary file in the same directory and rename(), so a
// reader never sees half a file. Throws std::runtime_error.
void write_file(const std::string& path, const std::string& content);

}  // namespace sluice::bench
