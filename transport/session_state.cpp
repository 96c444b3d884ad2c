#include "transport/session_state.hpp"

#include <cstring>

namespace sluice {

Reassembly::Step Reassembly::add(const queue::FrameView& frame) noexcept {
  using queue::FrameFlags;
  const bool begin = frame.has_flag(FrameFlags::Begin);
  const bool end = frame.has_flag(FrameFlags::End);
  if (begin) {
    abandon();  // a new message starts: an unfinished one never completes
    in_progress_ = true;
  } else if (!in_progress_) {
    ++dropped_;  // a middle or last fragment whose start we never saw
    return Step::Dropped;
  }
  const auto part = frame.payload();
  if (size_ + part.size() > max_message_bytes_) {
    ++dropped_;
    abandon();
    return Step::Dropped;
  }
  if (buffer_.size() < max_message_bytes_) buffer_.resize(max_message_bytes_);
  std::memcpy(buffer_.data() + size_, part.data(), part.size());
  size_ += part.size();
  ++fragments_;
  if (!end) return Step::Partial;
  in_progress_ = false;
  fragments_ = 0;
  return Step::Complete;
}

std::size_t Reassembly::abandon() noexcept {
  const std::size_t lost = in_progress_ ? fragments_ : 0;
  dropped_ += lost;
  in_progress_ = false;
  fragments_ = 0;
  size_ = 0;
  return lost;
}

}  // namespace sluice
