// sluice-shm: the sluice shared-memory transport, one channel per direction.
//
// --transport shm:NAME?params: the params (kind, capacity, max_frame, wait,
// ...) apply to both channels; the channel names come from the run's unique
// name, so concurrent runs never share a segment. Either side may create a
// channel (sluice's open-or-create), the initiator removes both.
#include <string>

#include "sluice.hpp"
#include "tools/bench/transport.hpp"
#include "tools/bench/transport_sluice.hpp"
#include "tools/bench/workload.hpp"

namespace sluice::bench {
namespace {

class SluiceShm {
 public:
  explicit SluiceShm(std::string uri) : params_(query_of(uri)) {}
  SluiceShm(const SluiceShm&) = delete;
  SluiceShm& operator=(const SluiceShm&) = delete;
  ~SluiceShm() {
    pub_.reset();
    sub_.reset();
    if (role_ == Role::initiator) unlink_names();
  }

  std::string open(const OpenParams& p) {
    role_ = p.role;
    ping_ = "shm:" + p.name + "-ping" + params_;
    pong_ = "shm:" + p.name + "-pong" + params_;
    const bool initiator = p.role == Role::initiator;
    try {
      pub_.emplace(ctx_.publication(initiator ? ping_ : pong_));
      sub_.emplace(ctx_.subscription(initiator ? pong_ : ping_));
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("sluice-shm: ") + e.what());
    }
    return {};
  }

  void on_peer_ready(std::string_view) {}

  bool send(std::span<const std::byte> msg) noexcept {
    for (;;) {
      auto r = pub_->offer(msg);
      if (r) return true;
      if (r.error() != Error::BackPressured) return false;
    }
  }

  bool receive(std::span<std::byte> msg) noexcept {
    bool got = false;
    while (!got) {
      auto r = sub_->poll([&](const Message& m) {
        std::memcpy(msg.data(), m.payload().data(), std::min(msg.size(), m.payload().size()));
        got = m.payload().size() == msg.size();
      }, 1);
      if (!r) return false;
    }
    return true;
  }

  void unlink_names() const noexcept {
    try {
      if (!ping_.empty()) Context::remove_channel(ping_);
      if (!pong_.empty()) Context::remove_channel(pong_);
    } catch (...) {
    }
  }

 private:
  static std::string query_of(const std::string& uri) {
    const auto q = uri.find('?');
    return q == std::string::npos ? std::string{} : uri.substr(q);
  }

  std::string params_;
  Role role_ = Role::initiator;
  std::string ping_, pong_;
  Context ctx_;
  std::optional<Publication> pub_;
  std::optional<Subscription> sub_;
};

static_assert(BenchTransport<SluiceShm>);

}  // namespace

TransportInfo sluice_shm_transport() {
  return {.name = "sluice-shm",
          .summary = "sluice shared-memory channel (spsc ring, zero-copy send, busy-poll receive)",
          .wait = WaitMode::spin,
          .max_message_bytes = (1u << 20) / 4,
          .make = [](std::string_view uri) { return make_workload<SluiceShm>(std::string(uri)); }};
}

}  // namespace sluice::bench
