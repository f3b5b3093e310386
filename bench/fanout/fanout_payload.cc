#include "bench/fanout/fanout_payload.h"

#include <algorithm>

namespace tidegate::bench {

void make_fanout_payload(uint64_t seq, uint32_t bytes, std::string& out) {
  constexpr char digits[] = "0123456789abcdef";
  out.assign(std::max(bytes, fanout_seq_digits), '.');
  for (uint32_t i = 0; i < fanout_seq_digits; ++i) {
    out[fanout_seq_digits - 1 - i] = digits[(seq >> (4 * i)) & 0xf];
  }
}

bool read_fanout_seq(std::string_view payload, uint64_t& seq) {
  if (payload.size() < fanout_seq_digits) {
    return false;
  }
  uint64_t value = 0;
  for (uint32_t i = 0; i < fanout_seq_digits; ++i) {
    auto c = payload[i];
    uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      digit = static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return false;
    }
    value = (value << 4) | digit;
  }
  seq = value;
  return true;
}

}  // namespace tidegate::bench
