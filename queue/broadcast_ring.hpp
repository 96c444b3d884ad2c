// BroadcastRing: one writer, any number of readers, each at its own pace.
//
// Threads/processes: one writer; readers in any process, each with a
// private position. Readers write nothing shared, so a slow or dead reader
// never slows the writer: it is lapped instead. There is no back-pressure.
//
// Algorithm (a seqlock per frame):
//  - The writer announces the bytes it is about to overwrite by storing
//    tail_intent = end of the new frame, then writes the frame, then stores
//    tail = tail_intent. Each lap ends in a padding frame, so every lap
//    starts with a frame at index 0.
//  - A reader consumes frames below tail. It copies a frame into its own
//    scratch buffer, then re-reads tail_intent: if the writer has meanwhile
//    claimed bytes a lap ahead of the frame, the copy may be torn, so it is
//    discarded, the loss is counted and the reader jumps to the writer's
//    current tail (always a frame boundary). Readers hand out copies, never
//    views into the ring: a view could be overwritten while in use.
// Ordering edges:
//  F1/F2  writer: intent store, release fence, frame bytes. Reader: frame
//         copy, acquire fence, intent load. If the copy saw any byte of the
//         new lap, the reader sees the new intent.
//  R3/A3  tail store after the frame; reader acquires tail before copying.
// The reader's copy races with the writer by design (it is validated
// afterwards); that one function is excluded from ThreadSanitizer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <expected>
#include <span>
#include <vector>

#include "queue/frame.hpp"
#include "queue/ring_layout.hpp"

namespace sluice::queue {

class BroadcastWriter {
 public:
  BroadcastWriter(std::span<std::byte> region, RingGeometry geometry) noexcept;

  // Never back-pressured: only TooLarge fails.
  [[nodiscard]] std::expected<Claim, RingError> try_claim(std::size_t payload_bytes) noexcept;
  // Returns the position after the frame, where the next one starts.
  std::uint64_t commit(const Claim& claim, const FrameFields& fields) noexcept;
  void abort(const Claim& claim) noexcept;  // published as padding
  [[nodiscard]] std::expected<std::uint64_t, RingError> offer(std::span<const std::byte> payload,
                                                              const FrameFields& fields) noexcept;
  std::uint64_t position() const noexcept { return tail_; }
  std::size_t max_payload_bytes() const noexcept {
    return geometry_.max_frame_bytes - frame_header_bytes;
  }

 private:
  std::byte* at(std::uint64_t position) const noexcept { return data_ + (position & mask_); }
  void publish_tail(std::uint64_t end) noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  std::uint64_t tail_;
};

enum class ReaderStart : std::uint8_t {
  Live,      // frames written from now on
  Earliest,  // the oldest lap still intact (replay)
};

class BroadcastReader {
 public:
  BroadcastReader(std::span<std::byte> region, RingGeometry geometry, ReaderStart start);

  // Calls handler(const FrameView&) on a private copy of up to `limit`
  // frames. Lapping is not an error: it is counted (lapped(), lost_bytes())
  // and the reader resumes at the writer's tail.
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, FrameError> poll(Handler&& handler,
                                                            std::size_t limit) noexcept;

  // Stream position of the next frame this reader will read.
  std::uint64_t position() const noexcept { return position_; }
  // Moves to `position` (one a reader saw in position() earlier) if it is a
  // frame boundary still intact in the ring; false and unmoved otherwise.
  // Walks the headers of up to a lap: a set-up cost, not for the hot path.
  bool seek(std::uint64_t position) noexcept;
  bool has_data() const noexcept { return position_ < writer_position(); }
  std::uint64_t lapped() const noexcept { return lapped_; }
  std::uint64_t lost_bytes() const noexcept { return lost_bytes_; }
  std::uint64_t writer_position() const noexcept;

 private:
  enum class Copy : std::uint8_t { Done, Lapped };
  std::atomic_ref<std::uint64_t> counter(TrailerSlot slot) const noexcept {
    return trailer_counter(region_, geometry_.capacity_bytes, slot);
  }
  bool is_lapped() const noexcept;
  std::uint64_t earliest_position() const noexcept;
  Copy copy_out(std::size_t bytes) noexcept;
  void resync() noexcept;
  std::expected<FrameView, FrameError> read_next(bool& lapped) noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  std::uint64_t position_;
  std::uint64_t lapped_ = 0;
  std::uint64_t lost_bytes_ = 0;
  std::vector<std::byte> scratch_;
};

template <class Handler>
std::expected<std::size_t, FrameError> BroadcastReader::poll(Handler&& handler,
                                                             std::size_t limit) noexcept {
  std::size_t delivered = 0;
  std::size_t padding_bytes = 0;
  while (delivered < limit) {
    bool lapped = false;
    auto frame = read_next(lapped);
    if (lapped) continue;  // resynchronised at the writer's tail
    if (!frame) {
      if (frame.error() == FrameError::NotCommitted) break;
      return std::unexpected(frame.error());
    }
    if (frame->is_padding()) {
      // Padding ends each lap (< max_frame <= capacity / 8) or stands for an
      // aborted claim. A capacity's worth in one call is corrupt memory (or
      // a writer aborting a lap): stop, or a corrupt lap of padding before a
      // far-away tail keeps this loop going for ever. The next poll resumes.
      padding_bytes += frame->frame_bytes();
      if (padding_bytes >= geometry_.capacity_bytes) break;
      continue;
    }
    handler(*frame);
    ++delivered;
  }
  return delivered;
}

}  // namespace sluice::queue
