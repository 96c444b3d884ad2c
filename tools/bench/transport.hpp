// The adapter contract: what one transport must provide to be benchmarked.
//
// A transport adapter is one small class (one file) that moves fixed-size
// messages between two processes, both directions. The measuring loops
// (pingpong_loop.hpp, throughput_loop.hpp) are templates over it, so the
// hot path has no virtual call: each adapter file instantiates them through
// make_workload<Adapter>() (workload.hpp) and exposes a factory function.
//
// Life of one run (bench_runner.cpp):
//   1. the tool process (Role::initiator) calls open(): it creates every
//      named resource (segments, queues, socket files) and may return a hint
//      for the peer (e.g. its UDP port);
//   2. the tool spawns its peer process, which calls open() as
//      Role::responder with that hint, attaches, and returns its own hint;
//   3. the initiator gets the responder's hint in on_peer_ready();
//   4. the loops call send()/receive(); 5. the objects are destroyed (close
//      everything; the initiator unlinks its names).
//
// Messages: every message is exactly message_bytes long. Its first 8 bytes
// hold the workload's sequence number (native endian, never 0): adapters
// must deliver them untouched. raw-cacheline is the one adapter that relies
// on it (it detects arrival by the seq word changing), which is what makes it
// the physical floor; every other adapter moves the bytes opaquely.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace sluice::bench {

enum class Role : std::uint8_t {
  initiator,  // the measuring tool process: creates named resources, pings, sends
  responder,  // the spawned peer: attaches, echoes, receives
};

struct OpenParams {
  Role role = Role::initiator;
  // Unique per run, e.g. "sluice-bench-4242-3": prefix every name with it
  // (shm segments, queues) so parallel runs never collide and leftovers
  // are attributable to the tool's pid.
  std::string name;
  // A private directory created (and removed) by the tool: socket files go here.
  std::string run_dir;
  // Exact size of every message, >= min_message_bytes.
  std::size_t message_bytes = 64;
  // Responder only: what the initiator's open() returned.
  std::string peer_hint;
  // Whether this run measures throughput (one-way) or ping-pong; an adapter
  // may size its queues differently, never change its semantics.
  bool throughput = false;
};

inline constexpr std::size_t min_message_bytes = 8;  // the sequence number

// Hot-path rules for send/receive: no allocation, no syscall other than the
// transport's own, never throw. Blocking adapters block, spinning adapters
// spin; both wait as long as it takes (the tool's supervisor bounds every
// run: a dead or stuck peer ends the whole process, see supervisor.hpp).
template <class T>
concept BenchTransport = requires(T t, const T ct, const OpenParams& params, std::string_view hint,
                                  std::span<const std::byte> out, std::span<std::byte> in) {
  // Set-up. Throws std::runtime_error with a one-line reason on failure.
  { t.open(params) } -> std::same_as<std::string>;
  // Initiator only, after the responder's open(). Throws on failure.
  { t.on_peer_ready(hint) } -> std::same_as<void>;
  // Delivers one message (out.size() == message_bytes); waits while the
  // transport is full. false: the transport is broken (peer gone).
  { t.send(out) } noexcept -> std::same_as<bool>;
  // Waits for one message and copies it into `in` (in.size() ==
  // message_bytes). false: the transport is broken.
  { t.receive(in) } noexcept -> std::same_as<bool>;
  // Removes every name either side may have created for this run. Called
  // by the supervisor thread while the main thread may still be in send or
  // receive: only unlink names, never close or unmap anything here.
  { ct.unlink_names() } noexcept -> std::same_as<void>;
};

// What a batch receiver is called with (see BatchReceive).
struct MessageVisitor {
  void operator()(std::span<const std::byte> message) noexcept;
};

// Optional, for the throughput sink only: an adapter whose transport can
// hand over several messages in place (a ring's poll, a recvmmsg batch) may
// add
//   template <class F> long receive_batch(F&& on_message, std::size_t limit) noexcept;
// It waits like receive() for at least one message, calls on_message(span)
// for each of up to `limit` available messages in order (the span is valid
// only during the call), and returns how many, or -1 when broken. The sink
// then uses it instead of receive(): no copy, and the transport can
// release a whole batch at once, as a real consumer would.
template <class T>
concept BatchReceive = requires(T t, MessageVisitor visitor, std::size_t limit) {
  { t.receive_batch(visitor, limit) } noexcept -> std::same_as<long>;
};

}  // namespace sluice::bench
