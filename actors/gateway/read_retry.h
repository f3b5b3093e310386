#pragma once

#include <algorithm>
#include <cstdint>

namespace tidegate::actors {

/// How long a session waits before it makes a failed read again (a SYNC page or a topic page,
/// failed while its shard fails over): read_retry_min_ms after the first failure in a row,
/// doubling with each further one to read_retry_max_ms.
inline constexpr uint64_t read_retry_min_ms = 200;
inline constexpr uint64_t read_retry_max_ms = 5'000;

/// The wait after `failures_in_a_row` (at least 1) failed reads.
constexpr uint64_t read_retry_delay_ms(uint32_t failures_in_a_row) {
  uint32_t shift = std::min<uint32_t>(failures_in_a_row > 0 ? failures_in_a_row - 1 : 0, 16);
  return std::min(read_retry_min_ms << shift, read_retry_max_ms);
}

}  // namespace tidegate::actors
