#include "shm/liveness.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace sluice::shm {

std::uint64_t clock_ns(clockid_t clock) noexcept {
  timespec ts{};
  clock_gettime(clock, &ts);
  return std::uint64_t(ts.tv_sec) * 1'000'000'000u + std::uint64_t(ts.tv_nsec);
}

namespace {

std::uint32_t read_pid_namespace() noexcept {
  struct stat st {};
  if (::stat("/proc/self/ns/pid", &st) != 0) return 0;
  return static_cast<std::uint32_t>(st.st_ino);  // namespace inodes are 32-bit
}

// FNV-1a of the boot id's text, folded to ProcessTag::boot_bits (never 0);
// 0 if unreadable.
std::uint32_t read_boot() noexcept {
  char id[64] = {};
  const int fd = ::open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  const auto n = ::read(fd, id, sizeof id - 1);
  ::close(fd);
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (ssize_t i = 0; i < n; ++i) hash = (hash ^ static_cast<unsigned char>(id[i])) * 0x100000001b3ull;
  const std::uint32_t bits = static_cast<std::uint32_t>(hash ^ (hash >> 32)) & ((1u << ProcessTag::boot_bits) - 1);
  return bits == 0 ? 1 : bits;  // 0 means unknown
}

// What /proc/PID/stat says of a process: its state letter and its start
// (CLOCK_BOOTTIME ns, to tick precision). Nothing when /proc does not tell.
struct ProcStat {
  char state;
  std::uint64_t start_ns;
};
std::optional<ProcStat> read_stat_file(const char* path) noexcept {
  char text[1024];
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  const auto n = ::read(fd, text, sizeof text);
  ::close(fd);
  if (n <= 0) return std::nullopt;
  const std::string_view stat(text, static_cast<std::size_t>(n));
  // Fields count from the command name's closing parenthesis (the name may
  // hold spaces and parentheses): field 3, the state, follows it; field 22,
  // starttime, follows the 20th space after it.
  auto at = stat.rfind(')');
  if (at == std::string_view::npos || at + 2 >= stat.size()) return std::nullopt;
  const char state = stat[at + 2];
  for (int field = 3; field <= 22 && at != std::string_view::npos; ++field) at = stat.find(' ', at + 1);
  if (at == std::string_view::npos) return std::nullopt;
  std::uint64_t ticks = 0;
  if (std::from_chars(stat.data() + at + 1, stat.data() + stat.size(), ticks).ec != std::errc{})
    return std::nullopt;
  const long ticks_per_s = ::sysconf(_SC_CLK_TCK);
  if (ticks_per_s <= 0) return std::nullopt;
  return ProcStat{state, ticks * (1'000'000'000u / static_cast<std::uint64_t>(ticks_per_s))};
}
std::optional<ProcStat> read_proc_stat(std::uint32_t pid) noexcept {
  char path[32];
  *fmt::format_to_n(path, sizeof path - 1, "/proc/{}/stat", pid).out = '\0';
  return read_stat_file(path);
}

// Whether the process `stat` describes started after `beat_ns`
// (CLOCK_MONOTONIC). Then it is not the holder that stamped that beat: the
// holder died and the kernel handed its pid out again (pid_max wrapped).
bool started_after(const ProcStat& stat, std::uint64_t beat_ns) noexcept {
  // starttime is CLOCK_BOOTTIME, which also runs while the machine is
  // suspended; the time suspended so far bounds how far it ran ahead of
  // CLOCK_MONOTONIC at the start. Truncation to ticks only moves it earlier.
  const std::uint64_t boot_ns = clock_ns(CLOCK_BOOTTIME);
  const std::uint64_t mono_ns = monotonic_ns();
  const std::uint64_t suspended_ns = boot_ns > mono_ns ? boot_ns - mono_ns : 0;
  constexpr std::uint64_t margin_ns = 1'000'000;  // our two clock reads apart
  return stat.start_ns > beat_ns + suspended_ns + margin_ns;
}

// Whether a process whose leader is a zombie still runs other threads (its
// main thread called pthread_exit): /proc/PID/stat shows the leader only.
bool has_running_thread(std::uint32_t pid) noexcept {
  char path[48];
  *fmt::format_to_n(path, sizeof path - 1, "/proc/{}/task", pid).out = '\0';
  DIR* tasks = ::opendir(path);
  if (tasks == nullptr) return false;
  bool running = false;
  while (const dirent* task = ::readdir(tasks)) {
    std::uint32_t tid = 0;
    const std::string_view id(task->d_name);
    if (std::from_chars(id.data(), id.data() + id.size(), tid).ec != std::errc{} || tid == pid) continue;
    char stat_path[64];
    *fmt::format_to_n(stat_path, sizeof stat_path - 1, "/proc/{}/task/{}/stat", pid, tid).out = '\0';
    if (const auto stat = read_stat_file(stat_path); stat && stat->state != 'Z' && stat->state != 'X') {
      running = true;
      break;
    }
  }
  ::closedir(tasks);
  return running;
}

// What /proc says of the process that has `pid` now, against `beat_ns`, a
// moment its slot's holder was known alive: it has exited but was not
// reaped yet (a zombie with no thread left running), it started after the
// beat (not the holder: a pid reused), or it may be the holder. Nothing
// when /proc does not tell.
enum class PidFate : std::uint8_t { MayBeHolder, Exited, Reused };
std::optional<PidFate> pid_fate(std::uint32_t pid, std::uint64_t beat_ns) noexcept {
  const auto stat = read_proc_stat(pid);
  if (!stat) return std::nullopt;
  if (stat->state == 'Z' || stat->state == 'X')
    return has_running_thread(pid) ? PidFate::MayBeHolder : PidFate::Exited;
  return started_after(*stat, beat_ns) ? PidFate::Reused : PidFate::MayBeHolder;
}

// The process holding a slot word and what this process can tell of it;
// nothing when the slot is free or the holder is dead (either way: take it).
struct SlotHolder {
  ProcessTag tag;
  Presence seen;
};
std::optional<SlotHolder> live_holder(std::uint64_t word) noexcept {
  if (word == 0) return std::nullopt;
  const ProcessTag tag = ProcessTag::unpack(word);
  const Presence seen = presence(tag);
  if (seen == Presence::Dead) return std::nullopt;
  return SlotHolder{tag, seen};
}

// Whether a slot holding `word` may be taken over: free, its holder dead,
// exited but not reaped yet (a zombie: its writes are done), its pid
// handed to a process started after its last beat (`beat`), its beat from
// before a reboot, or, in another pid namespace, silent. A live pid whose
// process is older than its last beat keeps the slot, even silent: a
// stopped publisher that resumed would write beside the new one, a
// stopped subscriber read beside it.
bool is_free_or_dead(std::uint64_t word, std::uint64_t& beat, std::chrono::nanoseconds stale_after) noexcept {
  const auto holder = live_holder(word);
  if (!holder) return true;
  const std::uint64_t beat_ns = shared(beat).load(std::memory_order_relaxed);
  // The tag's boot bits collide once in 1024 boots; the beat tells then.
  if (is_from_before_reboot(beat_ns, monotonic_ns())) return true;
  const bool stale = is_stale(beat_ns, stale_after);
  if (holder->seen == Presence::Unseen) return stale;
  const auto fate = pid_fate(holder->tag.pid, beat_ns);
  // A zombie's writes are done. A reused pid only once the beat is stale: a
  // beat may be older than its holder's start (a loser of take_slot may
  // store its earlier stamp after the winner's), and a live holder would
  // be taken for a pid reused.
  return fate == PidFate::Exited || (stale && fate == PidFate::Reused);
}

// Takes `slot` unless it holds a live process (is_free_or_dead); else
// *holder = the holder. Its heartbeat `beat` is stamped first: whoever
// sees our tag sees it. A loser's stamp only moves it later, still after
// the winner started.
bool take_slot(std::uint64_t& slot, std::uint64_t& beat, std::chrono::nanoseconds stale_after,
               ProcessTag* holder) noexcept {
  auto word = shared(slot);
  const std::uint64_t self = ProcessTag::self().pack();
  std::uint64_t current = word.load(std::memory_order_acquire);
  while (is_free_or_dead(current, beat, stale_after)) {
    shared(beat).store(monotonic_ns(), std::memory_order_relaxed);
    // seq_cst (release included): the stamp before the tag. Strong: a
    // spurious failure would re-judge a silent holder by our own stamp.
    if (word.compare_exchange_strong(current, self, std::memory_order_seq_cst)) return true;
  }
  *holder = ProcessTag::unpack(current);
  return false;
}

bool take_publisher_slot(SegmentDescriptor& d, std::size_t i, std::chrono::nanoseconds stale_after,
                         ProcessTag* holder) noexcept {
  return take_slot(d.publishers[i], d.publisher_beats[i], stale_after, holder);
}

// Frees the slots of killed publishers. Their frames are in the ring or
// were abandoned (mpsc stale claims); once another publisher attaches, a
// dead one must not turn that publisher's later clean close into Gone.
void reclaim_dead_slots(SegmentDescriptor& d, std::chrono::nanoseconds stale_after) noexcept {
  for (std::size_t i = 0; i < max_publishers; ++i) {
    auto word = shared(d.publishers[i]);
    std::uint64_t current = word.load(std::memory_order_acquire);
    if (current != 0 && is_free_or_dead(current, d.publisher_beats[i], stale_after))
      word.compare_exchange_strong(current, 0, std::memory_order_seq_cst);
  }
}

bool any_slot_held(SegmentDescriptor& d) noexcept {
  for (auto& slot : d.publishers)
    if (shared(slot).load(std::memory_order_seq_cst) != 0) return true;
  return false;
}

}  // namespace

// A journal file keeps its descriptor; CLOCK_MONOTONIC starts again at boot
// (the tag's boot bits tell that as well, except in 1 boot of 1024). The
// margin covers a stamp made on another CPU after our clock read.
bool is_from_before_reboot(std::uint64_t stamp_ns, std::uint64_t now_ns) noexcept {
  constexpr std::uint64_t future_margin_ns = 1'000'000'000;
  return stamp_ns > now_ns && stamp_ns - now_ns > future_margin_ns;
}

// A beat from the future is stale too: it was stamped before a reboot.
bool is_stale(std::uint64_t beat_ns, std::chrono::nanoseconds stale_after) noexcept {
  const auto now = monotonic_ns();
  if (beat_ns > now) return is_from_before_reboot(beat_ns, now);
  return now - beat_ns > static_cast<std::uint64_t>(stale_after.count());
}

ProcessTag ProcessTag::self() noexcept {
  // Read once per process; a forked child reads the namespace again (it may
  // be the first process of a namespace its parent created).
  static std::atomic<std::uint64_t> cached{0};
  const auto pid = static_cast<std::uint32_t>(::getpid());
  ProcessTag tag = unpack(cached.load(std::memory_order_relaxed));
  if (tag.pid != pid) {
    tag = {pid, read_pid_namespace(), read_boot()};
    cached.store(tag.pack(), std::memory_order_relaxed);
  }
  return tag;
}

bool claim_owner_gone(const SegmentDescriptor& d, std::uint64_t owner, std::chrono::nanoseconds stale_after) noexcept {
  auto& desc = const_cast<SegmentDescriptor&>(d);  // atomic_ref needs non-const; loads only
  for (std::size_t i = 0; i < max_publishers; ++i) {
    if (shared(desc.publishers[i]).load(std::memory_order_acquire) != owner) continue;
    // Judged as a slot taken over would be: a claim is skipped exactly when
    // another publisher could take its owner's slot, never while the owner
    // might still commit it.
    return is_free_or_dead(owner, desc.publisher_beats[i], stale_after);
  }
  return true;  // no slot holds it: that publisher detached, or was reclaimed as dead
}

std::string describe(ProcessTag holder) {
  if (holder.in_my_namespace()) return fmt::format("pid {}", holder.pid);
  return fmt::format("pid {} of another pid namespace (inode {})", holder.pid, holder.pid_namespace);
}

Presence presence(ProcessTag holder) noexcept {
  // One getpid() per holder: publisher_state() asks for up to 32 of them
  // on every idle liveness check.
  const ProcessTag me = ProcessTag::self();
  // Stamped before a reboot: gone, whatever its pid names now. A boot or
  // namespace of 0 is unknown (a process without /proc, e.g. chrooted):
  // such a holder is judged by its heartbeat, as one of another namespace.
  if (holder.boot != 0 && me.boot != 0 && holder.boot != me.boot) return Presence::Dead;
  if (holder.pid_namespace == 0 || holder.pid_namespace != me.pid_namespace) return Presence::Unseen;
  // Out of the kernel's range (a tag built by hand): not a pid, and never
  // kill()'s process-group form.
  if (holder.pid == 0 || holder.pid >= (1u << ProcessTag::pid_bits)) return Presence::Dead;
  // EPERM: it exists but belongs to another user.
  const bool exists = ::kill(static_cast<pid_t>(holder.pid), 0) == 0 || errno == EPERM;
  return exists ? Presence::Alive : Presence::Dead;
}

std::expected<PublisherSlot, PublisherRefusal> attach_publisher(SegmentDescriptor& d, bool exclusive,
                                                                std::chrono::nanoseconds stale_after) noexcept {
  ProcessTag holder;
  std::uint32_t index = 0;
  if (exclusive) {
    if (!take_publisher_slot(d, 0, stale_after, &holder)) {
      const auto beat = shared(d.publisher_beats[0]).load(std::memory_order_relaxed);
      const auto now = monotonic_ns();
      PublisherRefusal refusal{holder};
      if (is_stale(beat, stale_after) && now > beat) refusal.silent_for = std::chrono::nanoseconds(now - beat);
      return std::unexpected(refusal);
    }
  } else {
    reclaim_dead_slots(d, stale_after);
    while (index < max_publishers && !take_publisher_slot(d, index, stale_after, &holder)) ++index;
    if (index == max_publishers) return std::unexpected(PublisherRefusal{});
  }
  // seq_cst: ordered after our slot's CAS against a leaving publisher's
  // closed store (see detach_publisher).
  shared(d.closed).store(0, std::memory_order_seq_cst);
  // Each incarnation draws a fresh session id so subscribers restart their
  // sequence tracking instead of taking seq 1 for a duplicate.
  return PublisherSlot{index, shared(d.next_session_id).fetch_add(1, std::memory_order_relaxed)};
}

bool attach_subscriber(SegmentDescriptor& d, std::chrono::nanoseconds stale_after, ProcessTag* owner) noexcept {
  // CAS so two starting subscribers cannot both win.
  return take_slot(d.subscriber, d.subscriber_beat, stale_after, owner);
}

void detach_subscriber(SegmentDescriptor& d) noexcept {
  auto self = ProcessTag::self().pack();
  shared(d.subscriber).compare_exchange_strong(self, 0, std::memory_order_acq_rel);
}

void heartbeat(std::uint64_t& beat) noexcept {
  shared(beat).store(monotonic_ns(), std::memory_order_relaxed);
}

void detach_publisher(SegmentDescriptor& d, PublisherSlot slot, std::uint64_t last_seq) noexcept {
  std::uint64_t self = ProcessTag::self().pack();
  // A slot that went to another publisher (we were stopped past the
  // timeout in another pid namespace) is not ours to free, nor the stream
  // ours to close.
  if (!shared(d.publishers[slot.index]).compare_exchange_strong(self, 0, std::memory_order_seq_cst)) return;
  // seq_cst, with the free above: of two publishers leaving together, at
  // least one sees both slots free, so a clean close is never missed.
  if (any_slot_held(d)) return;
  shared(d.final_session_id).store(slot.session_id, std::memory_order_relaxed);
  shared(d.final_seq).store(last_seq, std::memory_order_relaxed);
  // Release: the final session and seq before closed.
  shared(d.closed).store(1, std::memory_order_seq_cst);
  // A publisher that took a slot after the scan above may have cleared
  // closed before our store landed; its slot is visible to this second
  // scan (seq_cst), so the channel is open again. One that takes a slot
  // after this scan clears closed after our store.
  if (any_slot_held(d)) shared(d.closed).store(0, std::memory_order_seq_cst);
}

PublisherState publisher_state(const SegmentDescriptor& d,
                               std::chrono::nanoseconds stale_after) noexcept {
  auto& desc = const_cast<SegmentDescriptor&>(d);
  if (shared(desc.closed).load(std::memory_order_acquire) != 0) return PublisherState::Closed;
  bool attached = false;
  for (std::size_t i = 0; i < max_publishers; ++i) {
    auto slot = shared(desc.publishers[i]);
    const auto word = slot.load(std::memory_order_acquire);
    if (word == 0) continue;
    // Live: not dead (an unseen pid may be), and beating. A stopped or hung
    // holder of this namespace stops beating too.
    if (live_holder(word) && !is_stale(shared(desc.publisher_beats[i]).load(std::memory_order_relaxed), stale_after))
      return PublisherState::Alive;
    // A holder that closed cleanly frees its slot before its process ends:
    // one that did so between the load above and the pid check looked dead
    // (its last frames still unread, seen under CPU contention). A slot that
    // changed meanwhile has a live process acting on it: no verdict yet.
    if (slot.load(std::memory_order_acquire) != word) return PublisherState::Alive;
    attached = true;
  }
  return attached ? PublisherState::Gone : PublisherState::None;
}

}  // namespace sluice::shm
