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
// too: 8-31 M), it reads only when the writer's progress word is a lead
// ahead of it or has stood still for end_polls polls; meanwhile its poll
// returns 0.
// While it holds back it looks at the progress word only every
// look_interval_polls polls. An spsc writer stores its tail with every
// frame, so each look takes that line from the writer, whose next store
// then waits for it: looking at every poll, with the stream declared over
// after 8 still polls, made a slowed writer look stopped thousands of times
// per million frames in stretches where the host ran the vCPUs slowly, and
// the reader fell back into the lock-step (sluice-bench one-way spsc, same
// runs alternated: median 24.3 M msgs/s, 143 of 263 runs below 25 M, with
// the vCPUs far apart; 76.7 M and none below 25 M with a look every 8th
// poll and 64 still polls; 64 still polls with a look at every poll: 67 M,
// 1 below). The stepped words of mpsc and broadcast move once per 40-odd
// small frames at full speed, so the same 64 polls suit them.
// Request/response traffic (a few frames, then nothing) never enters this
// mode; a message that follows a stream waits at most end_polls polls.
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
  static constexpr std::uint32_t look_interval_polls = 8;
  static constexpr std::uint32_t end_polls = 64;
  static_assert(end_polls % look_interval_polls == 0, "the stream ends at a look");

  explicit StreamPacer(std::size_t capacity_bytes) noexcept
      : lead_bytes_(std::min(lead_max_bytes, capacity_bytes / 4)) {}

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
    if (still_polls_ % look_interval_polls == 0) {
      const std::uint64_t tail = read_tail();
      if (tail != seen_tail_) {
        seen_tail_ = tail;
        still_polls_ = 0;
      }
      // Signed: a progress hint (mpsc) may lag behind what was already read.
      if (static_cast<std::int64_t>(tail - position) >= static_cast<std::int64_t>(lead_bytes_)) {
        lead_end_ = tail;
        return false;
      }
    }
    if (still_polls_ < end_polls) {
      ++still_polls_;
      return true;
    }
    streaming_ = false;  // the stream ended: read as soon as frames land
    run_frames_ = 0;
    still_polls_ = 0;
    return false;
  }

  std::size_t lead_bytes_;         // see lead_max_bytes
  std::uint64_t seen_tail_ = 0;    // the progress word at the last look
  std::uint32_t still_polls_ = 0;  // held-back polls since it last moved
  std::uint64_t lead_end_ = 0;     // the tail seen a lead ahead: read up to it
  std::size_t run_frames_ = 0;     // frames read since a poll last found none
  bool streaming_ = false;         // a backlog was read and the stream goes on
};

}  // namespace sluice::queue
