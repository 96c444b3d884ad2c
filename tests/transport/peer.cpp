// Test peer: a real process that publishes or subscribes the deterministic
// workload (workload.hpp) and prints one result line the tests parse.
//
//   test_peer publish   URI COUNT MAX_BYTES [--seed S] [--pace-us N] [--until-killed]
//                                           [--backpressure-timeout-ms N]
//   test_peer subscribe URI COUNT MAX_BYTES [--seed S] [--sessions N] [--timeout-ms N]
//                                           [--until-gone] [--index-by-seq]
//   either: [--publisher-timeout-ms N] (ContextOptions::publisher_timeout)
//
// publish prints "published=N backpressured=B"; subscribe prints
// "received=N sessions=S bad=X end=reason duplicates=D lost=L"; exit 0 when
// everything was as expected.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sluice.hpp"
#include "tests/transport/workload.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Args {
  std::string role, uri;
  std::uint64_t count = 0;
  std::size_t max_bytes = 0;
  std::uint64_t seed = 42;
  std::uint64_t sessions = 1;
  long pace_us = 0;
  long timeout_ms = 60'000;
  long backpressure_timeout_ms = 0;
  long publisher_timeout_ms = 0;  // 0: the default
  bool until_killed = false;
  bool until_gone = false;
  bool index_by_seq = false;
  std::string reply_uri = {};  // echo: where each message goes back
};

Args parse(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: test_peer publish|subscribe|echo URI COUNT MAX_BYTES [options]\n");
    std::exit(2);
  }
  Args a{argv[1], argv[2], std::strtoull(argv[3], nullptr, 10), std::strtoull(argv[4], nullptr, 10)};
  for (int i = 5; i < argc; ++i) {
    std::string opt = argv[i];
    auto next = [&] { return i + 1 < argc ? argv[++i] : (std::exit(2), nullptr); };
    if (opt == "--seed") a.seed = std::strtoull(next(), nullptr, 10);
    else if (opt == "--sessions") a.sessions = std::strtoull(next(), nullptr, 10);
    else if (opt == "--pace-us") a.pace_us = std::strtol(next(), nullptr, 10);
    else if (opt == "--timeout-ms") a.timeout_ms = std::strtol(next(), nullptr, 10);
    else if (opt == "--backpressure-timeout-ms") a.backpressure_timeout_ms = std::strtol(next(), nullptr, 10);
    else if (opt == "--publisher-timeout-ms") a.publisher_timeout_ms = std::strtol(next(), nullptr, 10);
    else if (opt == "--until-killed") a.until_killed = true;
    else if (opt == "--until-gone") a.until_gone = true;
    else if (opt == "--index-by-seq") a.index_by_seq = true;
    else if (opt == "--reply") a.reply_uri = next();
    else { std::fprintf(stderr, "unknown option %s\n", opt.c_str()); std::exit(2); }
  }
  return a;
}

sluice::ContextOptions context_options(const Args& a) {
  sluice::ContextOptions o;
  if (a.publisher_timeout_ms > 0) o.publisher_timeout = std::chrono::milliseconds(a.publisher_timeout_ms);
  return o;
}

int publish(const Args& a) {
  sluice::Context ctx(context_options(a));
  auto pub = ctx.publication(a.uri);
  std::vector<std::byte> buffer(a.max_bytes);
  std::uint64_t backpressured = 0;
  std::uint64_t i = 0;
  for (; a.until_killed || i < a.count; ++i) {
    const std::size_t size = sluice::test::message_size(a.seed, i, a.max_bytes);
    sluice::test::fill_message(std::span(buffer).first(size), a.seed, i);
    const auto stuck_since = Clock::now();
    for (;;) {
      auto r = pub.offer(std::span(buffer).first(size));
      if (r) break;
      if (r.error() != sluice::Error::BackPressured) {
        std::fprintf(stderr, "offer failed: %s\n", std::string(to_string(r.error())).c_str());
        return 1;
      }
      ++backpressured;
      std::this_thread::yield();  // let the subscriber run: cores may be shared
      if (a.backpressure_timeout_ms > 0 &&
          Clock::now() - stuck_since > std::chrono::milliseconds(a.backpressure_timeout_ms)) {
        std::printf("published=%llu backpressured=%llu\n", (unsigned long long)i,
                    (unsigned long long)backpressured);
        return 0;
      }
    }
    if (a.pace_us > 0) std::this_thread::sleep_for(std::chrono::microseconds(a.pace_us));
  }
  std::printf("published=%llu backpressured=%llu\n", (unsigned long long)i,
              (unsigned long long)backpressured);
  return 0;
}

