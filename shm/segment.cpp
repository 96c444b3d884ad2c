#include "shm/segment.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <thread>
#include <utility>

#include "shm/liveness.hpp"

namespace sluice::shm {

namespace bip = boost::interprocess;

std::string_view to_string(RingKind k) noexcept {
  switch (k) {
    case RingKind::Spsc: return "spsc";
    case RingKind::Mpsc: return "mpsc";
    case RingKind::Broadcast: return "broadcast";
  }
  return "unknown";
}

namespace {

SegmentDescriptor& detached_descriptor() noexcept {
  static SegmentDescriptor zeroed{};
  return zeroed;
}

std::size_t segment_bytes_for(std::size_t capacity_bytes) {
  return ring_offset + queue::ring_required_bytes(capacity_bytes);
}

// The bytes behind a name: a shm object or a journal file.
class Backing {
 public:
  static std::optional<Backing> try_create(const std::string& name, bool file, unsigned mode) {
    if (file) {
      const int fd = ::open(name.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, mode);
      if (fd < 0) {
        if (errno == EEXIST) return std::nullopt;
        throw SegmentError(fmt::format("journal '{}': create failed: {}", name, std::strerror(errno)));
      }
      ::fchmod(fd, mode);  // the umask must not widen or narrow the requested mode
      ::close(fd);
      return Backing(name, true);
    }
    try {
      bip::shared_memory_object shm(bip::create_only, name.c_str(), bip::read_write,
                                    bip::permissions(mode));
      return Backing(name, std::move(shm));
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() == bip::already_exists_error) return std::nullopt;
      throw SegmentError(fmt::format("segment '{}': create failed: {}", name, e.what()));
    }
  }
  static std::optional<Backing> try_open(const std::string& name, bool file) {
    if (file) {
      if (::access(name.c_str(), F_OK) != 0) return std::nullopt;
      return Backing(name, true);
    }
    try {
      return Backing(name, bip::shared_memory_object(bip::open_only, name.c_str(), bip::read_write));
    } catch (const bip::interprocess_exception& e) {
      if (e.get_error_code() == bip::not_found_error) return std::nullopt;
      throw SegmentError(fmt::format("segment '{}': open failed: {}", name, e.what()));
    }
  }

  std::size_t size() const {
    if (file_) {
      struct stat st{};
      if (::stat(name_.c_str(), &st) != 0)
        throw SegmentError(fmt::format("journal '{}': stat failed: {}", name_, std::strerror(errno)));
      if (!S_ISREG(st.st_mode)) throw SegmentError(fmt::format("journal '{}' is not a regular file", name_));
      return static_cast<std::size_t>(st.st_size);
    }
    bip::offset_t size = 0;
    return shm_.get_size(size) ? static_cast<std::size_t>(size) : 0;
  }
  // Sizes a new backing to `bytes` with its storage allocated: a full
  // /dev/shm or disk is an error here rather than a SIGBUS when a page is
  // first touched. New bytes read as zero.
  void allocate(std::size_t bytes) {
    const int fd = file_ ? ::open(name_.c_str(), O_RDWR | O_CLOEXEC) : shm_.get_mapping_handle().handle;
    const int err = fd < 0 ? errno : ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
    if (file_ && fd >= 0) ::close(fd);
    if (err != 0)
      throw SegmentError(fmt::format("segment '{}': allocating {} bytes failed: {}", name_, bytes,
                                     std::strerror(err)));
  }
  bip::mapped_region map(std::size_t bytes) const {
    try {
      if (file_) {
        bip::file_mapping file(name_.c_str(), bip::read_write);
        return bip::mapped_region(file, bip::read_write, 0, bytes);
      }
      return bip::mapped_region(shm_, bip::read_write, 0, bytes);
    } catch (const bip::interprocess_exception& e) {
      throw SegmentError(fmt::format("segment '{}': mapping {} bytes failed: {}", name_, bytes, e.what()));
    }
  }

 private:
  Backing(std::string name, bool file) : name_(std::move(name)), file_(file) {}
  Backing(std::string name, bip::shared_memory_object shm)
      : name_(std::move(name)), file_(false), shm_(std::move(shm)) {}

