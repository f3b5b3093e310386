#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::storage {

/// Appends `value` big-endian in `n` bytes (n <= 8) to `out`.
inline void put_be(uint64_t value, size_t n, std::string& out) {
  for (size_t i = n; i > 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * (i - 1))) & 0xff));
  }
}

inline void put_u8(uint8_t v, std::string& out) {
  put_be(v, 1, out);
}
inline void put_u16(uint16_t v, std::string& out) {
  put_be(v, 2, out);
}
inline void put_u32(uint32_t v, std::string& out) {
  put_be(v, 4, out);
}
inline void put_u64(uint64_t v, std::string& out) {
  put_be(v, 8, out);
}
/// Appends `s` prefixed by its length as a u16 (callers keep strings under 64 KiB).
inline void put_str16(std::string_view s, std::string& out) {
  put_u16(static_cast<uint16_t>(s.size()), out);
  out.append(s);
}

/// Reads big-endian integers and length-prefixed strings from untrusted bytes. Once a read
/// runs past the end it stays failed (`ok()` is false) and returns zeros and empty strings.
/// Borrows `bytes`, which must outlive it.
class byte_reader {
 public:
  explicit byte_reader(std::string_view bytes) : bytes_(bytes) {}

  uint64_t be(size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; ++i) {
      v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    }
    pos_ += n;
    return v;
  }
  uint8_t u8() { return static_cast<uint8_t>(be(1)); }
  uint16_t u16() { return static_cast<uint16_t>(be(2)); }
  uint32_t u32() { return static_cast<uint32_t>(be(4)); }
  uint64_t u64() { return be(8); }

  /// `n` raw bytes (a view into the input).
  std::string_view bytes(size_t n) {
    if (!ok_ || bytes_.size() - pos_ < n) {
      ok_ = false;
      return {};
    }
    auto out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::string str16() { return std::string(bytes(u16())); }
  std::string str32() { return std::string(bytes(u32())); }

  bool ok() const { return ok_; }
  /// True when every byte was read and no read failed.
  bool done() const { return ok_ && pos_ == bytes_.size(); }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace tidegate::storage
