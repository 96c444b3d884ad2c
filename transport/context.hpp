// Context: the entry point. Owns this process's counters segment and the
// heartbeat keeper thread; makes publications and subscriptions from URIs.
//
//   sluice::Context ctx;
//   auto pub = ctx.publication("shm:orders?capacity=1m");
//   auto sub = ctx.subscription("shm:orders");
//
// Set-up errors (bad URI, refused segment) throw SetupError. Publications
// and subscriptions keep what they need of the Context alive themselves.
// A forked child may drop the Contexts it inherited (they do nothing
// there) and make its own.
#pragma once

#include <memory>
#include <string_view>

#include "transport/context_state.hpp"
#include "transport/publication.hpp"
#include "transport/subscription.hpp"

namespace sluice {

class Context {
 public:
  explicit Context(ContextOptions options = {});

  Publication publication(std::string_view uri);
  Subscription subscription(std::string_view uri);

  // Deletes the channel's segment (or journal file) by name; processes that
  // have it open keep using it until they close it. False if there was none.
  static bool remove_channel(std::string_view uri);

  // Name of this process's counters segment (see CountersReader).
  const std::string& counters_segment() const noexcept { return state_->counters().name(); }

 private:
  std::shared_ptr<detail::ContextState> state_;
};

}  // namespace sluice
