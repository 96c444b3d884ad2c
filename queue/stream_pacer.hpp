// StreamPacer: when a reader that keeps up with a stream should read.
//
// A reader that keeps up with a stream ends up reading the lines the writer
// is still filling (and the writer's tail, which moves with every frame),
// and both sides then slow to one line transfer per frame (measured on the
// 2-vCPU VM: 20-25 M msgs/s for an spsc reader whose handler does little,
// against 70 M and more for one that lags; 3.5 M for a broadcast reader
// with the vCPUs far apart). So once a reader has read a backlog
// (backlog_frames) with no empty poll in between, in one poll or in several
// (a reader polling one to seven frames at a time fell into the lock-step
// too), it holds back (its poll returns 0) until one of:
//  - the writer's progress is a lead ahead: read up to there, go on streaming;
//  - the progress word stood still for `still` (the stream ended): read as
//    frames land again;
//  - the writer is paced, not flat out: it wrote less than
//    paced_below_bytes_per_us (768 bytes a microsecond, 8 M msgs/s of
//    64-byte messages) in the hold's first `still`, or in hold_max. Read
//    up to the progress word, then frames as they land again: a hold is
//    the reader's latency, and a paced writer has the time between its
//    frames to absorb the line transfers anyway;
//  - the hold lasted hold_max and the writer was faster than that: read up
//    to the progress word, go on streaming.
// A hold that ends with the stream going on is followed by reading up to
// the progress word it saw, not up to the writer: reading on to the frames
// the writer is still filling (and the hardware prefetcher fetching the
// lines past them) put the reader back on the writer's heels, which slowed
// a writer to 15-25 M msgs/s for whole runs (read_end()).
// Faster than that counts as a stream because reading frame by
// frame costs the writer a line transfer per line: at 10 M msgs/s with the
// vCPUs far apart that fell behind (p50 40 us from the scheduled send)
// where streaming read it 5 us late; a writer doing 5-10 ns of work per
// message judged paced was held to 15-30 M msgs/s by the transfers.
// The frames a hold let pile up are not a new backlog.
// The bounds are times, not polls: a held poll costs from 5 ns to 100 ns
// and more with the host's placement of the vCPUs. Counted in polls, a
// writer slowed by a line transfer looked stopped (8 polls) in one
// placement, and a 10 M msgs/s paced stream was held for its whole lead
// (tens of microseconds) in another. A held reader looks at the progress
// word once per look_interval only: an spsc writer stores its tail with
// every frame, and a look on every poll made each of those stores wait for
// the line to come back (the writer held to a few M msgs/s when the vCPUs
// were far apart, so the hold measured the reader, not the writer).
// Request/response traffic (a few frames, then nothing) never enters this
// mode. The lead is at most a quarter of the ring, so a broadcast reader
// holding back is never lapped for it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace sluice::queue {

template <class Clock>
class BasicStreamPacer {
 public:
  static constexpr std::size_t backlog_frames = 8;
  static constexpr std::size_t lead_max_bytes = 32 * 1024;
  // Longest hold, the most latency a hold adds: a flat-out writer of
  // 64-byte messages makes a lead (32 KiB) in about 5 us when the vCPUs are
  // far apart; a writer at the paced rate makes 3 KiB in it.
  static constexpr std::chrono::nanoseconds hold_max{4000};
  // How often a held reader reads the progress word (see above).
  static constexpr std::chrono::nanoseconds look_interval{500};
  // A writer that writes less than this per microsecond is paced.
  static constexpr std::int64_t paced_below_bytes_per_us = 768;

  BasicStreamPacer(std::size_t capacity_bytes, std::chrono::nanoseconds still) noexcept
      : lead_bytes_(std::min(lead_max_bytes, capacity_bytes / 4)), still_(still) {}

