// src/byte_codec.hpp — the varint byte format of the library's in-memory
// serialisations (NGramCounts, DiscoveryShard, DiscoveryBlockCounts), private
// to the library: LEB128 varints written by put_varint, read back by
// ByteReader with bounds checks, every error a FileError naming the thing read.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "simulacra/error.hpp"

namespace simulacra::detail {

// Appends v as a LEB128 varint (7 bits a byte, low first).
inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(char(v));
}

// Reads serialised bytes; `what` names them in every error ("n-gram counts: truncated in the order").
class ByteReader {
 public:
  ByteReader(std::string_view bytes, const char* what) : s_(bytes), what_(what) {}
  std::size_t remaining() const { return s_.size() - pos_; }
  std::uint64_t varint(const char* field) {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      SIMULACRA_CHECK(pos_ < s_.size(), FileError, "{}: truncated in {}", what_, field);
      const auto byte = static_cast<unsigned char>(s_[pos_++]);
      SIMULACRA_CHECK(shift < 63 || byte <= 1, FileError, "{}: {} overflows 64 bits", what_, field);
      v |= std::uint64_t(byte & 0x7f) << shift;
      if (byte < 0x80) return v;
    }
    throw FileError(fmt::format("{}: {} is not a valid varint", what_, field));
  }
  // A varint that must be at most `most`.
  std::uint64_t bounded(const char* field, std::uint64_t most) {
    const std::uint64_t v = varint(field);
    SIMULACRA_CHECK(v <= most, FileError, "{}: {} is {}, more than {}", what_, field, v, most);
    return v;
  }
  // The leading magic bytes of a serialised `kind` (for example "NGramCounts").
  void expect(std::string_view magic, const char* kind) {
    SIMULACRA_CHECK(s_.substr(0, magic.size()) == magic, FileError, "{}: not a serialised {} (bad magic)", what_,
                    kind);
    pos_ = magic.size();
  }
  double real() {
    SIMULACRA_CHECK(remaining() >= 8, FileError, "{}: truncated in a value", what_);
    double v;
    std::memcpy(&v, s_.data() + pos_, 8);
    pos_ += 8;
    return v;
  }
  void end() { SIMULACRA_CHECK(remaining() == 0, FileError, "{}: {} trailing bytes", what_, remaining()); }

 private:
  std::string_view s_;
  const char* what_;
  std::size_t pos_ = 0;
};

}  // namespace simulacra::detail
