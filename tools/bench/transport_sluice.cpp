// sluice-shm: the sluice shared-memory transport, one channel per direction.
//
// --transport shm:NAME?params: the params (kind, capacity, max_frame, wait,
// ...) apply to both channels; the channel names come from the run's unique
// name, so concurrent runs never share a segment. Either side may create a
// channel (sluice's open-or-create), the initiator removes both, and the
// per-process counters segments of both sides (the responder sends its name
// as its hint): a run that is aborted with _exit runs no destructor.
#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>
#include <string>

#include "sluice.hpp"
#include "tools/bench/errors.hpp"
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
    return ctx_.counters_segment();
  }

  void on_peer_ready(std::string_view hint) { peer_counters_ = std::string(hint); }

  bool send(std::span<const std::byte> msg) noexcept {
    for (;;) {
      auto r = pub_->offer(msg);
      if (r) return true;
      if (r.error() != Error::BackPressured) return false;
    }
  }

  bool receive(std::span<std::byte> msg) noexcept {
    bool fits = true;
    for (;;) {
      auto r = sub_->poll([&](const Message& m) {
        fits = m.payload().size() == msg.size();
        if (fits) std::memcpy(msg.data(), m.payload().data(), msg.size());
      }, 1);
      if (!r) return false;
      if (*r == 1) return fits;
    }
  }

  // Throughput sink: messages are read in place in the ring, a batch per
  // poll, as a real consumer would.
  template <class F>
  long receive_batch(F&& on_message, std::size_t limit) noexcept {
    for (;;) {
      auto r = sub_->poll([&](const Message& m) { on_message(m.payload()); }, limit);
      if (!r) return -1;
      if (*r > 0) return static_cast<long>(*r);
    }
  }

  void unlink_names() const noexcept {
    try {
      if (!ping_.empty()) Context::remove_channel(ping_);
      if (!pong_.empty()) Context::remove_channel(pong_);
      boost::interprocess::shared_memory_object::remove(ctx_.counters_segment().c_str());
      if (!peer_counters_.empty())
        boost::interprocess::shared_memory_object::remove(peer_counters_.c_str());
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
  std::string peer_counters_;
  Context ctx_;
  std::optional<Publication> pub_;
  std::optional<Subscription> sub_;
};

static_assert(BenchTransport<SluiceShm>);
static_assert(BatchReceive<SluiceShm>);

}  // namespace

TransportInfo sluice_shm_transport(std::string_view uri) {
  std::optional<shm::RingKind> kind;
  try {
    kind = Uri::parse(uri).shm.kind;
  } catch (const SetupError& e) {
    throw UsageError(std::string("transport '") + std::string(uri) + "': " + e.what());
  }
  return {.name = "sluice-shm",
          .summary = "sluice shared-memory channel (spsc ring, zero-copy send, busy-poll receive)",
          .wait = WaitMode::spin,
          .reliable = kind != shm::RingKind::Broadcast,
          .max_message_bytes = (1u << 20) / 4,
          .make = [](std::string_view uri) { return make_workload<SluiceShm>(std::string(uri)); }};
}

}  // namespace sluice::bench
