#include "protocol/varint.h"

namespace tidegate::protocol {

varint_read read_varint(const uint8_t* data, size_t size) {
  varint_read result;
  uint64_t value = 0;
  for (size_t i = 0; i < max_varint_bytes; ++i) {
    if (i == size) {
      return result;  // need_more
    }
    uint8_t byte = data[i];
    // The tenth byte holds bit 63 only: anything above it overflows 64 bits.
    if (i == max_varint_bytes - 1 && byte > 1) {
      result.status = varint_status::malformed;
      return result;
    }
    value |= uint64_t{byte & 0x7fu} << (7 * i);
    if ((byte & 0x80u) == 0) {
      result.status = varint_status::ok;
      result.value = value;
      result.consumed = i + 1;
      return result;
    }
  }
  result.status = varint_status::malformed;
  return result;
}

void append_varint(uint64_t value, std::string& out) {
  while (value >= 0x80) {
    out.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out.push_back(static_cast<char>(value));
}

size_t varint_size(uint64_t value) {
  size_t n = 1;
  while (value >= 0x80) {
    value >>= 7;
    ++n;
  }
  return n;
}

}  // namespace tidegate::protocol
