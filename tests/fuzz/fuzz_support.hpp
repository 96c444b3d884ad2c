// Helpers shared by the libFuzzer targets in this directory.
//
// Inputs are copied into an exact-size, over-aligned heap block: exact size
// so AddressSanitizer flags a read even one byte past the end, aligned like
// the ring or datagram memory the parsers really run on (a misaligned copy
// would report the harness, not the parser).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <source_location>
#include <span>

namespace sluice::fuzz {

inline constexpr std::size_t buffer_alignment = 128;

class AlignedBytes {
 public:
  explicit AlignedBytes(std::size_t size)
      : size_(size),
        data_(static_cast<std::byte*>(
            ::operator new(size == 0 ? 1 : size, std::align_val_t{buffer_alignment}))) {
    std::memset(data_, 0, size_);
  }
  AlignedBytes(const std::uint8_t* from, std::size_t size) : AlignedBytes(size) {
    if (size != 0) std::memcpy(data_, from, size);
  }
  ~AlignedBytes() { ::operator delete(data_, std::align_val_t{buffer_alignment}); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;

  std::byte* data() noexcept { return data_; }
  const std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::span<std::byte> span() noexcept { return {data_, size_}; }

 private:
  std::size_t size_;
  std::byte* data_;
};

// A fixed-layout parameter prefix read little-endian; missing bytes read 0,
// so every input, however short, is a valid case.
class InputReader {
 public:
  InputReader(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  template <class T>
  T take() noexcept {
    T value{};
    const std::size_t n = pos_ < size_ ? std::min(sizeof value, size_ - pos_) : 0;
    if (n != 0) std::memcpy(&value, data_ + pos_, n);
    pos_ += sizeof value;
    return value;
  }
  // What follows the prefix.
  const std::uint8_t* rest() const noexcept { return data_ + std::min(pos_, size_); }
  std::size_t rest_size() const noexcept { return pos_ < size_ ? size_ - pos_ : 0; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A broken invariant is a bug in the code under test: report and abort so
// libFuzzer saves the input. Not assert(): it must hold in release builds.
inline void check(bool holds, const char* invariant,
                  std::source_location where = std::source_location::current()) {
  if (holds) return;
  std::fprintf(stderr, "fuzz invariant broken at %s:%u: %s\n", where.file_name(),
               static_cast<unsigned>(where.line()), invariant);
  std::abort();
}

// Reads every byte so the sanitizers check the whole span, and keeps the
// reads from being optimised away.
inline void touch(std::span<const std::byte> bytes) noexcept {
  unsigned sum = 0;
  for (std::byte b : bytes) sum += static_cast<unsigned>(b);
  asm volatile("" : : "r"(sum));
}

}  // namespace sluice::fuzz
