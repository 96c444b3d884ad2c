#include "transport/uri.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "transport/errors.hpp"

namespace sluice {

namespace {

[[noreturn]] void fail(std::string_view uri, std::string_view what) {
  throw SetupError(fmt::format("bad channel URI '{}': {}", uri, what));
}

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

template <class T>
T parse_number(std::string_view uri, std::string_view key, std::string_view value, int base = 10) {
  T out{};
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), out, base);
  if (ec != std::errc{} || end != value.data() + value.size() || value.empty())
    fail(uri, fmt::format("{}={} is not a valid number", key, value));
  return out;
}

template <class Enum, std::size_t N>
Enum parse_choice(std::string_view uri, std::string_view key, std::string_view value,
                  const std::pair<std::string_view, Enum> (&choices)[N]) {
  std::string allowed;
  for (const auto& [name, e] : choices) {
    if (name == value) return e;
    allowed += allowed.empty() ? name : fmt::format("|{}", name);
  }
  fail(uri, fmt::format("{}={} is not one of {}", key, value, allowed));
}

void apply(std::string_view uri, ShmChannel& ch, std::string_view key, std::string_view value) {
  using shm::RingKind;
  using shm::WaitKind;
  if (key == "kind") {
    ch.kind = parse_choice(uri, key, value, {std::pair{std::string_view("spsc"), RingKind::Spsc},
                                             {"mpsc", RingKind::Mpsc},
                                             {"broadcast", RingKind::Broadcast}});
  } else if (key == "capacity") {
    ch.capacity_bytes = parse_size(value, "capacity");
  } else if (key == "max_frame") {
    ch.max_frame_bytes = parse_size(value, "max_frame");
  } else if (key == "max_message") {
    ch.max_message_bytes = parse_size(value, "max_message");
    if (*ch.max_message_bytes == 0) fail(uri, "max_message=0 would refuse every message");
  } else if (key == "wait") {
    ch.wait = parse_choice(uri, key, value, {std::pair{std::string_view("spin"), WaitKind::Spin},
                                             {"yield", WaitKind::Yield},
                                             {"block", WaitKind::Block}});
  } else if (key == "file") {
    if (value.empty()) fail(uri, "file= needs a path");
    ch.file = std::string(value);
  } else if (key == "mode") {
    ch.mode = parse_number<unsigned>(uri, key, value, 8);
    if (ch.mode > 0777 || (ch.mode & 0600) != 0600)
      fail(uri, fmt::format("mode={} must be octal, at most 0777, and include 0600", value));
  } else if (key == "stream") {
    ch.stream_id = parse_number<std::uint32_t>(uri, key, value);
  } else if (key == "start") {
    if (!value.empty() && value.front() >= '0' && value.front() <= '9') {
      ch.start_position = parse_number<std::uint64_t>(uri, key, value);
    } else {
      ch.start = parse_choice(uri, key, value,
                              {std::pair{std::string_view("live"), queue::ReaderStart::Live},
                               {"earliest", queue::ReaderStart::Earliest}});
    }
  } else {
    fail(uri, fmt::format("unknown parameter '{}' (shm takes kind, capacity, max_frame, "
                          "max_message, wait, file, mode, stream, start)",
                          key));
  }
}

}  // namespace

std::size_t parse_size(std::string_view value, std::string_view what) {
  std::size_t multiplier = 1;
  std::string_view digits = value;
  if (!digits.empty()) {
    switch (digits.back()) {
      case 'k': case 'K': multiplier = std::size_t{1} << 10; break;
      case 'm': case 'M': multiplier = std::size_t{1} << 20; break;
      case 'g': case 'G': multiplier = std::size_t{1} << 30; break;
      default: break;
    }
    if (multiplier != 1) digits.remove_suffix(1);
  }
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
      n > (std::size_t{1} << 40) / multiplier)
    throw SetupError(fmt::format("{}={} is not a size (e.g. 4096, 64k, 1m)", what, value));
  return n * multiplier;
}

Uri Uri::parse(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) fail(text, "no scheme (expected e.g. shm:orders)");
  const auto scheme = text.substr(0, colon);
  if (scheme != "shm")
    fail(text, fmt::format("unknown scheme '{}' (this build supports: shm)", scheme));
  Uri uri;
  std::string_view rest = text.substr(colon + 1);
  const auto query = rest.find('?');
  const std::string_view name = rest.substr(0, query);
  if (name.empty() || name.size() > 200)
    fail(text, "channel name must have 1 to 200 characters");
  for (char c : name)
    if (!is_name_char(c)) fail(text, fmt::format("channel name has '{}' (allowed: A-Z a-z 0-9 . _ -)", c));
  if (name.starts_with(reserved_name_prefix))
    fail(text, fmt::format("channel names starting with '{}' are reserved for counters segments",
                           reserved_name_prefix));
  uri.shm.name = std::string(name);
  if (query == std::string_view::npos) return uri;
  // Every '&'-separated piece must be key=value, trailing and empty ones
  // too, and a key may come once: a repeated one is a typo or a clash
  // between two sources of the URI, not a value to pick silently.
  std::string_view params = rest.substr(query + 1);
  std::vector<std::string_view> seen;
  for (;;) {
    const auto amp = params.find('&');
    const std::string_view pair = params.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0)
      fail(text, fmt::format("parameter '{}' is not key=value", pair));
    const std::string_view key = pair.substr(0, eq);
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      fail(text, fmt::format("parameter '{}' is given twice", key));
    seen.push_back(key);
    try {
      apply(text, uri.shm, key, pair.substr(eq + 1));
    } catch (const SetupError& e) {
      if (std::string_view(e.what()).starts_with("bad channel URI")) throw;
      fail(text, e.what());
    }
    if (amp == std::string_view::npos) break;
    params = params.substr(amp + 1);
  }
  // Only a broadcast ring replays; a subscriber may be the one to create it.
  if (uri.shm.start || uri.shm.start_position) {
    if (uri.shm.kind && *uri.shm.kind != shm::RingKind::Broadcast)
      fail(text, fmt::format("start= applies to broadcast channels, not kind={}", shm::to_string(*uri.shm.kind)));
    uri.shm.kind = shm::RingKind::Broadcast;
  }
  return uri;
}

}  // namespace sluice