  std::string name_;
  bool file_;
  bip::shared_memory_object shm_;
};

void format(SegmentDescriptor& d, const SegmentOptions& o, std::size_t capacity,
            std::size_t max_frame) {
  d.layout_version = segment_layout_version;
  d.ring_kind = o.kind.value_or(RingKind::Spsc);
  d.capacity_bytes = capacity;
  d.max_frame_bytes = max_frame;
  d.segment_bytes = segment_bytes_for(capacity);
  d.creator_pid = static_cast<std::uint64_t>(::getpid());
  d.created_ns = clock_ns(CLOCK_REALTIME);
  d.stream_id = o.stream_id;
  d.next_session_id = 1;
  // R: every field above before the magic. Pairs with the acquire in
  // wait_for_magic(): an opener that sees the magic sees a whole descriptor.
  shared(d.magic).store(segment_magic, std::memory_order_release);
}

void check_matches(queue::RingGeometry g, RingKind kind, const SegmentOptions& o) {
  if (o.kind && *o.kind != kind)
    throw SegmentError(fmt::format("segment '{}' is a {} ring, not {}", o.name, to_string(kind),
                                   to_string(*o.kind)));
  if (o.capacity_bytes && *o.capacity_bytes != g.capacity_bytes)
    throw SegmentError(fmt::format("segment '{}' has capacity {} bytes, not {}", o.name,
                                   g.capacity_bytes, *o.capacity_bytes));
  if (o.max_frame_bytes && *o.max_frame_bytes != g.max_frame_bytes)
    throw SegmentError(fmt::format("segment '{}' has max_frame {} bytes, not {}", o.name,
                                   g.max_frame_bytes, *o.max_frame_bytes));
}

// A mapped segment and what was validated about it.
struct Opened {
  bip::mapped_region region;
  queue::RingGeometry geometry;
  RingKind kind;
};

// Maps an existing segment once its creator has published the magic. One
// copy of the descriptor is validated against the object's size, and the
// mapping and geometry come from that copy: a descriptor rewritten in the
// meantime (corrupt or hostile) cannot make us map past the object's end.
Opened map_initialised(const Backing& b, const std::string& name, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const std::size_t size = b.size();
    if (size >= sizeof(SegmentDescriptor)) {
      auto head = b.map(sizeof(SegmentDescriptor));
      auto& live = *static_cast<SegmentDescriptor*>(head.get_address());
      const auto magic = shared(live.magic).load(std::memory_order_acquire);
      if (magic == segment_magic) {
        SegmentDescriptor d;
        std::memcpy(&d, &live, sizeof d);
        if (auto problem = describe_invalid(d, size); !problem.empty())
          throw SegmentError(fmt::format("segment '{}': {}", name, problem));
        return {b.map(d.segment_bytes), {d.capacity_bytes, d.max_frame_bytes}, d.ring_kind};
      }
      if (magic != 0)
        throw SegmentError(fmt::format("segment '{}' is not a sluice segment (bad magic)", name));
    }
    if (std::chrono::steady_clock::now() >= deadline)
      throw SegmentError(fmt::format(
          "segment '{}' is not initialised ({} bytes, no magic): its creator died or is not "
          "sluice; remove it (Context::remove_channel, or rm under /dev/shm)",
          name, size));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

// Maps every page of the segment into this process now, writable. Without
// it the first lap of a ring takes a page fault every 4 KiB (a few us each,
// on both sides), which shows up as the latency tail of the first seconds.
// MADV_POPULATE_WRITE fills the page tables in one call, but on this VM
// each page's first store after it still faulted into the hypervisor (5-10
// us a page): so every page is also written once. An atomic add of zero
// writes without changing what a concurrent process may be writing there.
void prefault(bip::mapped_region& region) {
  auto* base = static_cast<std::byte*>(region.get_address());
  const std::size_t bytes = region.get_size();
#ifdef MADV_POPULATE_WRITE
  (void)::madvise(base, bytes, MADV_POPULATE_WRITE);  // faster than page by page; optional
#endif
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t at = 0; at < bytes; at += page)
    std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(base + at))
        .fetch_add(0, std::memory_order_relaxed);
}

}  // namespace

