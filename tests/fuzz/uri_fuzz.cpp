// Channel URIs come from users and config files: Uri::parse and parse_size
// may refuse anything with SetupError, and nothing else may escape. What
// they accept must obey the documented limits (transport/uri.hpp).
//
// Input: the URI text.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string_view>
#include <typeinfo>

#include "tests/fuzz/fuzz_support.hpp"
#include "transport/errors.hpp"
#include "transport/uri.hpp"

namespace {

using sluice::fuzz::check;

constexpr std::size_t max_size_value = std::size_t{1} << 40;  // parse_size's ceiling

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

void check_accepted(std::string_view text, const sluice::Uri& uri) {
  check(text.starts_with("shm:"), "only the shm scheme is accepted");
  const auto& ch = uri.shm;
  check(!ch.name.empty() && ch.name.size() <= 200, "name has 1 to 200 characters");
  for (char c : ch.name) check(is_name_char(c), "name uses only [A-Za-z0-9._-]");
  check(ch.mode <= 0777 && (ch.mode & 0600) == 0600, "mode is at most 0777 and includes 0600");
  for (const auto& size : {ch.capacity_bytes, ch.max_frame_bytes, ch.max_message_bytes})
    check(!size || *size <= max_size_value, "sizes stay below 1 TiB");
  check(!ch.file || !ch.file->empty(), "file= is never empty");
}

// Anything but SetupError escaping a set-up parser is a bug: say which.
template <class Parse>
void expect_only_setup_errors(Parse&& parse) {
  try {
    parse();
  } catch (const sluice::SetupError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected %s: %s\n", typeid(e).name(), e.what());
    std::abort();
  } catch (...) {
    std::fprintf(stderr, "unexpected non-std exception\n");
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // An exact-size copy: a read past the end of the text is caught.
  sluice::fuzz::AlignedBytes bytes(data, size);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), size);
  expect_only_setup_errors([&] { check_accepted(text, sluice::Uri::parse(text)); });
  expect_only_setup_errors([&] {
    check(sluice::parse_size(text, "size") <= max_size_value, "sizes stay below 1 TiB");
  });
  return 0;
}
