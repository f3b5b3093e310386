#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tidegate::bench {

/// Hex digits of the sequence number at the front of every fan-out payload.
constexpr uint32_t fanout_seq_digits = 16;

/// Replaces `out` with the payload of fan-out message `seq`: its sequence number as 16
/// lower-case hex digits, then '.' up to `bytes` (at least 16). Text-safe for every protocol.
void make_fanout_payload(uint64_t seq, uint32_t bytes, std::string& out);

/// Reads the sequence number at the front of a payload made by make_fanout_payload; false if
/// the payload does not start with 16 hex digits.
bool read_fanout_seq(std::string_view payload, uint64_t& seq);

}  // namespace tidegate::bench