std::string describe_invalid(const SegmentDescriptor& d, std::size_t mapped_bytes) {
  if (d.magic != segment_magic) return "not a sluice segment (bad magic)";
  if (d.layout_version != segment_layout_version)
    return fmt::format("layout version {} (this build reads {})", d.layout_version,
                       segment_layout_version);
  if (d.ring_kind != RingKind::Spsc && d.ring_kind != RingKind::Mpsc &&
      d.ring_kind != RingKind::Broadcast)
    return fmt::format("unknown ring kind {}", static_cast<std::uint32_t>(d.ring_kind));
  const queue::RingGeometry g{d.capacity_bytes, d.max_frame_bytes};
  if (auto problem = g.problem(); !problem.empty()) return std::string(problem);
  if (d.segment_bytes != segment_bytes_for(d.capacity_bytes))
    return fmt::format("segment size field {} does not match capacity {}", d.segment_bytes,
                       d.capacity_bytes);
  if (mapped_bytes < d.segment_bytes)
    return fmt::format("truncated: {} bytes, descriptor needs {}", mapped_bytes, d.segment_bytes);
  return {};
}

Segment Segment::open_or_create(const SegmentOptions& o) {
  const std::size_t capacity = o.capacity_bytes.value_or(default_capacity_bytes);
  const std::size_t max_frame = o.max_frame_bytes.value_or(default_max_frame_bytes);
  auto open_matching = [&] {
    Segment s = open_existing(o.name, o.file_backed, o.open_timeout);
    check_matches(s.geometry(), s.kind(), o);
    return s;
  };
  if (!o.may_create) return open_matching();
  // With a default filled in, a geometry unfit for a new segment may still
  // name an existing one (unset fields take its values): open that.
  if (auto problem = queue::RingGeometry{capacity, max_frame}.problem(); !problem.empty()) {
    const bool defaulted = !o.capacity_bytes || !o.max_frame_bytes;
    if (defaulted && Backing::try_open(o.name, o.file_backed)) return open_matching();
    throw SegmentError(fmt::format("segment '{}': {}{}", o.name, problem,
                                   defaulted ? fmt::format(" (capacity {} and max_frame {}, defaults "
                                                           "included)", capacity, max_frame)
                                             : ""));
  }
  if (capacity < o.min_new_capacity_bytes) {
    if (Backing::try_open(o.name, o.file_backed)) return open_matching();
    throw SegmentError(fmt::format("segment '{}': capacity {}{} is below the {} needed", o.name, capacity,
                                   o.capacity_bytes ? "" : " (the default; set capacity=)",
                                   o.min_new_capacity_bytes));
  }
  if (auto created = Backing::try_create(o.name, o.file_backed, o.mode)) {
    const std::size_t bytes = segment_bytes_for(capacity);
    try {
      created->allocate(bytes);  // zero bytes: the rings' initial state
      auto region = created->map(bytes);
      format(*static_cast<SegmentDescriptor*>(region.get_address()), o, capacity, max_frame);
      return Segment(o.name, std::move(region), {capacity, max_frame}, o.kind.value_or(RingKind::Spsc), true);
    } catch (const SegmentError&) {
      // Unformatted, it would refuse every later open for good ("not
      // initialised"): take it away so the next attempt starts afresh.
      remove(o.name, o.file_backed);
      throw;
    }
  }
  return open_matching();
}

Segment Segment::open_existing(const std::string& name, bool file_backed,
                               std::chrono::milliseconds timeout) {
  auto backing = Backing::try_open(name, file_backed);
  if (!backing) throw SegmentError(fmt::format("segment '{}' does not exist", name));
  auto opened = map_initialised(*backing, name, timeout);
  return Segment(name, std::move(opened.region), opened.geometry, opened.kind, false);
}

bool Segment::remove(const std::string& name, bool file_backed) {
  if (file_backed) return ::unlink(name.c_str()) == 0;
  return bip::shared_memory_object::remove(name.c_str());
}

Segment::Segment(std::string name, bip::mapped_region region, queue::RingGeometry geometry, RingKind kind,
                 bool created)
    : name_(std::move(name)),
      region_(std::move(region)),
      descriptor_(static_cast<SegmentDescriptor*>(region_.get_address())),
      created_(created),
      geometry_(geometry),
      kind_(kind) {
  prefault(region_);
}

Segment::Segment(Segment&& other) noexcept
    : name_(std::move(other.name_)),
      region_(std::move(other.region_)),
      descriptor_(std::exchange(other.descriptor_, &detached_descriptor())),
      created_(other.created_),
      geometry_(other.geometry_),
      kind_(other.kind_) {}

std::span<std::byte> Segment::ring_region() const noexcept {
  auto* base = static_cast<std::byte*>(region_.get_address());
  return {base + ring_offset, queue::ring_required_bytes(geometry_.capacity_bytes)};
}

}  // namespace sluice::shm
