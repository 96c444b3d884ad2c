// layer_pingpong: where a sluice round trip spends its time beyond the
// floor, layer by layer, measured in one process pair.
//
// Six 64-byte two-process ping-pongs take turns in blocks of round trips
// between the same two pinned processes:
//   raw-cacheline   one cache line per direction, the message's own first
//                   word is the signal (the floor; as sluice-bench's row)
//   restart-model   the memory protocol of sluice's spsc ring and nothing
//                   else: a 32-byte header and the payload in the same
//                   first bytes of the ring every time, a length word as
//                   the commit, the consumer zeroing what it read on its
//                   next poll, the producer waiting for that word to clear
//   spsc-ring       queue::SpscRing itself, over shared memory
//   sluice-shm      Publication/Subscription on a shm channel
//   pub-to-ring     a Publication sends, a bare SpscRing reads (the
//                   channel's segment): the API's sending share alone
//   ring-to-sub     a bare SpscRing sends (stamping a session and seqs as
//                   a Publication does), a Subscription reads: its share
// Each block's p50 is divided by the raw block's p50 next to it: on a VM
// whose vCPU placement moves every second or so (raw RTT 100 ns one
// moment, 400 ns the next), separate runs compare different machines, and
// only ratios of neighbouring blocks are fair. The report gives the median
// and quartiles of those ratios (of the blocks' p50s, and of their trimmed
// means, see trimmed_mean), and each row's percentiles over all its round
// trips. Output: a table, and JSON with --json FILE.
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "queue/spsc_ring.hpp"
#include "shm/segment.hpp"
#include "shm/wait_strategy.hpp"
#include "sluice.hpp"
#include "transport/shm_channel.hpp"
#include "transport/uri.hpp"
#include "tools/bench/clock.hpp"
#include "tools/bench/cpu_pinning.hpp"

