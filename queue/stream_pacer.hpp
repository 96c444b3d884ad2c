// StreamPacer: when a reader that keeps up with a stream should read.
//
// A reader that keeps up with a stream ends up reading the lines the writer
// is still filling (and the writer's tail, which moves with every frame),
// and both sides then slow to one line transfer per frame (measured on the
// 2-vCPU VM: 20-25 M msgs/s for an spsc reader whose handler does little,
// against 80 M and more for one that lags; 3.5 M for a broadcast reader
// with the vCPUs far apart). So once a reader has read a backlog
// (backlog_frames) with no empty poll in between, in one poll or in several
// (a reader polling one to seven frames at a time fell into the lock-step
// too: 8-31 M), it reads only when the writer's tail is a lead ahead of it
// or has stopped moving for `end_polls` polls (the reader's choice: enough
// polls to see the tail move at full speed; for an spsc tail, which moves
// with every frame, two were too few when the host put the vCPUs far apart:
// the writer, slowed by the reader, looked stopped); meanwhile its poll
// returns 0.
// Request/response traffic (a few frames, then nothing) never enters this
// mode; a message that follows a stream waits at most those polls.
// The lead is at most a quarter of the ring, so a broadcast reader holding
// back is never lapped for it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace sluice::queue {

class StreamPacer {
 public:
  static constexpr std::size_t backlog_frames = 8;
  static constexpr std::size_t lead_max_bytes = 32 * 1024;

  StreamPacer(std::size_t capacity_bytes, std::uint32_t end_polls) noexcept
      : lead_bytes_(std::min(lead_max_bytes, capacity_bytes / 4)), end_polls_(end_polls) {}

  // Before a poll at `position`: whether to leave the frames alone this
  // poll. `read_tail()` loads the writer's progress: its tail, or a word
  // that moves in steps (a hint either way: every frame is still checked
  // on its own); it is called only while streaming.
  template <class ReadTail>
  bool holds_back(std::uint64_t position, ReadTail&& read_tail) noexcept {
    return streaming_ && waits_for_lead(position, read_tail);
  }
  // After a poll: `idle` if it moved nothing, `frames` delivered.
  void after_poll(bool idle, std::size_t frames) noexcept {
    run_frames_ = idle ? 0 : run_frames_ + frames;
    if (run_frames_ >= backlog_frames) streaming_ = true;
  }

 private:
  template <class ReadTail>
  bool waits_for_lead(std::uint64_t position, ReadTail& read_tail) noexcept {
    // Up to the tail that gave the lead, read without looking again: the
    // writer stores its tail with every commit, so a reader taking a few
    // frames per poll would pull that line across once per poll.
    if (static_cast<std::int64_t>(lead_end_ - position) > 0) return false;
    const std::uint64_t tail = read_tail();
    if (tail != seen_tail_) {
      seen_tail_ = tail;
      still_polls_ = 0;
    } else if (still_polls_ < end_polls_) {
      ++still_polls_;
    }
    // Signed: a progress hint (mpsc) may lag behind what was already read.
    if (static_cast<std::int64_t>(tail - position) >= static_cast<std::int64_t>(lead_bytes_)) {
      lead_end_ = tail;
      return false;
    }
    if (still_polls_ < end_polls_) return true;
    streaming_ = false;  // the stream ended: read as soon as frames land
    run_frames_ = 0;
    return false;
  }

  std::size_t lead_bytes_;         // see lead_max_bytes
  std::uint32_t end_polls_;        // polls of a still tail that end a stream
  std::uint64_t seen_tail_ = 0;    // the writer's tail at the last lead check
  std::uint32_t still_polls_ = 0;  // lead checks since that tail last moved
  std::uint64_t lead_end_ = 0;     // the tail seen a lead ahead: read up to it
  std::size_t run_frames_ = 0;     // frames read since a poll last found none
  bool streaming_ = false;         // a backlog was read and the stream goes on
};

}  // namespace sluice::queue
