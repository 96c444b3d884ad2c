// A delivered message as the subscription's handler sees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace sluice {

class Message {
 public:
  Message(std::span<const std::byte> payload, std::uint64_t seq, std::uint32_t session_id,
          std::uint32_t stream_id, std::uint64_t timestamp_ns, bool reassembled) noexcept
      : payload_(payload),
        seq_(seq),
        session_id_(session_id),
        stream_id_(stream_id),
        timestamp_ns_(timestamp_ns),
        reassembled_(reassembled) {}

  // Valid only inside the handler: it points into the ring (or, for a
  // reassembled or broadcast message, into the subscription's buffer).
  std::span<const std::byte> payload() const noexcept { return payload_; }
  // Seq of the message's last frame (its only frame unless reassembled).
  std::uint64_t seq() const noexcept { return seq_; }
  std::uint32_t session_id() const noexcept { return session_id_; }
  std::uint32_t stream_id() const noexcept { return stream_id_; }
  std::uint64_t timestamp_ns() const noexcept { return timestamp_ns_; }
  bool reassembled() const noexcept { return reassembled_; }

 private:
  std::span<const std::byte> payload_;
  std::uint64_t seq_;
  std::uint32_t session_id_;
  std::uint32_t stream_id_;
  std::uint64_t timestamp_ns_;
  bool reassembled_;
};

}  // namespace sluice