  // Before a poll at `position`: whether to leave the frames alone this
  // poll. `read_tail()` loads the writer's progress: its tail, or a word
  // that moves in steps (a hint either way: every frame is still checked
  // on its own); it and the clock are read only while streaming.
  template <class ReadTail>
  bool holds_back(std::uint64_t position, ReadTail&& read_tail) noexcept {
    return streaming_ && waits_for_lead(position, read_tail);
  }
  // Where a poll at `position` stops, given the caller's own bound
  // `otherwise`: while it catches up after a hold, at the progress word
  // that ended the hold, never past `otherwise` (the word is another
  // process's, and may hold anything).
  std::uint64_t read_end(std::uint64_t position, std::uint64_t otherwise) const noexcept {
    const bool catching_up = streaming_ && ahead(lead_end_, position) > 0;
    return catching_up && ahead(otherwise, lead_end_) > 0 ? lead_end_ : otherwise;
  }
  // after_poll for a poll that moved nothing.
  void after_idle_poll() noexcept { run_frames_ = 0; }
  // After a poll that began at `start`: `idle` if it moved nothing,
  // `frames` delivered.
  void after_poll(std::uint64_t start, bool idle, std::size_t frames) noexcept {
    if (idle)
      after_idle_poll();
    else if (ahead(lead_end_, start) <= 0)  // not the catch-up after a hold
      run_frames_ += frames;
    if (run_frames_ >= backlog_frames) streaming_ = true;
  }

 private:
  using Time = typename Clock::time_point;

  // Out of line: a poll that does not stream keeps only the flag test.
  template <class ReadTail>
  [[gnu::noinline]] bool waits_for_lead(std::uint64_t position, ReadTail& read_tail) noexcept {
    // Up to the tail that ended the last hold, read without looking again:
    // an spsc writer stores its tail with every commit, so a reader taking
    // a few frames per poll would pull that line across once per poll.
    if (ahead(lead_end_, position) > 0) return false;
    const Time now = Clock::now();
    if (!holding_) {
      holding_ = true;
      hold_start_ = seen_at_ = looked_at_ = now;
      hold_tail_ = seen_tail_ = read_tail();
    } else if (now - looked_at_ >= look_interval) {
      looked_at_ = now;
      if (const std::uint64_t tail = read_tail(); tail != seen_tail_) {
        seen_tail_ = tail;
        seen_at_ = now;
      }
    }
    const std::uint64_t tail = seen_tail_;
    if (ahead(tail, position) >= static_cast<std::int64_t>(lead_bytes_)) return end_hold(tail, true);
    if (now - seen_at_ >= still_) return end_hold(tail, false);
    const std::int64_t made = ahead(tail, hold_tail_);
    const auto held = now - hold_start_;
    if (held >= still_ && made < paced_bytes(still_)) return end_hold(tail, false);
    if (held < hold_max) return true;
    return end_hold(tail, made >= paced_bytes(hold_max));
  }
  // What a writer at the paced rate writes in `d`.
  static constexpr std::int64_t paced_bytes(std::chrono::nanoseconds d) noexcept {
    return paced_below_bytes_per_us * d.count() / 1000;
  }
  // Signed: a progress hint (mpsc) may lag behind what was already read.
  static std::int64_t ahead(std::uint64_t a, std::uint64_t b) noexcept {
    return static_cast<std::int64_t>(a - b);
  }
  bool end_hold(std::uint64_t tail, bool streams_on) noexcept {
    holding_ = false;
    lead_end_ = tail;
    if (!streams_on) {
      streaming_ = false;  // read as frames land until the next backlog
      run_frames_ = 0;
    }
    return false;
  }

  // The flags first: a reader's poll looks at streaming_ and nothing else
  // here unless it streams.
  bool streaming_ = false;           // a backlog was read and the stream goes on
  bool holding_ = false;             // the last poll was held back
  std::size_t lead_bytes_;           // see lead_max_bytes
  std::chrono::nanoseconds still_;   // a still progress word this long ends a stream
  Time hold_start_{};                // when the current hold began
  std::uint64_t hold_tail_ = 0;      // the writer's progress then
  Time seen_at_{};                   // when the progress word last moved (or the hold began)
  Time looked_at_{};                 // when it was last read
  std::uint64_t seen_tail_ = 0;      // its value then
  std::uint64_t lead_end_ = 0;       // the progress that ended the last hold: read up to it
  std::size_t run_frames_ = 0;       // frames read since a poll last found none
};

using StreamPacer = BasicStreamPacer<std::chrono::steady_clock>;

}  // namespace sluice::queue
