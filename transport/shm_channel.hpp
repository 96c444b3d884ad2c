// From a parsed shm channel to the segment and ring geometry behind it;
// shared by publications and subscriptions.
#pragma once

#include <string>

#include "shm/segment.hpp"
#include "transport/uri.hpp"

namespace sluice::detail {

// The shm object name or journal path behind a channel.
std::string segment_name(const ShmChannel& channel);
// Opens or creates the segment the channel names (throws SetupError).
shm::Segment open_channel_segment(const ShmChannel& channel);
// The largest message the channel accepts (max_message= or capacity / 4).
std::size_t max_message_bytes(const ShmChannel& channel, const shm::Segment& segment);

}  // namespace sluice::detail
