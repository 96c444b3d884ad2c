// Untrusted segments: whatever another process left in shared memory or a
// journal file, opening it gives a clear error and never a crash.
#include "shm/segment.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/shared_memory_object.hpp>
#include <filesystem>
#include <fstream>
#include <random>

#include "sluice.hpp"
#include "tests/support/child_process.hpp"

namespace sluice::shm {
namespace {

namespace bip = boost::interprocess;

struct SegmentTest : ::testing::Test {
  std::string name = test::unique_name("sluice-seg");
  ~SegmentTest() override { Segment::remove(name, false); }

  SegmentOptions options() const {
    SegmentOptions o;
    o.name = name;
    o.capacity_bytes = 64 << 10;
    o.max_frame_bytes = 1024;
    return o;
  }
  // Writes raw bytes as a shm object, as a foreign or broken process would.
  void write_raw(const std::vector<std::byte>& bytes) const {
    bip::shared_memory_object shm(bip::create_only, name.c_str(), bip::read_write);
    shm.truncate(static_cast<bip::offset_t>(bytes.size()));
    bip::mapped_region r(shm, bip::read_write);
    std::memcpy(r.get_address(), bytes.data(), bytes.size());
  }
  std::string open_error() const {
    try {
      (void)Segment::open_existing(name, false);
    } catch (const SegmentError& e) {
      return e.what();
    }
    return "";
  }
  SegmentDescriptor copy_of_valid_descriptor() {
    auto s = Segment::open_or_create(options());
    SegmentDescriptor d = s.descriptor();
    Segment::remove(name, false);
    return d;
  }
};

TEST_F(SegmentTest, CreatedSegmentIsOwnerOnlyByDefault) {
  auto s = Segment::open_or_create(options());
  struct stat st{};
  ASSERT_EQ(::stat(("/dev/shm/" + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_TRUE(s.created());
}

TEST_F(SegmentTest, ModeIsConfigurable) {
  auto o = options();
  o.mode = 0640;
  auto s = Segment::open_or_create(o);
  struct stat st{};
  ASSERT_EQ(::stat(("/dev/shm/" + name).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
}

TEST_F(SegmentTest, SecondOpenSeesTheSameGeometry) {
  auto a = Segment::open_or_create(options());
  SegmentOptions bare;
  bare.name = name;
  auto b = Segment::open_or_create(bare);
  EXPECT_FALSE(b.created());
  EXPECT_EQ(b.geometry().capacity_bytes, 64u << 10);
  EXPECT_EQ(b.kind(), RingKind::Spsc);
}

// Unset fields take the existing segment's values, even where the
// defaults would not fit the given one (max_frame 64k > capacity 64k / 8).
TEST_F(SegmentTest, OpenGivingOnlySomeOfTheGeometryTakesTheRestFromTheSegment) {
  auto a = Segment::open_or_create(options());
  SegmentOptions capacity_only;
  capacity_only.name = name;
  capacity_only.capacity_bytes = 64 << 10;
  EXPECT_EQ(Segment::open_or_create(capacity_only).geometry().max_frame_bytes, 1024u);
  SegmentOptions wrong_frame = capacity_only;
  wrong_frame.max_frame_bytes = 2048;
  EXPECT_THROW((void)Segment::open_or_create(wrong_frame), SegmentError);
}

TEST_F(SegmentTest, GeometryUnfitWithItsDefaultsCreatesNothingAndSaysSo) {
  SegmentOptions o;
  o.name = name;
  o.capacity_bytes = 64 << 10;  // max_frame defaults to 64k: above capacity / 8
  try {
    (void)Segment::open_or_create(o);
    FAIL() << "created";
  } catch (const SegmentError& e) {
    EXPECT_NE(std::string(e.what()).find("defaults included"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(Segment::remove(name, false));
}

TEST_F(SegmentTest, RandomBytesAreNotASegment) {
  std::vector<std::byte> junk(1 << 16);
  std::mt19937 rng(5);
  for (auto& b : junk) b = std::byte(rng());
  write_raw(junk);
  EXPECT_NE(open_error().find("bad magic"), std::string::npos) << open_error();
}

TEST_F(SegmentTest, TruncatedSegmentIsRefused) {
  auto d = copy_of_valid_descriptor();
  std::vector<std::byte> bytes(ring_offset + 1000);
  std::memcpy(bytes.data(), &d, sizeof d);
  write_raw(bytes);
  EXPECT_NE(open_error().find("truncated"), std::string::npos) << open_error();
}

TEST_F(SegmentTest, OtherLayoutVersionIsRefused) {
  auto d = copy_of_valid_descriptor();
  d.layout_version = 99;
  std::vector<std::byte> bytes(d.segment_bytes);
  std::memcpy(bytes.data(), &d, sizeof d);
  write_raw(bytes);
  EXPECT_NE(open_error().find("layout version 99"), std::string::npos) << open_error();
}

TEST_F(SegmentTest, CorruptGeometryIsRefused) {
  auto d = copy_of_valid_descriptor();
  d.capacity_bytes = 3000;  // not a power of two
  std::vector<std::byte> bytes(1 << 20);
  std::memcpy(bytes.data(), &d, sizeof d);
  write_raw(bytes);
  EXPECT_NE(open_error().find("power of two"), std::string::npos) << open_error();
}

TEST_F(SegmentTest, WrongKindIsRefusedWhenAKindIsAskedFor) {
  auto a = Segment::open_or_create(options());
  auto o = options();
  o.kind = RingKind::Broadcast;
  try {
    (void)Segment::open_or_create(o);
    FAIL();
  } catch (const SegmentError& e) {
    EXPECT_NE(std::string(e.what()).find("is a spsc ring, not broadcast"), std::string::npos) << e.what();
  }
}

TEST_F(SegmentTest, SegmentWhoseCreatorDiedBeforeTheMagicTimesOutWithAnError) {
  write_raw(std::vector<std::byte>(8192));  // all zero: never initialised
  try {
    (void)Segment::open_existing(name, false, std::chrono::milliseconds(50));
    FAIL();
  } catch (const SegmentError& e) {
    EXPECT_NE(std::string(e.what()).find("not initialised"), std::string::npos) << e.what();
  }
}

TEST_F(SegmentTest, MissingSegmentIsReportedByName) {
  EXPECT_NE(open_error().find("does not exist"), std::string::npos);
}

// A creation that fails after the object exists (here: over the file size
// limit) is a SegmentError and leaves nothing behind: an unformatted
// object would refuse every later open of the name ("not initialised").
TEST_F(SegmentTest, FailedCreationLeavesNoHalfMadeSegment) {
  rlimit old{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = ::signal(SIGXFSZ, SIG_IGN);
  rlimit small = old;
  small.rlim_cur = 16 << 10;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string error;
  try {
    (void)Segment::open_or_create(options());
  } catch (const SegmentError& e) {
    error = e.what();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  ::signal(SIGXFSZ, old_handler);
  EXPECT_NE(error.find("allocating"), std::string::npos) << error;
  EXPECT_NE(open_error().find("does not exist"), std::string::npos);
  EXPECT_NO_THROW((void)Segment::open_or_create(options()));
}

// Geometry comes from the one copy of the descriptor that was validated
// against the object's size: a process rewriting it while we open (corrupt
// or hostile) cannot get us to map or read past the object's end.
TEST_F(SegmentTest, DescriptorRewrittenWhileOpeningNeverMapsPastTheObject) {
  auto s = Segment::open_or_create(options());
  auto& d = s.descriptor();
  const std::uint64_t small_cap = 64 << 10, big_cap = 4 << 20;
  const std::uint64_t small_bytes = ring_offset + queue::ring_required_bytes(small_cap);
  const std::uint64_t big_bytes = ring_offset + queue::ring_required_bytes(big_cap);
  // The opener is a child, so a SIGBUS is a failed status, not a dead runner.
  const pid_t opener = ::fork();
  if (opener == 0) {
    ::alarm(30);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < until) {
      try {
        auto other = Segment::open_existing(name, false);
        if (other.geometry().capacity_bytes != small_cap) ::_exit(3);
      } catch (const SegmentError&) {
      }
    }
    ::_exit(0);
  }
  ASSERT_GT(opener, 0);
  int status = 0;
  while (::waitpid(opener, &status, WNOHANG) == 0) {
    shared(d.capacity_bytes).store(big_cap, std::memory_order_relaxed);
    shared(d.segment_bytes).store(big_bytes, std::memory_order_relaxed);
    shared(d.capacity_bytes).store(small_cap, std::memory_order_relaxed);
    shared(d.segment_bytes).store(small_bytes, std::memory_order_relaxed);
  }
  ASSERT_TRUE(WIFEXITED(status)) << "the opener died by signal " << WTERMSIG(status);
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the opener took a geometry beyond the object";
}

TEST(JournalFile, PathThatIsADirectoryIsRefused) {
  const auto dir = std::filesystem::temp_directory_path() / test::unique_name("journal-dir");
  std::filesystem::create_directory(dir);
  SegmentOptions o;
  o.name = dir.string();
  o.file_backed = true;
  try {
    (void)Segment::open_or_create(o);
    ADD_FAILURE() << "a directory was opened as a journal";
  } catch (const SegmentError& e) {
    EXPECT_NE(std::string(e.what()).find("not a regular file"), std::string::npos) << e.what();
  }
  std::filesystem::remove(dir);
}

TEST(JournalFile, TruncatedFileIsRefused) {
  const auto path = std::filesystem::temp_directory_path() / (test::unique_name("trunc") + ".sluice");
  {
    SegmentOptions o;
    o.name = path.string();
    o.file_backed = true;
    o.capacity_bytes = 64 << 10;
    o.max_frame_bytes = 1024;
    (void)Segment::open_or_create(o);
  }
  std::filesystem::resize_file(path, 5000);
  try {
    (void)Segment::open_existing(path.string(), true);
    FAIL();
  } catch (const SegmentError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
  std::filesystem::remove(path);
}

TEST(CorruptRing, FrameLengthPointingOutsideTheRingIsReportedNotRead) {
  Context ctx;
  const auto name = test::unique_name("corrupt");
  auto pub = ctx.publication("shm:" + name + "?capacity=64k&max_frame=1k");
  auto sub = ctx.subscription("shm:" + name);
  ASSERT_TRUE(pub.offer(std::vector<std::byte>(100)));
  // Scribble a huge length over the frame, as a broken process could.
  auto seg = Segment::open_existing("sluice-" + name, false);
  queue::publish_length(seg.ring_region().data(), 0x7ffffff0);
  std::size_t delivered = 0;
  auto r = sub.poll([&](const Message&) { ++delivered; }, 10);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error(), Error::Corrupt);
  EXPECT_EQ(delivered, 0u);
  EXPECT_EQ(sub.counters().get(Counter::corrupt_frames), 1u);
  Segment::remove("sluice-" + name, false);
}

}  // namespace
}  // namespace sluice::shm
