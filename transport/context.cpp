#include "transport/context.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include "shm/segment.hpp"
#include "transport/shm_channel.hpp"

namespace sluice {

// A forked child inherits a Context but not its keeper thread, which may
// hold the state's mutex or wait on its condition variable: destroying them
// in the child would wait for good (pthread_cond_destroy waits for that
// waiter). The child leaves its copy be (memory only, gone at exit), and
// with it the parent's counters segment, which it would otherwise remove.
Context::Context(ContextOptions options)
    : state_(new detail::ContextState(options), [creator = ::getpid()](detail::ContextState* s) {
        if (::getpid() == creator) delete s;
      }) {}

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
