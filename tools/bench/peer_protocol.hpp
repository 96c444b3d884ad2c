// The control channel between the tool and its peer process.
//
// A SOCK_SEQPACKET socket pair, not the transport under test: it carries
// three kinds of fixed-size records, never during a measuring loop.
//   ready  peer opened the transport; text = its hint for on_peer_ready()
//   done   peer finished; counts/elapsed_ns filled for a throughput sink,
//          one_way too for a paced one
//   error  peer failed; text = one line saying why (the tool prints it)
// SEQPACKET keeps record boundaries and lets the supervisor peek at an
// error record (MSG_PEEK) without stealing it from the main thread.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "tools/bench/results.hpp"
#include "tools/bench/sequence_check.hpp"

namespace sluice::bench {

// The peer's end of the channel is always this descriptor number.
inline constexpr int peer_status_fd = 3;

enum class PeerMessageKind : std::uint32_t { ready = 1, done = 2, error = 3 };

struct PeerMessage {
  static constexpr std::uint32_t expected_magic = 0x534c4250;  // "SLBP"
  std::uint32_t magic = expected_magic;
  PeerMessageKind kind = PeerMessageKind::ready;
  SequenceCounts counts{};
  std::uint64_t elapsed_ns = 0;
  RttSummary one_way{};
  char text[256] = {};

  void set_text(std::string_view s) noexcept {
    const std::size_t n = s.size() < sizeof text - 1 ? s.size() : sizeof text - 1;
    std::memcpy(text, s.data(), n);
    text[n] = '\0';
  }
  std::string_view text_view() const noexcept { return {text, strnlen(text, sizeof text)}; }
};

}  // namespace sluice::bench
