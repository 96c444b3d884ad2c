// RingConsumer: the consumer side shared by SpscRing and MpscRing.
//
// One thread (in one process) consumes. It walks committed frames from its
// position, hands each to the handler in place, and later zeroes what it
// read and publishes head: in batches (a quarter of the ring), or as soon
// as a poll finds nothing. Batching keeps the zeroing stores out of the
// store buffer in front of the consumer's next time-critical store and
// moves head's cache line rarely; zeroing keeps the rings' invariant that
// a length word the producers have not written this lap reads 0, so last
// lap's bytes are never taken for a commit.
// A producer may restart at the ring's start when it finds everything
// released (SpscRing: a drained ring reuses its first lines instead of
// walking to new ones); release() clears the last frame's length word last
// so that the producer can tell. The frame at offset 0 then carries
// LapRestart, and a consumer built with FollowsRestart::yes that has
// released everything looks there first: a restart found there is always
// the next frame, since the producer restarts only once everything before
// the position was released, so no frame can have gone to the position
// before it. Only when offset 0 holds none does it load its position, and
// then offset 0 again: a frame the producer wrote at the position after
// restarting (the lap wrapped around to it) is thus never taken for the
// next one, since the restarting frame was published before it and the
// later load sees it. (The producer pads rather than let a frame's payload
// cover the word the consumer waits on: that word only ever holds frame
// starts.) Looking at offset 0 first and taking the frame from there with
// the length already loaded, together with the producer's short path for
// a drained ring (SpscRing::offer), took the spsc ring's 64-byte ping-pong
// from 1.54-1.86x raw-cacheline to 1.15-1.39x with the vCPUs close
// (blocks taking turns in one process pair, as bench/layer_pingpong.cpp);
// this half alone gained nothing measurable, that one alone part of it.
// Streaming: a consumer that keeps up with a stream reads in batches a
// lead behind the producers (queue/stream_pacer.hpp), judged by a trailer
// word the producers raise as they write (ProgressWord).
// Ordering edges:
//  A1     acquire of each length word (queue/frame.hpp).
//  R2/A2  head is stored (release) after the frames below it were read and
//         zeroed; producers acquire head before reusing that space.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>

#include "queue/frame.hpp"
#include "queue/ring_layout.hpp"
#include "queue/stream_pacer.hpp"

namespace sluice::queue {

// Whether the producers may restart a drained ring at offset 0 (spsc), or
// only ever write at the next position (mpsc: an uncommitted claim in front
// of a committed frame would look like a restart and be skipped).
enum class FollowsRestart : bool { no, yes };

// The trailer word a streaming consumer watches while it waits for the
// producers' lead, and how long it may stand still while a stream still
// runs (queue/stream_pacer.hpp).
struct ProgressWord {
  TrailerSlot slot;
  std::chrono::nanoseconds end_still;
};

class RingConsumer {
 public:
  // Released bytes are handed back once this fraction of the ring is
  // pending, or sooner when a poll finds nothing.
  static constexpr std::size_t release_batch_fraction = 4;
  // Resumes at the head published in the region's trailer.
  RingConsumer(std::span<std::byte> region, RingGeometry geometry, FollowsRestart follows_restart,
               ProgressWord progress) noexcept;

  // Calls handler(const FrameView&) for up to `limit` committed frames in
  // order; padding is skipped. Returns how many were delivered (0 also while
  // it waits for a streaming producer's lead, see above), or why the frame
  // at the position is unreadable (the consumer stays at that frame; what it
  // read before it is handed back).
  template <class Handler>
  [[nodiscard]] std::expected<std::size_t, FrameError> poll(Handler&& handler,
                                                            std::size_t limit) noexcept;

  // True if a frame is committed at the position. A corrupt (misaligned)
  // position reads as data: poll() then reports it.
  bool has_data() const noexcept {
    return position_ % frame_alignment != 0 || load_length_acquire(at(position_)) != 0 ||
           restarted_lap().has_value();
  }
  // Hands back everything read so far now (e.g. before the consumer closes).
  void release_consumed() noexcept { release(position_); }
  std::uint64_t position() const noexcept { return position_; }

 private:
  std::byte* at(std::uint64_t position) const noexcept {
    return region_.data() + (position & (geometry_.capacity_bytes - 1));
  }
  // Where a poll stops: a lap past what was handed back (see poll), or
  // earlier while the pacer catches up after a hold.
  std::uint64_t read_end() const noexcept {
    return pacer_.read_end(position_, released_ + geometry_.capacity_bytes);
  }
  void release(std::uint64_t consumed) noexcept;
  void zero(std::uint64_t from, std::uint64_t to) noexcept;
  // A restarting frame the producer published at the start of the next lap.
  struct Restart {
    std::uint64_t lap_start;
    std::int32_t length;  // its length word, loaded (A1)
  };
  // The restarting frame at the start of the next lap, if the producer
  // restarted there. Only once this consumer released everything (the
  // producer restarts only then); see the class comment for when to look.
  // A restarting frame from an earlier lap was zeroed when released, so a
  // LapRestart seen here is this lap's.
  std::optional<Restart> restarted_lap() const noexcept {
    const std::uint64_t lap_start = (position_ | (geometry_.capacity_bytes - 1)) + 1;
    if (follows_restart_ == FollowsRestart::no || released_ != position_ ||
        lap_start - position_ == geometry_.capacity_bytes)
      return std::nullopt;
    const std::byte* start = at(lap_start);
    const std::int32_t length = load_length_acquire(start);  // A1
    if (length == 0 || !restarts_lap(start)) return std::nullopt;
    return Restart{lap_start, length};
  }

