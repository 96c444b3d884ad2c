#include "transport/counters.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <boost/interprocess/shared_memory_object.hpp>
#include <cstring>

#include "shm/liveness.hpp"
#include "transport/errors.hpp"
#include "transport/uri.hpp"

namespace sluice {

namespace bip = boost::interprocess;

namespace {
constexpr std::size_t segment_bytes = sizeof(CountersHeader) + max_counter_blocks * sizeof(CounterBlock);

template <class T>
std::atomic_ref<T> shared(T& field) noexcept {
  return std::atomic_ref<T>(field);
}
}  // namespace

std::string_view to_string(Counter c) noexcept {
  static constexpr std::array<std::string_view, counter_count> names = {
      "frames_sent",     "bytes_sent",    "messages_sent",     "back_pressured",
      "frames_received", "bytes_received", "messages_received", "duplicates",
      "lost_frames",     "gaps",          "lapped",            "lost_bytes",
      "fragments_dropped", "corrupt_frames", "position",       "stale_claims"};
  const auto i = static_cast<std::size_t>(c);
  return i < names.size() ? names[i] : "unknown";
}

std::string counters_segment_name(std::uint64_t pid) {
  // The kernel's fixed inode of the initial pid namespace (PROC_PID_INIT_INO).
  constexpr std::uint32_t initial_pid_namespace = 0xEFFFFFFCu;
  const auto ns = shm::ProcessTag::self().pid_namespace;
  if (ns == initial_pid_namespace || ns == 0) return fmt::format("sluice-{}{}", reserved_name_prefix, pid);
  return fmt::format("sluice-{}{}-{}", reserved_name_prefix, pid, ns);
}

CountersSegment::CountersSegment() : name_(counters_segment_name(static_cast<std::uint64_t>(::getpid()))) {
  // A segment with our name (pid and pid namespace) can only be left over
  // from a dead process that had the same pid: replace it.
  bip::shared_memory_object::remove(name_.c_str());
  try {
    bip::shared_memory_object shm(bip::create_only, name_.c_str(), bip::read_write,
                                  bip::permissions(0600));
    shm.truncate(segment_bytes);
    region_ = bip::mapped_region(shm, bip::read_write, 0, segment_bytes);
  } catch (const bip::interprocess_exception& e) {
    bip::shared_memory_object::remove(name_.c_str());  // half-made: a reader would call it foreign
    throw SetupError(fmt::format("counters segment '{}': {}", name_, e.what()));
  }
  auto* header = static_cast<CountersHeader*>(region_.get_address());
  header->layout_version = counters_layout_version;
  header->block_capacity = max_counter_blocks;
  header->pid = static_cast<std::uint64_t>(::getpid());
  shared(header->magic).store(counters_magic, std::memory_order_release);
}

std::shared_ptr<CountersSegment> CountersSegment::of_this_process() {
  static std::mutex mutex;
  static std::weak_ptr<CountersSegment> current;
  static pid_t current_pid = 0;
  std::lock_guard lock(mutex);
  // A forked child inherits the parent's pointer and mapping: its own
  // counters go to a segment named after its own pid.
  auto segment = current_pid == ::getpid() ? current.lock() : nullptr;
  if (!segment) {
    // Destroyed under the same lock: the last Context of one thread must
    // not remove (by name) the segment another thread's new Context has
    // just made.
    segment = std::shared_ptr<CountersSegment>(new CountersSegment, [](CountersSegment* s) {
      std::lock_guard destroying(mutex);
      // Another thread's new Context may have made a segment of the same
      // name since our count reached zero: that one stays.
      if (current.expired()) bip::shared_memory_object::remove(s->name_.c_str());
      delete s;
    });
    current = segment;
    current_pid = ::getpid();
  }
  return segment;
}

CounterBlock* CountersSegment::blocks() const noexcept {
  return reinterpret_cast<CounterBlock*>(static_cast<std::byte*>(region_.get_address()) +
                                         sizeof(CountersHeader));
}

CounterSet CountersSegment::allocate(Role role, std::string_view channel, std::uint32_t stream_id) {
  std::lock_guard lock(mutex_);
  for (std::size_t i = 0; i < max_counter_blocks; ++i) {
    CounterBlock& b = blocks()[i];
    if (shared(b.in_use).load(std::memory_order_relaxed) != 0) continue;
    std::memset(b.values, 0, sizeof b.values);
    b.role = static_cast<std::uint32_t>(role);
    b.stream_id = stream_id;
    b.session_id = 0;
    const auto n = std::min(channel.size(), sizeof b.channel - 1);
    std::memcpy(b.channel, channel.data(), n);
    b.channel[n] = '\0';
    shared(b.in_use).store(1, std::memory_order_release);
    return CounterSet(&b);
  }
  throw SetupError(fmt::format("counters segment '{}': all {} blocks in use", name_, max_counter_blocks));
}

void CountersSegment::release(CounterSet set) noexcept {
  CounterBlock* block = set.block();
  if (block == nullptr) return;
  std::lock_guard lock(mutex_);
  shared(block->in_use).store(0, std::memory_order_release);
}

CountersReader::CountersReader(std::uint64_t pid) {
  const auto name = counters_segment_name(pid);
  try {
    bip::shared_memory_object shm(bip::open_only, name.c_str(), bip::read_only);
    bip::offset_t size = 0;
    if (!shm.get_size(size) || static_cast<std::size_t>(size) < segment_bytes)
      throw SetupError(fmt::format("counters segment '{}' is truncated", name));
    region_ = bip::mapped_region(shm, bip::read_only, 0, segment_bytes);
  } catch (const bip::interprocess_exception& e) {
    throw SetupError(fmt::format("counters segment '{}': {}", name, e.what()));
  }
  const auto* header = static_cast<const CountersHeader*>(region_.get_address());
  if (header->magic != counters_magic || header->layout_version != counters_layout_version)
    throw SetupError(fmt::format("counters segment '{}' is not a sluice counters segment", name));
}

std::vector<CountersReader::Entry> CountersReader::snapshot() const {
  std::vector<Entry> out;
  const auto* blocks = reinterpret_cast<const CounterBlock*>(
      static_cast<const std::byte*>(region_.get_address()) + sizeof(CountersHeader));
  for (std::size_t i = 0; i < max_counter_blocks; ++i) {
    auto& b = const_cast<CounterBlock&>(blocks[i]);
    if (shared(b.in_use).load(std::memory_order_acquire) == 0) continue;
    Entry e{};
    e.channel.assign(b.channel, strnlen(b.channel, sizeof b.channel));
    e.role = static_cast<CountersSegment::Role>(b.role);
    e.session_id = shared(b.session_id).load(std::memory_order_relaxed);
    e.stream_id = b.stream_id;
    for (std::size_t c = 0; c < counter_count; ++c)
      e.values[c] = shared(b.values[c]).load(std::memory_order_relaxed);
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace sluice
