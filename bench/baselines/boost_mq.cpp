// boost-mq / boost-mq-spin: Boost.Interprocess message_queue, one queue per
// direction, as a user would set it up.
//
// boost-mq blocks in send()/receive() (an interprocess mutex and condition
// variables in the segment); boost-mq-spin busy-polls try_send() /
// try_receive(), which still take the mutex but never sleep.
//
// Queue depth: deep enough that a fast sender is not throttled by the depth
// alone (1024 messages), capped at 64 MiB of payload for large messages.
// The initiator creates both queues; the destructor of the initiator removes
// their names.
#include <boost/interprocess/ipc/message_queue.hpp>

#include <algorithm>
#include <memory>
#include <optional>

#include "bench/baselines/baselines.hpp"

namespace sluice::bench::baselines {
namespace {

namespace bip = boost::interprocess;

constexpr std::size_t max_depth = 1024;
constexpr std::size_t max_queue_payload_bytes = 64u << 20;

template <WaitMode Wait>
class BoostMq {
 public:
  BoostMq() = default;
  BoostMq(const BoostMq&) = delete;
  BoostMq& operator=(const BoostMq&) = delete;
  ~BoostMq() {
    tx_.reset();
    rx_.reset();
    if (role_ == Role::initiator) unlink_names();
  }

  std::string open(const OpenParams& p) {
    role_ = p.role;
    to_responder_ = p.name + "-mq-ping";
    to_initiator_ = p.name + "-mq-pong";
    const std::size_t depth =
        std::clamp<std::size_t>(max_queue_payload_bytes / p.message_bytes, 2, max_depth);
    try {
      if (p.role == Role::initiator) {
        tx_.emplace(bip::create_only, to_responder_.c_str(), depth, p.message_bytes,
                    bip::permissions(0600));
        rx_.emplace(bip::create_only, to_initiator_.c_str(), depth, p.message_bytes,
                    bip::permissions(0600));
      } else {
        tx_.emplace(bip::open_only, to_initiator_.c_str());
        rx_.emplace(bip::open_only, to_responder_.c_str());
      }
    } catch (const bip::interprocess_exception& e) {
      throw std::runtime_error("boost message_queue " + p.name + ": " + e.what());
    }
    return {};
  }

  void on_peer_ready(std::string_view) {}

  bool send(std::span<const std::byte> msg) noexcept {
    try {
      if constexpr (Wait == WaitMode::blocking) {
        tx_->send(msg.data(), msg.size(), 0);
      } else {
        while (!tx_->try_send(msg.data(), msg.size(), 0)) {
        }
      }
      return true;
    } catch (...) {
      return false;
    }
  }

  bool receive(std::span<std::byte> msg) noexcept {
    bip::message_queue::size_type received = 0;
    unsigned int priority = 0;
    try {
      if constexpr (Wait == WaitMode::blocking) {
        rx_->receive(msg.data(), msg.size(), received, priority);
      } else {
        while (!rx_->try_receive(msg.data(), msg.size(), received, priority)) {
        }
      }
      return received == msg.size();
    } catch (...) {
      return false;
    }
  }

  void unlink_names() const noexcept {
    if (!to_responder_.empty()) bip::message_queue::remove(to_responder_.c_str());
    if (!to_initiator_.empty()) bip::message_queue::remove(to_initiator_.c_str());
  }

 private:
  Role role_ = Role::initiator;
  std::string to_responder_;
  std::string to_initiator_;
  std::optional<bip::message_queue> tx_;
  std::optional<bip::message_queue> rx_;
};

static_assert(BenchTransport<BoostMq<WaitMode::spin>>);

}  // namespace

TransportInfo boost_mq(WaitMode wait) {
  if (wait == WaitMode::blocking) {
    return {.name = "boost-mq",
            .summary = "Boost.Interprocess message_queue, blocking send/receive",
            .wait = WaitMode::blocking,
            .make = [](std::string_view) { return make_workload<BoostMq<WaitMode::blocking>>(); }};
  }
  return {.name = "boost-mq-spin",
          .summary = "Boost.Interprocess message_queue, try_send/try_receive busy loop",
          .wait = WaitMode::spin,
          .make = [](std::string_view) { return make_workload<BoostMq<WaitMode::spin>>(); }};
}

}  // namespace sluice::bench::baselines
