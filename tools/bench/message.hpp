// The workload's message format: the first 8 bytes carry the sequence
// number; in a paced stream (throughput --rate) the next 8 carry the
// message's scheduled send time (CLOCK_MONOTONIC ns, the same clock in
// both processes); the rest is a fixed pattern written once at set-up.
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

inline constexpr std::size_t paced_message_min_bytes = 16;

inline void stamp_send_ns(std::span<std::byte> msg, std::uint64_t ns) noexcept {
  std::memcpy(msg.data() + sizeof(std::uint64_t), &ns, sizeof ns);
}

inline std::uint64_t read_send_ns(std::span<const std::byte> msg) noexcept {
  std::uint64_t ns;
  std::memcpy(&ns, msg.data() + sizeof(std::uint64_t), sizeof ns);
  return ns;
}

// A recognisable, non-zero payload so a transport that delivers stale or
// zeroed bytes is not flattered.
inline void fill_pattern(std::span<std::byte> msg) noexcept {
  for (std::size_t i = 0; i < msg.size(); ++i) msg[i] = static_cast<std::byte>(0xA5 ^ (i * 7));
}

}  // namespace sluice::bench
