// raw-cacheline: the physical floor of a two-process round trip.
//
// Two slots in one POSIX shared-memory page set, one per direction, each
// starting on its own page (so the adjacent-line prefetcher never couples
// them). A message is copied into its slot as is; arrival is detected by
// the message's own first 8 bytes (the workload's sequence number, never
// repeated, see transport.hpp) changing: no header, no length, no index.
// For a 64-byte message that is exactly one cache line per direction, the
// least data any transport can move per round trip.
//
// Ordering: R1 the sender's release store of the seq word after copying
// bytes [8, n); pairs with A1, the receiver's acquire load that sees the new
// seq, after which it may read [8, n). Without it the receiver could copy
// stale payload. The slot is reused only after the peer answered, which
// orders the next write after the previous read.
//
// raw-cacheline-walk: the same hand-off, but message i goes to slot
// i % 1024 of a per-direction array of cache-line-aligned slots, as in a
// ring that walks on to new lines however empty it is. On the 2-vCPU EPYC
// VM used here, moving to a new line per message costs 1.5-2x the single
// reused line (measured with a bare store/load probe), before any framing;
// sluice's spsc ring restarts a drained ring at its first lines to avoid it.
//
// Throughput: omitted on purpose. One slot has no queue: a sender must wait
// for the reader before reusing it, so "throughput" would be 1/RTT again,
// and adding a ring would make it a ring design (what sluice is), not a
// floor. The row shows latency only.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

#include "bench/baselines/baselines.hpp"
#include "bench/baselines/posix_error.hpp"

namespace sluice::bench::baselines {
namespace {

constexpr std::size_t page_bytes = 4096;
constexpr std::size_t line_bytes = 64;

std::size_t round_up(std::size_t n, std::size_t to) { return (n + to - 1) / to * to; }

// Slots: slots per direction (1: the single reused line).
template <std::size_t Slots>
class RawCacheline {
 public:
  RawCacheline() = default;
  RawCacheline(const RawCacheline&) = delete;
  RawCacheline& operator=(const RawCacheline&) = delete;
  ~RawCacheline() {
    if (region_ != nullptr) munmap(region_, region_bytes_);
    if (role_ == Role::initiator && !shm_name_.empty()) shm_unlink(shm_name_.c_str());
  }

  std::string open(const OpenParams& p) {
    role_ = p.role;
    message_bytes_ = p.message_bytes;
    shm_name_ = "/" + p.name + "-raw";
    slot_bytes_ = round_up(p.message_bytes, line_bytes);
    const std::size_t direction_bytes = round_up(Slots * slot_bytes_, page_bytes);
    region_bytes_ = 2 * direction_bytes;
    const bool create = p.role == Role::initiator;
    const int fd = shm_open(shm_name_.c_str(), create ? O_CREAT | O_EXCL | O_RDWR : O_RDWR, 0600);
    if (fd < 0) throw_errno("shm_open", shm_name_);
    if (create && ftruncate(fd, static_cast<off_t>(region_bytes_)) != 0) {
      const int err = errno;
      close(fd);
      throw_errno("ftruncate", shm_name_, err);
    }
    void* mem = mmap(nullptr, region_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, 0);
    const int err = errno;
    close(fd);
    if (mem == MAP_FAILED) throw_errno("mmap", shm_name_, err);
    region_ = static_cast<std::byte*>(mem);
    std::byte* to_responder = region_;
    std::byte* to_initiator = region_ + direction_bytes;
    tx_ = create ? to_responder : to_initiator;
    rx_ = create ? to_initiator : to_responder;
    return {};
  }

  void on_peer_ready(std::string_view) {}

  bool send(std::span<const std::byte> msg) noexcept {
    std::byte* slot = tx_ + (tx_count_++ % Slots) * slot_bytes_;
    std::memcpy(slot + 8, msg.data() + 8, message_bytes_ - 8);
    std::uint64_t seq;
    std::memcpy(&seq, msg.data(), 8);
    // R1: payload before seq word (see file comment).
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(slot))
        .store(seq, std::memory_order_release);
    return true;
  }

  bool receive(std::span<std::byte> msg) noexcept {
    std::byte* slot = rx_ + (rx_count_++ % Slots) * slot_bytes_;
    std::atomic_ref<std::uint64_t> word(*reinterpret_cast<std::uint64_t*>(slot));
    std::uint64_t seq;
    // A1: pairs with R1. PAUSE between polls: without it the reader's loads
    // keep pulling the line back while the writer is still filling it
    // (measured here: p50 140 ns without, 80 ns with). The floor should be
    // the fastest honest hand-off, so it pauses.
    // A slot holds an older seq (or 0) until the new message lands; seqs
    // only grow, so "greater than the last one received" is arrival.
    while ((seq = word.load(std::memory_order_acquire)) <= last_rx_seq_) {
      __builtin_ia32_pause();
    }
    last_rx_seq_ = seq;
    std::memcpy(msg.data(), &seq, 8);
    std::memcpy(msg.data() + 8, slot + 8, message_bytes_ - 8);
    return true;
  }

  void unlink_names() const noexcept {
    if (!shm_name_.empty()) shm_unlink(shm_name_.c_str());
  }

 private:
  Role role_ = Role::initiator;
  std::size_t message_bytes_ = 0;
  std::string shm_name_;
  std::byte* region_ = nullptr;
  std::size_t region_bytes_ = 0;
  std::size_t slot_bytes_ = 0;
  std::uint64_t tx_count_ = 0;
  std::uint64_t rx_count_ = 0;
  std::byte* tx_ = nullptr;
  std::byte* rx_ = nullptr;
  std::uint64_t last_rx_seq_ = 0;
};

static_assert(BenchTransport<RawCacheline<1>>);

}  // namespace

TransportInfo raw_cacheline() {
  return {.name = "raw-cacheline",
          .summary = "two-process ping-pong through one shared cache line per direction "
                     "(the physical floor; latency only: one slot has no queue)",
          .wait = WaitMode::spin,
          .reliable = true,
          .supports_throughput = false,
          .max_message_bytes = 1 << 20,
          .make = [](std::string_view) { return make_workload<RawCacheline<1>>(); }};
}

TransportInfo raw_cacheline_walk() {
  return {.name = "raw-cacheline-walk",
          .summary = "the same hand-off through 1024 slots per direction, a new cache line per "
                     "message, as in a ring that never reuses its lines early (latency only)",
          .wait = WaitMode::spin,
          .reliable = true,
          .supports_throughput = false,
          .max_message_bytes = 1 << 20,
          .make = [](std::string_view) { return make_workload<RawCacheline<1024>>(); }};
}

}  // namespace sluice::bench::baselines
