// Outcomes the API reports. Hot-path results are values (Error); set-up
// failures are exceptions (SetupError) carrying what failed and why.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string_view>

namespace sluice {

enum class Error : std::uint8_t {
  BackPressured,  // the subscriber is behind: retry later, or drop by your own policy
  NotConnected,   // poll: this subscription lost its channel to a new subscriber (it was
                  // stopped past subscriber_timeout), or was moved from
  PublisherGone,  // the publisher died (pid gone or heartbeat stale); frames before it were delivered
  Closed,         // poll: the publisher closed the stream, nothing more will come; offer: this
                  // publication lost its channel to a new publisher (it was stopped past
                  // publisher_timeout), or was moved from
  TooLarge,       // message above max_message: split it or raise max_message
  Corrupt,        // the shared ring failed validation: close and re-create the channel
  ClaimOpen,      // this publication has a claim open: commit or drop it first
};
std::string_view to_string(Error e) noexcept;

// Set-up failure (bad URI, segment refused, resource exhausted).
class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace sluice