namespace {

using namespace sluice;
constexpr std::size_t message_bytes = 64;
constexpr std::size_t ring_capacity = 1 << 20;

std::atomic_ref<std::uint64_t> word64(std::byte* at) {
  return std::atomic_ref<std::uint64_t>(*reinterpret_cast<std::uint64_t*>(at));
}
std::atomic_ref<std::uint32_t> word32(std::byte* at) {
  return std::atomic_ref<std::uint32_t>(*reinterpret_cast<std::uint32_t*>(at));
}

// One direction of each row: send() and receive() a 64-byte message.
struct RawLine {
  std::byte* line;
  std::uint64_t count = 0;
  void send(const std::byte* msg) {
    std::memcpy(line + 8, msg + 8, message_bytes - 8);
    word64(line).store(++count, std::memory_order_release);
  }
  void receive(std::byte* msg) {
    ++count;
    while (word64(line).load(std::memory_order_acquire) != count) shm::IdleWaiter::pause();
    std::memcpy(msg + 8, line + 8, message_bytes - 8);
  }
};

struct RestartModel {
  std::byte* frame;
  bool read_one = false;
  void send(const std::byte* msg) {
    queue::prefetch_for_write(frame);
    queue::prefetch_for_write(frame + 64);
    while (word32(frame).load(std::memory_order_acquire) != 0) shm::IdleWaiter::pause();
    std::memcpy(frame + 32, msg, message_bytes);
    std::memset(frame + 4, 0, 28);
    word32(frame).store(32 + message_bytes, std::memory_order_release);
  }
  void receive(std::byte* msg) {
    if (read_one) {  // hand the frame back, as the ring's next (empty) poll does
      std::memset(frame + 4, 0, 32 + message_bytes - 4);
      word32(frame).store(0, std::memory_order_release);
    }
    while (word32(frame).load(std::memory_order_acquire) == 0) shm::IdleWaiter::pause();
    std::memcpy(msg, frame + 32, message_bytes);
    read_one = true;
  }
};

// A session id no Publication draws for a while: a Subscription reading a
// bare ring's frames takes them for a session that began after it did.
constexpr std::uint32_t bare_ring_session = 0x7fff0000;

struct Ring {
  queue::SpscRing ring;
  std::uint64_t next_seq = 1;
  void send(const std::byte* msg) {
    const queue::FrameFields fields{.session_id = bare_ring_session, .seq = next_seq};
    while (!ring.offer(std::span<const std::byte>(msg, message_bytes), fields)) {
    }
    ++next_seq;
  }
  void receive(std::byte* msg) {
    for (;;) {
      const auto got = ring.poll(
          [&](const queue::FrameView& f) { std::memcpy(msg, f.payload().data(), message_bytes); }, 1);
      if (got && *got == 1) return;
      shm::IdleWaiter::pause();  // as a spinning Subscription does between empty polls
    }
  }
};

void send_via(Publication& pub, const std::byte* msg) {
  while (!pub.offer(std::span<const std::byte>(msg, message_bytes))) {
  }
}

void receive_via(Subscription& sub, std::byte* msg) {
  for (;;) {
    const auto got =
        sub.poll([&](const Message& m) { std::memcpy(msg, m.payload().data(), message_bytes); }, 1);
    if (got && *got == 1) return;
  }
}

struct Channel {
  std::optional<Publication> pub;
  std::optional<Subscription> sub;
  void send(const std::byte* msg) { send_via(*pub, msg); }
  void receive(std::byte* msg) { receive_via(*sub, msg); }
};

// A bare ring on a channel's segment: one end of the mixed rows.
struct SegmentRing {
  explicit SegmentRing(const std::string& channel)
      : segment(detail::open_channel_segment(Uri::parse(channel).shm)),
        end{queue::SpscRing(segment.ring_region(), segment.geometry())} {}
  shm::Segment segment;
  Ring end;
};

struct PubToRing {
  std::optional<Publication> pub;
  std::optional<SegmentRing> ring;
  void send(const std::byte* msg) { send_via(*pub, msg); }
  void receive(std::byte* msg) { ring->end.receive(msg); }
};

struct RingToSub {
  std::optional<SegmentRing> ring;
  std::optional<Subscription> sub;
  void send(const std::byte* msg) { ring->end.send(msg); }
  void receive(std::byte* msg) { receive_via(*sub, msg); }
};

// A row: one instance per direction ([0] initiator -> responder).
template <class Direction>
struct Row {
  Direction to_responder, to_initiator;
};

struct Options {
  int blocks = 60;
  int block_round_trips = 1000;
  std::string json_path;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const bool has_value = i + 1 < argc;
    if (a == "--blocks" && has_value) {
      o.blocks = std::max(3, std::atoi(argv[++i]));
    } else if (a == "--block" && has_value) {
      o.block_round_trips = std::max(100, std::atoi(argv[++i]));
    } else if (a == "--json" && has_value) {
      o.json_path = argv[++i];
    } else {
      std::fprintf(stderr, "usage: layer_pingpong [--blocks N] [--block ROUND_TRIPS] [--json FILE]\n");
      std::exit(2);
    }
  }
  return o;
}

double percentile(std::vector<std::uint64_t> v, double p) {
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<std::size_t>(p * static_cast<double>(v.size() - 1))]);
}

