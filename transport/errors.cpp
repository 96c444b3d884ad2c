#include "transport/errors.hpp"

namespace sluice {

std::string_view to_string(Error e) noexcept {
  switch (e) {
    case Error::BackPressured: return "back-pressured";
    case Error::NotConnected: return "not connected";
    case Error::PublisherGone: return "publisher gone";
    case Error::Closed: return "closed";
    case Error::TooLarge: return "message too large";
    case Error::Corrupt: return "channel corrupt";
    case Error::ClaimOpen: return "a claim is open";
  }
  return "unknown error";
}

}  // namespace sluice
