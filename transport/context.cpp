#include "transport/context.hpp"

#include <fmt/format.h>

#include "shm/segment.hpp"
#include "transport/shm_channel.hpp"

namespace sluice {

Context::Context(ContextOptions options)
    : state_(std::make_shared<detail::ContextState>(options)) {}

Publication Context::publication(std::string_view uri) {
  const auto parsed = Uri::parse(uri);
  if (parsed.shm.start || parsed.shm.start_position)
    throw SetupError(fmt::format("{}: start= applies to subscriptions", uri));
  return Publication(state_, parsed, std::string(uri));
}

Subscription Context::subscription(std::string_view uri) {
  return Subscription(state_, Uri::parse(uri), std::string(uri));
}

bool Context::remove_channel(std::string_view uri) {
  const auto parsed = Uri::parse(uri);
  return shm::Segment::remove(detail::segment_name(parsed.shm), parsed.shm.file.has_value());
}

}  // namespace sluice