int subscribe(const Args& a) {
  sluice::Context ctx(context_options(a));
  auto sub = ctx.subscription(a.uri);
  std::printf("ready\n");
  std::fflush(stdout);
  std::map<std::uint32_t, std::uint64_t> next_index;  // per session
  std::uint64_t received = 0, bad = 0;
  const auto deadline = Clock::now() + std::chrono::milliseconds(a.timeout_ms);
  const std::uint64_t expected = a.count * a.sessions;
  std::string end = "count";
  auto handler = [&](const sluice::Message& m) {
    auto& index = next_index[m.session_id()];
    // With losses (a lapped broadcast reader) the seq says which message
    // this is; frames are messages as long as nothing is fragmented.
    if (a.index_by_seq) index = m.seq() - 1;
    if (!sluice::test::message_matches(m.payload(), a.seed, index, a.max_bytes)) {
      if (bad++ < 5)
        std::fprintf(stderr, "bad message: session %u index %llu size %zu\n", m.session_id(),
                     (unsigned long long)index, m.payload().size());
    }
    ++index;
    ++received;
  };
  while (a.until_gone || received < expected) {
    auto r = sub.poll(handler, 64);
    if (!r) {
      end = std::string(to_string(r.error()));
      std::replace(end.begin(), end.end(), ' ', '-');
      break;
    }
    if (*r == 0 && Clock::now() > deadline) {
      end = "timeout";
      break;
    }
  }
  const auto& c = sub.counters();
  std::printf("received=%llu sessions=%zu bad=%llu end=%s duplicates=%llu lost=%llu\n",
              (unsigned long long)received, next_index.size(), (unsigned long long)bad, end.c_str(),
              (unsigned long long)c.get(sluice::Counter::duplicates),
              (unsigned long long)c.get(sluice::Counter::lost_frames));
  const bool complete = a.until_gone ? end != "timeout" : received == expected;
  return complete && bad == 0 ? 0 : 1;
}

// Sends every message of URI back on --reply, as it came: the other end of a
// request/response exchange.
int echo(const Args& a) {
  sluice::Context ctx;
  auto sub = ctx.subscription(a.uri);
  auto reply = ctx.publication(a.reply_uri);
  std::printf("ready\n");
  std::fflush(stdout);
  std::uint64_t echoed = 0;
  bool failed = false;
  const auto deadline = Clock::now() + std::chrono::milliseconds(a.timeout_ms);
  while (echoed < a.count && !failed) {
    auto r = sub.poll([&](const sluice::Message& m) {
      for (;;) {
        auto sent = reply.offer(m.payload());
        if (sent) break;
        if (sent.error() != sluice::Error::BackPressured || Clock::now() > deadline) {
          failed = true;
          return;
        }
      }
      ++echoed;
    }, 64);
    if (!r || (*r == 0 && Clock::now() > deadline)) break;
  }
  std::printf("echoed=%llu\n", (unsigned long long)echoed);
  return echoed == a.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  try {
    if (a.role == "publish") return publish(a);
    if (a.role == "subscribe") return subscribe(a);
    if (a.role == "echo") return echo(a);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "test_peer: %s\n", e.what());
    return 3;
  }
  std::fprintf(stderr, "unknown role %s\n", a.role.c_str());
  return 2;
}
