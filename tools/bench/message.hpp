// The workload's message format: the first 8 bytes carry the sequence
// number; the rest is a fixed pattern written once at set-up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>

namespace sluice::bench {

// Sent after the last data message of a throughput run; never a valid seq.
inline constexpr std::uint64_t end_marker_seq = UINT64_MAX;

inline void stamp_seq(std::span<std::byte> msg, std::uint64_t seq) noexcept {
  std::memcpy(msg.data(), &seq, sizeof seq);
}

inline std::uint64_t read_seq(std::span<const std::byte> msg) noexcept {
  std::uint64_t seq;
  std::memcpy(&seq, msg.data(), sizeof seq);
  return seq;
}

// A recognisable, non-zero payload so a transport that delivers stale or
// zeroed bytes is not flattered.
inline void fill_pattern(std::span<std::byte> msg) noexcept {
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::byte>(0xA5 ^ (i * 7));
}

}  // namespace sluice::bench
