#include "queue/broadcast_ring.hpp"

#include <algorithm>
#include <cstring>
#include <optional>
#include <tuple>

namespace sluice::queue {

namespace {

// The seqlock edges F1/F2. GCC refuses stand-alone fences under
// -fsanitize=thread (ThreadSanitizer does not model them), so the
// sanitized build makes the same edges with read-modify-writes, which it
// does model; the normal build keeps the cheaper store/load + fence.
#if defined(__SANITIZE_THREAD__)
void announce_intent(std::atomic_ref<std::uint64_t> intent, std::uint64_t end) noexcept {
  intent.exchange(end, std::memory_order_acq_rel);
}
std::uint64_t intent_after_copy(std::atomic_ref<std::uint64_t> intent) noexcept {
  return intent.fetch_add(0, std::memory_order_acq_rel);
}
#else
void announce_intent(std::atomic_ref<std::uint64_t> intent, std::uint64_t end) noexcept {
  intent.store(end, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
}
std::uint64_t intent_after_copy(std::atomic_ref<std::uint64_t> intent) noexcept {
  std::atomic_thread_fence(std::memory_order_acquire);
  return intent.load(std::memory_order_relaxed);
}
#endif

}  // namespace

BroadcastWriter::BroadcastWriter(std::span<std::byte> region, RingGeometry geometry) noexcept
    : region_(region),
      data_(region.data()),
      geometry_(geometry),
      mask_(geometry.capacity_bytes - 1),
      tail_(trailer_counter(region, geometry.capacity_bytes, TrailerSlot::Tail)
                .load(std::memory_order_acquire)),
      intent_step_(progress_step(geometry.capacity_bytes)),
      announced_(trailer_counter(region, geometry.capacity_bytes, TrailerSlot::TailIntent)
                     .load(std::memory_order_acquire)),
      evict_ahead_(can_evict_lines() ? std::min(evict_ahead_max_bytes, geometry.capacity_bytes / 4) : 0) {}

std::expected<Claim, RingError> BroadcastWriter::try_claim(std::size_t payload_bytes) noexcept {
  if (payload_bytes > max_payload_bytes()) return std::unexpected(RingError::TooLarge);
  // The tail came from shared memory at attach; frames keep it aligned after.
  if (!is_frame_boundary(tail_)) [[unlikely]] return std::unexpected(RingError::Corrupt);
  const std::size_t frame_bytes = frame_bytes_for(payload_bytes);
  const std::size_t to_end = geometry_.capacity_bytes - (tail_ & mask_);
  const std::size_t padding = frame_bytes > to_end ? to_end : 0;
  // F1: announce before overwriting: the frame bytes written after this
  // never become visible before the intent.
  const std::uint64_t end = tail_ + padding + frame_bytes;
  if (static_cast<std::int64_t>(end - announced_) > 0) {
    const std::uint64_t announced_before = announced_;
    announced_ = (end + intent_step_ - 1) & ~(intent_step_ - 1);
    announce_intent(trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::TailIntent), announced_);
    evict_ahead(announced_before, announced_);
  }
  if (padding != 0) {
    publish_padding(at(tail_), padding);
    publish_tail(tail_ + padding);
  }
  return Claim{at(tail_), tail_, payload_bytes};
}

void BroadcastWriter::evict_ahead(std::uint64_t from, std::uint64_t to) const noexcept {
  if (evict_ahead_ == 0) return;
  // `from` may come from a foreign or corrupt trailer (a restarted writer
  // resumes at the stored intent): at most a lap, line by line.
  if (to - from > geometry_.capacity_bytes) from = to - geometry_.capacity_bytes;
  const std::uint64_t first = from & ~std::uint64_t{cache_line_bytes - 1};
  for (std::uint64_t p = first; p - first < to - first; p += cache_line_bytes)
    evict_line(at(p + evict_ahead_));
}

void BroadcastWriter::publish_tail(std::uint64_t end) noexcept {
  tail_ = end;
  // R3: the frame is complete below tail. Pairs with A3 in the reader.
  trailer_counter(region_, geometry_.capacity_bytes, TrailerSlot::Tail)
      .store(tail_, std::memory_order_release);
}

std::uint64_t BroadcastWriter::commit(const Claim& claim, const FrameFields& fields) noexcept {
  write_header(claim.frame, fields);
  publish_length(claim.frame, static_cast<std::int32_t>(frame_header_bytes + claim.payload_bytes));
  const std::uint64_t end = claim.position + claim.frame_bytes();
  publish_tail(end);
  return end;
}

void BroadcastWriter::abort(const Claim& claim) noexcept {
  publish_padding(claim.frame, claim.frame_bytes());
  publish_tail(claim.position + claim.frame_bytes());
}

std::expected<std::uint64_t, RingError> BroadcastWriter::offer(std::span<const std::byte> payload,
                                        const FrameFields& fields) noexcept {
  return offer_copy(*this, payload, fields);
}

BroadcastReader::BroadcastReader(std::span<std::byte> region, RingGeometry geometry,
                                 ReaderStart start)
    : region_(region),
      data_(region.data()),
      geometry_(geometry),
      mask_(geometry.capacity_bytes - 1),
      position_(writer_position()),
      pacer_(geometry.capacity_bytes, stream_end_still),
      scratch_(align_frame(geometry.max_frame_bytes) + batch_bytes),
      frame_positions_(scratch_.size() / frame_header_bytes) {
  if (start == ReaderStart::Earliest) position_ = earliest_position();
}

std::uint64_t BroadcastReader::earliest_position() const noexcept {
  // Every lap starts with a frame at index 0: the oldest lap start whose
  // bytes are all still intact.
  const std::uint64_t intent = counter(TrailerSlot::TailIntent).load(std::memory_order_acquire);
  const std::uint64_t capacity = geometry_.capacity_bytes;
  const std::uint64_t lap_start =
      intent <= capacity ? 0 : (intent - capacity + capacity - 1) / capacity * capacity;
  return std::min(lap_start, writer_position());
}

bool BroadcastReader::seek(std::uint64_t target) noexcept {
  const auto saved = std::tuple(position_, lapped_, lost_bytes_);
  // Walk frame headers from a known boundary: a target in the middle of a
  // frame is refused instead of read as garbage.
  position_ = earliest_position();
  if (target >= position_ && target <= writer_position()) {
    while (position_ < target && lapped_ == std::get<1>(saved)) {
      const std::uint64_t before = position_;
      if (!copy_batch(SIZE_MAX, target) || position_ == before) break;
    }
    if (position_ == target && lapped_ == std::get<1>(saved)) return true;
  }
  std::tie(position_, lapped_, lost_bytes_) = saved;
  return false;
}

std::uint64_t BroadcastReader::writer_position() const noexcept {
  return counter(TrailerSlot::Tail).load(std::memory_order_acquire);  // A3
}

bool BroadcastReader::lapped_since(std::uint64_t from) const noexcept {
  // F2: pairs with F1. Bytes copied before this that came from the
  // writer's new lap imply the new intent is visible here; the intent only
  // grows, so one load covers every copy made before it.
  return intent_after_copy(counter(TrailerSlot::TailIntent)) > from + geometry_.capacity_bytes;
}

void BroadcastReader::resync() noexcept {
  const std::uint64_t tail = writer_position();
  ++lapped_;
  lost_bytes_ += tail - position_;
  position_ = tail;
}

namespace {

// Racy by design: the writer may be overwriting these bytes; lapped_since()
// decides afterwards whether the copy can be used.
__attribute__((no_sanitize("thread"))) void copy_racy(std::byte* to, const std::byte* from,
                                                      std::size_t bytes) noexcept {
  for (std::size_t i = 0; i < bytes; ++i) to[i] = from[i];
}

}  // namespace

std::expected<std::size_t, FrameError> BroadcastReader::copy_batch(std::size_t limit,
                                                                   std::uint64_t end) noexcept {
  const std::uint64_t start = position_;
  std::uint64_t at = start;
  std::size_t copied = 0;
  std::size_t used = 0;  // scratch bytes
  std::size_t padding_bytes = 0;
  std::optional<FrameError> error;
  while (copied < limit && at < end) {
    std::byte* to = scratch_.data() + used;
    const std::byte* from = data_ + (at & mask_);
    if (used + frame_header_bytes > scratch_.size()) break;
    copy_racy(to, from, frame_header_bytes);
    std::int32_t length;
    std::memcpy(&length, to, sizeof length);
    const std::size_t room = geometry_.capacity_bytes - (at & mask_);
    auto view = check_loaded_frame(to, length, room, geometry_.max_frame_bytes);
    if (!view) {
      error = view.error();
      break;
    }
    const std::size_t bytes = align_frame(view->frame_bytes());
    if (view->is_padding()) {
      // Padding ends each lap (< max_frame <= capacity / 8) or stands for
      // an aborted claim. A capacity's worth in one batch is corrupt memory
      // (or a writer aborting a lap): stop, or a corrupt lap of padding
      // before a far-away tail keeps this going for ever. The next poll
      // resumes.
      at += bytes;
      padding_bytes += bytes;
      if (padding_bytes >= geometry_.capacity_bytes) break;
      continue;
    }
    if (used + bytes > scratch_.size()) break;
    copy_racy(to + frame_header_bytes, from + frame_header_bytes, view->frame_bytes() - frame_header_bytes);
    used += bytes;
    frame_positions_[copied++] = at;
    at += bytes;
  }
  // A torn copy can look like anything, a corrupt header included: only
  // frames the writer did not lap count, errors included.
  if ((at != start || error) && lapped_since(start)) {
    resync();
    return 0;
  }
  position_ = at;
  if (copied == 0 && error) return std::unexpected(*error);
  return copied;
}

}  // namespace sluice::queue
