#include "tools/bench/transport_registry.hpp"

#include <algorithm>

#include "bench/baselines/baselines.hpp"
#include "tools/bench/errors.hpp"
#include "tools/bench/transport_sluice.hpp"

namespace sluice::bench {

bool have_sluice_shm() noexcept {
#ifdef SLUICE_BENCH_HAVE_SLUICE_SHM
  return true;
#else
  return false;
#endif
}

std::vector<SelectedTransport> available_transports() {
  std::vector<SelectedTransport> rows;
#ifdef SLUICE_BENCH_HAVE_SLUICE_SHM
  rows.push_back({sluice_shm_transport(), default_sluice_shm_uri, "shm"});
#endif
  for (const TransportInfo& info : baselines::all()) {
    rows.push_back({info, std::string(info.name), std::string(info.name)});
  }
  return rows;
}

SelectedTransport select_transport(std::string_view spec) {
  if (spec.starts_with("shm:") || spec == "sluice-shm") {
    if (!have_sluice_shm()) {
      throw UsageError("transport '" + std::string(spec) +
                       "': the sluice shm adapter is not built into this sluice-bench "
                       "(tools/bench/transport_sluice.cpp missing)");
    }
    const std::string uri = spec == "sluice-shm" ? default_sluice_shm_uri : std::string(spec);
    return {sluice_shm_transport(uri), uri, "shm"};
  }
  for (auto& row : available_transports()) {
    if (row.info.name == spec) return row;
  }
  std::string names;
  for (const auto& row : available_transports()) {
    if (!names.empty()) names.append(", ");
    names.append(row.info.name);
  }
  throw UsageError("unknown transport '" + std::string(spec) + "' (known: " + names +
                   (have_sluice_shm() ? ", shm:NAME" : "") + ")");
}

std::vector<SelectedTransport> compare_transports(const std::vector<std::string>& only) {
  if (only.empty()) return available_transports();
  std::vector<SelectedTransport> wanted;
  for (const auto& spec : only) wanted.push_back(select_transport(spec));  // throws on unknown
  // Canonical order, each row once, whatever order they were asked in.
  std::vector<SelectedTransport> rows;
  for (const auto& row : available_transports()) {
    const auto it = std::find_if(wanted.begin(), wanted.end(), [&](const SelectedTransport& w) {
      return w.info.name == row.info.name;
    });
    if (it != wanted.end()) rows.push_back(*it);
  }
  return rows;
}

}  // namespace sluice::bench
