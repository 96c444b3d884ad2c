// Counters: everything an operator would ask "how many?" about, live.
//
// Each process has one counters segment, shm object "sluice-counters-<pid>",
// holding a header and one block per publication or subscription. Each
// block has a single writer (the thread using that publication or
// subscription), which updates values with relaxed load + store: no
// read-modify-write on the hot path. Other processes map the segment
// read-only (CountersReader) and see values that are at most slightly stale.
// Names are an interface: add at the end, never rename or reorder.
#pragma once

#include <array>
#include <atomic>
#include <boost/interprocess/mapped_region.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace sluice {

enum class Counter : std::uint16_t {
  frames_sent,        // frames committed by a publication (fragments count one each)
  bytes_sent,         // payload bytes committed
  messages_sent,      // messages offered successfully
  back_pressured,     // offers refused because the subscriber was behind
  frames_received,    // frames read by a subscription
  bytes_received,     // payload bytes delivered
  messages_received,  // messages handed to the application
  duplicates,         // frames dropped as already delivered
  lost_frames,        // frames declared lost (gaps that will never be filled)
  gaps,               // gap events (each may cover several frames)
  lapped,             // broadcast reader fell a lap behind
  lost_bytes,         // bytes skipped when lapped
  fragments_dropped,  // fragments of messages that never completed
  corrupt_frames,     // frames that failed validation
  position,           // publication: stream position written up to; subscription: Subscription::position()
  stale_claims,       // mpsc claims of dead producers turned into padding
  count_              // sentinel
};
inline constexpr std::size_t counter_count = static_cast<std::size_t>(Counter::count_);
std::string_view to_string(Counter c) noexcept;

inline constexpr std::uint64_t counters_magic = 0x52544e43434c53ull;  // "SLCCNTR"
inline constexpr std::uint32_t counters_layout_version = 1;
inline constexpr std::size_t max_counter_blocks = 256;

struct alignas(64) CounterBlock {
  std::uint32_t in_use;      // 1 while its publication/subscription exists
  std::uint32_t role;        // 1 publication, 2 subscription
  std::uint32_t session_id;
  std::uint32_t stream_id;
  char channel[112];         // the channel URI, NUL-terminated, truncated
  std::uint64_t values[counter_count];
};
static_assert(sizeof(CounterBlock) % 64 == 0);

struct alignas(64) CountersHeader {
  std::uint64_t magic;
  std::uint32_t layout_version;
  std::uint32_t block_capacity;
  std::uint64_t pid;
  std::byte pad[64 - 24];
};
static_assert(sizeof(CountersHeader) == 64);

// The single writer's view of one block.
class CounterSet {
 public:
  CounterSet() = default;
  explicit CounterSet(CounterBlock* block) noexcept : block_(block) {}
  void add(Counter c, std::uint64_t n = 1) noexcept {
    auto v = ref(c);
    v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
  }
  void set(Counter c, std::uint64_t value) noexcept { ref(c).store(value, std::memory_order_relaxed); }
  std::uint64_t get(Counter c) const noexcept { return ref(c).load(std::memory_order_relaxed); }
  void set_session(std::uint32_t session_id) noexcept {
    std::atomic_ref<std::uint32_t>(block_->session_id).store(session_id, std::memory_order_relaxed);
  }
  CounterBlock* block() const noexcept { return block_; }

 private:
  std::atomic_ref<std::uint64_t> ref(Counter c) const noexcept {
    return std::atomic_ref<std::uint64_t>(block_->values[static_cast<std::size_t>(c)]);
  }
  CounterBlock* block_ = nullptr;
};

// This process's counters segment, shared by every Context in it (two
// segments of one name would have the second Context's destructor remove
// the first's while it is in use).
class CountersSegment {
 public:
  // The process's segment: created (replacing a stale one left by a dead
  // process with our pid) by the first Context, removed after the last.
  static std::shared_ptr<CountersSegment> of_this_process();
  CountersSegment(const CountersSegment&) = delete;
  CountersSegment& operator=(const CountersSegment&) = delete;

  enum class Role : std::uint32_t { Publication = 1, Subscription = 2 };
  // Thread-safe; throws SetupError when all blocks are in use.
  CounterSet allocate(Role role, std::string_view channel, std::uint32_t stream_id);
  void release(CounterSet set) noexcept;
  const std::string& name() const noexcept { return name_; }

 private:
  CountersSegment();  // creates sluice-counters-<pid> (replacing a stale one)
  CounterBlock* blocks() const noexcept;
  std::string name_;
  boost::interprocess::mapped_region region_;
  std::mutex mutex_;
};

// Read-only view of another (or this) process's counters.
class CountersReader {
 public:
  explicit CountersReader(std::uint64_t pid);  // throws SetupError if absent or invalid
  struct Entry {
    std::string channel;
    CountersSegment::Role role;
    std::uint32_t session_id;
    std::uint32_t stream_id;
    std::array<std::uint64_t, counter_count> values;
    std::uint64_t value(Counter c) const { return values[static_cast<std::size_t>(c)]; }
  };
  std::vector<Entry> snapshot() const;

 private:
  boost::interprocess::mapped_region region_;
};

// The counters segment of process `pid` of this process's pid namespace:
// sluice-counters-PID, or sluice-counters-PID-NS outside the initial pid
// namespace (NS: the namespace's inode), because processes of different
// namespaces sharing /dev/shm (containers) may have the same pid.
std::string counters_segment_name(std::uint64_t pid);

}  // namespace sluice
