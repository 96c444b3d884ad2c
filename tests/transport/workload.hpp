// The deterministic message stream every test publisher sends: message i of
// a stream has a size and content that depend only on (seed, i), so a
// subscriber checks each message without being told what was sent.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice::test {

inline std::uint64_t mix(std::uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  return x ^ (x >> 33);
}

inline std::size_t message_size(std::uint64_t seed, std::uint64_t i, std::size_t max_bytes) {
  return mix(seed ^ (i * 0x9e3779b97f4a7c15ull)) % (max_bytes + 1);
}

inline std::byte message_byte(std::uint64_t seed, std::uint64_t i, std::size_t k) {
  return std::byte(mix(seed + i) >> (8 * (k % 8)) ^ k);
}

inline void fill_message(std::span<std::byte> out, std::uint64_t seed, std::uint64_t i) {
  for (std::size_t k = 0; k < out.size(); ++k) out[k] = message_byte(seed, i, k);
}

inline bool message_matches(std::span<const std::byte> got, std::uint64_t seed, std::uint64_t i,
                            std::size_t max_bytes) {
  if (got.size() != message_size(seed, i, max_bytes)) return false;
  for (std::size_t k = 0; k < got.size(); ++k)
    if (got[k] != message_byte(seed, i, k)) return false;
  return true;
}

}  // namespace sluice::test
