// BroadcastRing: one writer, any number of readers, each at its own pace.
//
// Threads/processes: one writer; readers in any process, each with a
// private position. Readers write nothing shared, so a slow or dead reader
// never slows the writer: it is lapped instead. There is no back-pressure.
//
// Algorithm (a seqlock per frame):
//  - The writer announces the bytes it is about to overwrite by storing
//    tail_intent >= end of the new frame, then writes the frame, then
//    stores tail = end of the frame. The intent moves in steps (4 KiB, at
//    most 1/16 of the ring) rather than per frame, so readers judge laps
//    up to a step early and the word changes rarely. Each lap ends in a
//    padding frame, so every lap starts with a frame at index 0.
//  - With each new step of intent, the writer evicts the step's lines
//    evict_ahead_max_bytes further on from every cache (CLFLUSHOPT;
//    contents unchanged). Lines a reader copied last lap sit shared in that
//    reader's cache, and reusing them held a writer with one reader to 4.3
//    M msgs/s where the host put the vCPUs far apart (95 M and more on
//    lines no reader had read: a ring larger than the run). With the
//    eviction, sluice-bench throughput went 4.3 -> 42-63 M msgs/s far apart
//    and 37-42 -> 78-84 M close; a writer that outruns its reader now laps
//    it (counted) instead of being held to its pace. The cost is the burst:
//    broadcast ping-pong p99 318 -> 361 ns close, p50 unchanged (a line or
//    two per frame instead cost the p50 13 ns).
//  - A reader consumes frames below tail, a batch per poll: it reads tail
//    once, copies the frames below it into its own scratch buffer, then
//    re-reads tail_intent once: if the writer has meanwhile claimed bytes a
//    lap ahead of the batch's first frame, a copy may be torn, so the batch
//    is discarded, the loss is counted and the reader jumps to the writer's
//    current tail (always a frame boundary). Readers hand out copies, never
//    views into the ring: a view could be overwritten while in use.
//    Read per frame, the trailer words would cross between the cores once
//    per frame (3.5 M msgs/s one-way with the vCPUs far apart, against 64 M
//    for spsc). A streaming reader that waits for the writer's lead watches
//    the intent, not the tail: a process that only spins on the tail word
//    slows the writer from 115 M msgs/s to 46 M.
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
#include "queue/stream_pacer.hpp"

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

  // How far past its intent the writer evicts lines (at most a quarter of
  // the ring, so never the lines a streaming reader is reading).
  static constexpr std::size_t evict_ahead_max_bytes = 32 * 1024;

 private:
  std::byte* at(std::uint64_t position) const noexcept { return data_ + (position & mask_); }
  void publish_tail(std::uint64_t end) noexcept;
  // Evicts the lines evict_ahead_ past the intent step(s) [from, to).
  void evict_ahead(std::uint64_t from, std::uint64_t to) const noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  std::uint64_t tail_;
  std::uint64_t intent_step_;  // power of two
  std::uint64_t announced_;    // the intent last stored
  std::uint64_t evict_ahead_;  // 0 where lines cannot be evicted
};

enum class ReaderStart : std::uint8_t {
  Live,      // frames written from now on
  Earliest,  // the oldest lap still intact (replay)
};

class BroadcastReader {
 public:
  // How long a still writer ends a stream (the intent it watches moves
  // in steps).
  static constexpr std::chrono::nanoseconds stream_end_still = stepped_progress_end_still;

  BroadcastReader(std::span<std::byte> region, RingGeometry geometry, ReaderStart start);

  // Calls handler(const FrameView&) on a private copy of up to `limit`
  // frames (fewer if they do not fit the scratch buffer; none while it
  // waits for a streaming writer's lead, queue/stream_pacer.hpp). Lapping
  // is not an error: it is counted (lapped(), lost_bytes()) and the reader
  // resumes at the writer's tail. A corrupt frame is reported once the
  // frames before it were delivered, and the reader stays at it.
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, FrameError> poll(Handler&& handler,
                                                            std::size_t limit) noexcept;

  // Stream position of the next frame this reader will read.
  std::uint64_t position() const noexcept { return position_; }
  // Inside poll's handler: the stream position of the frame it was handed
  // (a position a reader may seek() to, e.g. a message's first fragment).
  std::uint64_t delivering_position() const noexcept { return delivering_; }
  // Moves to `position` (one a reader saw in position() earlier) if it is a
  // frame boundary still intact in the ring; false and unmoved otherwise.
  // Walks the headers of up to a lap: a set-up cost, not for the hot path.
  bool seek(std::uint64_t position) noexcept;
  bool has_data() const noexcept { return position_ < writer_position(); }
  std::uint64_t lapped() const noexcept { return lapped_; }
  std::uint64_t lost_bytes() const noexcept { return lost_bytes_; }
  std::uint64_t writer_position() const noexcept;

 private:
  // Scratch beyond one max frame, so a batch holds many small frames.
  static constexpr std::size_t batch_bytes = 16 * 1024;
  std::atomic_ref<std::uint64_t> counter(TrailerSlot slot) const noexcept {
    return trailer_counter(region_, geometry_.capacity_bytes, slot);
  }
  // Whether the writer may have overwritten bytes at or after `from`
  // copied before this call.
  bool lapped_since(std::uint64_t from) const noexcept;
  std::uint64_t earliest_position() const noexcept;
  // Copies the data frames that start in [position_, end) into scratch_,
  // back to back and 32-byte aligned, and their positions into
  // frame_positions_: at most `limit` and what fits.
  // Padding is skipped. Advances past them and returns how many, 0 after a
  // lap (then resynchronised), or the error of the frame at the position.
  std::expected<std::size_t, FrameError> copy_batch(std::size_t limit, std::uint64_t end) noexcept;
  void resync() noexcept;

  std::span<std::byte> region_;
  std::byte* data_;
  RingGeometry geometry_;
  std::uint64_t mask_;
  std::uint64_t position_;
  std::uint64_t lapped_ = 0;
  std::uint64_t lost_bytes_ = 0;
  StreamPacer pacer_;
  std::vector<std::byte> scratch_;
  std::vector<std::uint64_t> frame_positions_;  // of the frames in scratch_, one per header it can hold
  std::uint64_t delivering_ = 0;
};

template <class Handler>
std::expected<std::size_t, FrameError> BroadcastReader::poll(Handler&& handler,
                                                             std::size_t limit) noexcept {
  if (pacer_.holds_back(position_, [this] {
        return counter(TrailerSlot::TailIntent).load(std::memory_order_relaxed);
      }))
    return 0;
  const std::uint64_t before = position_;
  auto copied = copy_batch(limit, pacer_.read_end(position_, writer_position()));
  if (!copied) return copied;
  pacer_.after_poll(before, position_ == before, *copied);
  const std::byte* frame = scratch_.data();
  for (std::size_t i = 0; i < *copied; ++i) {
    std::int32_t length;
    std::memcpy(&length, frame, sizeof length);
    delivering_ = frame_positions_[i];
    handler(FrameView(frame, length));
    frame += align_frame(static_cast<std::size_t>(length));
  }
  return copied;
}

}  // namespace sluice::queue