  std::span<std::byte> region_;
  RingGeometry geometry_;
  std::uint64_t position_;  // read up to here
  std::uint64_t released_;  // zeroed and published as head up to here
  std::uint64_t last_frame_ = 0;  // start of the last frame read (valid once one was)
  FollowsRestart follows_restart_;
  TrailerSlot progress_slot_;
  StreamPacer pacer_;
};

template <class Handler>
std::expected<std::size_t, FrameError> RingConsumer::poll(Handler&& handler,
                                                          std::size_t limit) noexcept {
  // The position came from shared memory at attach: a corrupt one must not
  // make us load a misaligned length word. Frames keep it aligned after.
  if (position_ % frame_alignment != 0) return std::unexpected(FrameError::Misaligned);
  // The tail is only a hint here (relaxed): every frame is still read
  // through its own length word.
  if (pacer_.holds_back(position_, [this] {
        return trailer_counter(region_, geometry_.capacity_bytes, progress_slot_)
            .load(std::memory_order_relaxed);
      }))
    return 0;
  const auto restart = restarted_lap();
  if (!restart && released_ == position_ && load_length_acquire(at(position_)) == 0) {  // A1
    // Nothing new and nothing to hand back: a spinning reader's every
    // poll but one, kept to these two loads (an spsc reader's idle poll,
    // call included, went from ~95 instructions to ~60 under callgrind;
    // each is time between a frame landing and the reader seeing it).
    // Ask for the line after the position's header meanwhile: when the
    // frame lands, its payload line then arrives with the header line
    // instead of after it.
    __builtin_prefetch(at(position_) + cache_line_bytes, 0);
    pacer_.after_idle_poll();
    return 0;
  }
  std::uint64_t position = position_;
  std::size_t delivered = 0;
  // Never a lap past what was handed back: a producer writes below
  // released_ + capacity only, and the bytes from there on are this lap's
  // frames that were read but not yet zeroed. Bounding by position_ instead
  // let a reader that had read frames it had not released yet, facing a
  // completely full ring, take the frame one lap old at the producer's tail
  // for a new one (seen with 4 KB messages: one per 2-4 M). The bound also
  // stops corrupt memory (a lap of padding frames) from leading around
  // forever. A streaming reader catching up stops earlier (read_end).
  std::uint64_t end = read_end();
  // The frame at the position's length word, once loaded (0: not yet).
  std::int32_t length = 0;
  const auto follow = [&](const Restart& restart) {
    // Skipped bytes are zero already: released last lap, unwritten since.
    position = position_ = released_ = restart.lap_start;
    end = read_end();
    length = restart.length;
  };
  if (restart) follow(*restart);
  while (delivered < limit && static_cast<std::int64_t>(end - position) > 0) {
    std::byte* frame = at(position);
    if (length == 0) {
      length = load_length_acquire(frame);  // A1
      if (length == 0) {
        __builtin_prefetch(frame + cache_line_bytes, 0);  // as for an idle poll above
        break;
      }
      // Before taking the frame at the position: offset 0 again (see above).
      if (position == position_) {
        if (const auto restart = restarted_lap()) {
          follow(*restart);
          continue;
        }
      }
    }
    const auto room = geometry_.capacity_bytes - (position & (geometry_.capacity_bytes - 1));
    auto view = check_loaded_frame(frame, length, room, geometry_.max_frame_bytes);
    if (!view) {
      position_ = position;
      release(position_);
      return std::unexpected(view.error());
    }
    if (!view->is_padding()) {
      handler(*view);
      ++delivered;
    }
    last_frame_ = position;
    // Only an spsc producer restarts laps; an mpsc frame's flag means nothing here.
    const std::uint16_t flags =
        follows_restart_ == FollowsRestart::yes && !view->is_padding() ? view->header().flags() : 0;
    position = next_frame_position(position, align_frame(view->frame_bytes()), flags);
    length = 0;
  }
  const bool idle = position == position_;
  pacer_.after_poll(position_, idle, delivered);
  position_ = position;
  if (position_ != released_ &&
      (idle || position_ - released_ >= geometry_.capacity_bytes / release_batch_fraction))
    release(position_);
  return delivered;
}

}  // namespace sluice::queue
