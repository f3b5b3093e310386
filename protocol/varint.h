#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace tidegate::protocol {

/// Longest encoding of a uint64_t as an unsigned LEB128 varint.
inline constexpr size_t max_varint_bytes = 10;

/// What `read_varint` found.
enum class varint_status : uint8_t {
  ok,         ///< `value` and `consumed` are set.
  need_more,  ///< The input ends inside the varint; nothing was consumed.
  malformed,  ///< Over 10 bytes, or a value that does not fit 64 bits.
};

struct varint_read {
  varint_status status = varint_status::need_more;
  uint64_t value = 0;
  size_t consumed = 0;
};

/// Reads one unsigned LEB128 varint (protobuf's encoding) from [data, data + size).
varint_read read_varint(const uint8_t* data, size_t size);

/// Appends the shortest encoding of `value` to `out`.
void append_varint(uint64_t value, std::string& out);

/// Bytes `append_varint(value, ...)` writes.
size_t varint_size(uint64_t value);

}  // namespace tidegate::protocol
