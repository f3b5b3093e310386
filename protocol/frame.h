#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "tidegate/v1/frame.pb.h"

namespace tidegate::protocol {

/// The MMTP version this code speaks (the high nibble of header byte 0).
inline constexpr uint8_t mmtp_version = 1;

/// Flag bits (the low nibble of header byte 0). Bits 0x4 and 0x8 are reserved and must be 0.
inline constexpr uint8_t flag_compressed = 0x1;     ///< The payload is one zstd frame.
inline constexpr uint8_t flag_ack_requested = 0x2;  ///< The receiver acks `seq` cumulatively.
inline constexpr uint8_t reserved_flags = 0xc;

/// Three fixed bytes (version|flags, type, channel), then two varints (seq, length).
inline constexpr size_t fixed_header_bytes = 3;
inline constexpr size_t max_header_bytes = fixed_header_bytes + 2 * 10;

/// One decoded frame. `payload` is always the uncompressed protobuf bytes.
struct frame {
  v1::FrameType type = v1::FRAME_TYPE_UNSPECIFIED;
  uint8_t flags = 0;  ///< As on the wire; flag_compressed tells how it travelled.
  uint8_t channel = v1::CHANNEL_CONTROL;
  uint64_t seq = 0;
  std::string payload;

  bool ack_requested() const { return (flags & flag_ack_requested) != 0; }
};

/// True if `type` is a FrameType value (including the reserved, not yet served ones).
bool is_known_frame_type(uint8_t type);

/// Appends a frame header for a payload of `payload_size` wire bytes to `out`.
void append_frame_header(v1::FrameType type, uint8_t flags, uint8_t channel, uint64_t seq,
                         size_t payload_size, std::string& out);

/// Appends a whole uncompressed frame to `out` (header and payload).
void append_frame(v1::FrameType type, uint8_t flags, uint8_t channel, uint64_t seq,
                  std::string_view payload, std::string& out);

/// The name of a frame type without its prefix, e.g. "HELLO", or "UNKNOWN".
std::string frame_type_name(v1::FrameType type);

}  // namespace tidegate::protocol