// Mean of the middle 80% of a block. The TSC read here moves in 10 ns
// steps (about 0.1x of the raw row where the vCPUs are close), so p50
// ratios move in steps too; the trimmed mean tells apart variants whose
// p50 falls into the same step.
double trimmed_mean(std::vector<std::uint64_t> v) {
  std::sort(v.begin(), v.end());
  const std::size_t cut = v.size() / 10;
  double sum = 0;
  for (std::size_t i = cut; i < v.size() - cut; ++i) sum += static_cast<double>(v[i]);
  return sum / static_cast<double>(v.size() - 2 * cut);
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = parse(argc, argv);
  const std::size_t ring_bytes = queue::ring_required_bytes(ring_capacity);
  // One page-aligned area per direction and row.
  const std::size_t area_bytes = (ring_bytes + 4095) / 4096 * 4096;
  const std::size_t areas = 6;
  auto* mem = static_cast<std::byte*>(mmap(nullptr, area_bytes * areas, PROT_READ | PROT_WRITE,
                                           MAP_SHARED | MAP_ANONYMOUS | MAP_POPULATE, -1, 0));
  if (mem == MAP_FAILED) {
    std::perror("mmap");
    return 1;
  }
  const auto area = [&](std::size_t i) { return mem + area_bytes * i; };
  const std::string base = "shm:layer-pingpong-" + std::to_string(::getpid());
  const std::string ping = base + "-ping", pong = base + "-pong";
  const std::string p2r_ping = base + "-p2r-ping", p2r_pong = base + "-p2r-pong";
  const std::string r2s_ping = base + "-r2s-ping", r2s_pong = base + "-r2s-pong";
  const auto remove_channels = [&] {
    for (const auto* c : {&ping, &pong, &p2r_ping, &p2r_pong, &r2s_ping, &r2s_pong}) Context::remove_channel(*c);
  };
  const bench::TickClock clock = bench::TickClock::calibrate();
  const bench::CpuPlan cpus = bench::plan_cpus();

  // The last word of the shared memory: the responder's set-up result.
  std::atomic_ref<std::uint32_t> responder_state(*reinterpret_cast<std::uint32_t*>(mem + area_bytes * areas - 4));
  enum : std::uint32_t { setting_up = 0, ready = 1, failed = 2 };

  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("fork");
    return 1;
  }
  const bool responder = child == 0;
  if (responder) (void)::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the initiator
  ::alarm(120);  // a peer that died mid-run leaves the other spinning: end it

  const queue::RingGeometry geometry{ring_capacity, 64 * 1024};
  Row<RawLine> raw{{area(0)}, {area(1)}};
  Row<RestartModel> model{{area(2)}, {area(3)}};
  Row<Ring> ring{{queue::SpscRing(std::span(area(4), ring_bytes), geometry)},
                 {queue::SpscRing(std::span(area(5), ring_bytes), geometry)}};
  Context ctx;
  Row<Channel> shm;
  Row<PubToRing> p2r;
  Row<RingToSub> r2s;
  try {
    // Either side may create a channel.
    if (responder) {
      shm.to_responder.sub.emplace(ctx.subscription(ping));
      shm.to_initiator.pub.emplace(ctx.publication(pong));
      p2r.to_responder.ring.emplace(p2r_ping);
      p2r.to_initiator.pub.emplace(ctx.publication(p2r_pong));
      r2s.to_responder.sub.emplace(ctx.subscription(r2s_ping));
      r2s.to_initiator.ring.emplace(r2s_pong);
    } else {
      shm.to_responder.pub.emplace(ctx.publication(ping));
      shm.to_initiator.sub.emplace(ctx.subscription(pong));
      p2r.to_responder.pub.emplace(ctx.publication(p2r_ping));
      p2r.to_initiator.ring.emplace(p2r_pong);
      r2s.to_responder.ring.emplace(r2s_ping);
      r2s.to_initiator.sub.emplace(ctx.subscription(r2s_pong));
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "layer_pingpong: %s\n", e.what());
    if (responder) {
      responder_state.store(failed, std::memory_order_release);
      return 1;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    remove_channels();
    return 1;
  }
  if (responder) {
    responder_state.store(ready, std::memory_order_release);
  } else {
    // Wait for the responder (or its failure, or its end) before timing.
    while (responder_state.load(std::memory_order_acquire) == setting_up &&
           ::waitpid(child, nullptr, WNOHANG) == 0)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (responder_state.load(std::memory_order_acquire) != ready) {
      std::fprintf(stderr, "layer_pingpong: the responder could not set up\n");
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
      remove_channels();
      return 1;
    }
  }
  // Pinned after the Context started its heartbeat thread, which stays unpinned.
  bench::pin_this_thread(responder ? cpus.peer_cpu : cpus.tool_cpu);

  constexpr int rows = 6;
  const char* names[rows] = {"raw-cacheline", "restart-model", "spsc-ring", "sluice-shm", "pub-to-ring", "ring-to-sub"};
  std::vector<std::uint64_t> block[rows];  // round trips, ns
  std::vector<std::uint64_t> all[rows];
  std::vector<double> ratios[rows];
  std::vector<double> mean_ratios[rows];  // trimmed_mean of the block / the raw block's
  std::byte msg[message_bytes]{};
  const auto run = [&](auto& row, int index) {
    auto& out = responder ? row.to_initiator : row.to_responder;
    auto& in = responder ? row.to_responder : row.to_initiator;
    block[index].resize(static_cast<std::size_t>(o.block_round_trips));
    for (auto& sample : block[index]) {
      if (responder) {
        in.receive(msg);
        out.send(msg);
        continue;
      }
      const std::uint64_t t0 = clock.ticks();
      out.send(msg);
      in.receive(msg);
      sample = clock.to_ns(clock.ticks() - t0);
    }
  };
  // Two warm-up blocks, then the measured ones.
  for (int b = 0; b < o.blocks + 2; ++b) {
    run(raw, 0);
    run(model, 1);
    run(ring, 2);
    run(shm, 3);
    run(p2r, 4);
    run(r2s, 5);
    if (responder || b < 2) continue;
    const double raw_p50 = percentile(block[0], 0.5);
    const double raw_mean = trimmed_mean(block[0]);
    for (int r = 0; r < rows; ++r) {
      ratios[r].push_back(percentile(block[r], 0.5) / raw_p50);
      mean_ratios[r].push_back(trimmed_mean(block[r]) / raw_mean);
      all[r].insert(all[r].end(), block[r].begin(), block[r].end());
    }
  }
  if (responder) return 0;  // its destructors remove its counters segment
  ::waitpid(child, nullptr, 0);
  remove_channels();

  nlohmann::json report = {{"bench", "layer_pingpong"},
                           {"message_bytes", message_bytes},
                           {"blocks", o.blocks},
                           {"block_round_trips", o.block_round_trips},
                           {"rows", nlohmann::json::array()}};
  std::printf("64-byte ping-pong, %d blocks of %d round trips per row, rows taking turns\n", o.blocks,
              o.block_round_trips);
  std::printf("%-15s %8s %8s %8s   %-26s %s\n", "row", "p50 ns", "p99 ns", "p99.9 ns",
              "block p50 / raw block p50", "trimmed mean / raw's");
  std::printf("%-15s %8s %8s %8s   %-26s %s\n", "", "", "", "", "median (quartiles)", "median (quartiles)");
  for (int r = 0; r < rows; ++r) {
    const auto quartiles = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      const auto at = [&](double q) { return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))]; };
      return nlohmann::json{{"median", at(0.5)}, {"q1", at(0.25)}, {"q3", at(0.75)}};
    };
    const auto p50_ratio = quartiles(ratios[r]), mean_ratio = quartiles(mean_ratios[r]);
    const double p50 = percentile(all[r], 0.5), p99 = percentile(all[r], 0.99), p999 = percentile(all[r], 0.999);
    std::printf("%-15s %8.0f %8.0f %8.0f   %.2fx (%.2f..%.2f)         %.2fx (%.2f..%.2f)\n", names[r], p50, p99,
                p999, p50_ratio["median"].get<double>(), p50_ratio["q1"].get<double>(),
                p50_ratio["q3"].get<double>(), mean_ratio["median"].get<double>(), mean_ratio["q1"].get<double>(),
                mean_ratio["q3"].get<double>());
    report["rows"].push_back({{"name", names[r]},
                              {"rtt_ns", {{"p50", p50}, {"p99", p99}, {"p999", p999}}},
                              {"p50_ratio_to_raw", p50_ratio},
                              {"trimmed_mean_ratio_to_raw", mean_ratio}});
  }
  if (!o.json_path.empty()) {
    std::ofstream out(o.json_path);
    out << report.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "layer_pingpong: cannot write %s\n", o.json_path.c_str());
      return 1;
    }
  }
  return 0;
}
