#include "transport/context.hpp"

namespace sluice {

Context::Context(ContextOptions options)
    : state_(std::make_shared<detail::ContextState>(options)) {}

Publication Context::publication(std::string_view uri) {
  return Publication(state_, Uri::parse(uri), std::string(uri));
}

Subscription Context::subscription(std::string_view uri) {
  return Subscription(state_, Uri::parse(uri), std::string(uri));
}

}  // namespace sluice
