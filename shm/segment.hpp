// A named shared-memory segment (or journal file) holding one ring.
//
// Either side may come first: open_or_create() creates and formats the
// segment if it does not exist, else waits (bounded) for its creator to
// finish and validates every descriptor field. A foreign, truncated,
// wrong-version or wrong-kind segment is refused with SegmentError naming
// the segment and the field. Created 0600 unless told otherwise.
#pragma once

#include <boost/interprocess/file_mapping.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <variant>

#include "queue/ring_layout.hpp"
#include "shm/segment_descriptor.hpp"

namespace sluice::shm {

// Set-up failure: what, which segment, and (where there is one) errno.
class SegmentError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::size_t default_capacity_bytes = 1 << 20;
inline constexpr std::size_t default_max_frame_bytes = 64 << 10;

struct SegmentOptions {
  std::string name;                        // shm object name (without '/'), or journal path
  bool file_backed = false;                // name is a file path (durable journal)
  // Unset fields take the existing segment's value, or the default when
  // creating; a set field that disagrees with an existing segment is an error.
  std::optional<RingKind> kind;                 // default Spsc
  std::optional<std::size_t> capacity_bytes;    // ring data bytes, power of two; default 1 MiB
  std::optional<std::size_t> max_frame_bytes;   // largest frame incl. header; default 64 KiB
  bool may_create = true;                  // false: open an existing segment only
  // A new segment below this capacity is refused before it is made (the
  // caller would refuse it after); an existing one is for the caller to judge.
  std::size_t min_new_capacity_bytes = 0;
  unsigned mode = 0600;                    // permissions of a new segment
  std::uint32_t stream_id = 0;
  std::chrono::milliseconds open_timeout{2000};  // wait for a concurrent creator
};

class Segment {
 public:
  // Creates and formats the segment (if may_create), or opens and validates
  // an existing one.
  static Segment open_or_create(const SegmentOptions& options);
  // Opens an existing segment only (tools, readers that must not create).
  static Segment open_existing(const std::string& name, bool file_backed,
                               std::chrono::milliseconds timeout = std::chrono::milliseconds{0});
  // Removes a named segment; false if it did not exist.
  static bool remove(const std::string& name, bool file_backed);

  // A moved-from segment's descriptor is a zeroed one of this process, in
  // which nobody holds a slot: a moved-from Publication or Subscription
  // then finds itself detached (Closed, NotConnected) at no cost to the
  // hot path, which reads its slot anyway.
  Segment(Segment&& other) noexcept;
  Segment& operator=(Segment&&) = delete;
  ~Segment() = default;

  SegmentDescriptor& descriptor() const noexcept { return *descriptor_; }
  // Geometry and kind as validated at open: another process rewriting the
  // descriptor later cannot make this process read out of bounds.
  std::span<std::byte> ring_region() const noexcept;
  queue::RingGeometry geometry() const noexcept { return geometry_; }
  RingKind kind() const noexcept { return kind_; }
  const std::string& name() const noexcept { return name_; }
  bool created() const noexcept { return created_; }

 private:
  Segment(std::string name, boost::interprocess::mapped_region region, queue::RingGeometry geometry,
          RingKind kind, bool created);

  std::string name_;
  boost::interprocess::mapped_region region_;
  SegmentDescriptor* descriptor_;  // at the start of region_
  bool created_;
  queue::RingGeometry geometry_;
  RingKind kind_;
};

// Why a mapped descriptor is unusable (empty when valid). `mapped_bytes` is
// what the object really holds, so a truncated segment is caught.
std::string describe_invalid(const SegmentDescriptor& d, std::size_t mapped_bytes);

}  // namespace sluice::shm
