#pragma once

#include <cstdint>
#include <string>

#include "tidegate/v1/error.pb.h"

namespace tidegate::protocol {

/// Why a peer's bytes were refused. Each maps to one wire code (to_wire); the session sends
/// ERROR{code, reason} and closes. Numbers are append-only.
enum class protocol_errc : uint8_t {
  ok = 0,
  frame_too_large = 1,  ///< Declared length (or decompressed size) over the maximum.
  malformed_frame,      ///< Bad version nibble, bad varint, reserved flag bits, truncation.
  unknown_frame_type,   ///< Type byte not in FrameType.
  bad_compression,      ///< Corrupt zstd, unknown dictionary, unknown content size.
  bad_payload,          ///< The payload does not parse as the type's protobuf message.
  unexpected_frame,     ///< A valid frame at the wrong time (before HELLO, a second HELLO...).
  auth_failed,          ///< Bad, expired or foreign login token, or unknown app.
  bad_hello,            ///< HELLO with a missing or oversized field or a bad version.
};

/// A refused input: the code and a reason for humans (never parsed by clients).
struct protocol_error {
  protocol_errc code = protocol_errc::ok;
  std::string reason;
};

/// The wire-visible code for `code`.
v1::ErrorCode to_wire(protocol_errc code);

/// A short lower_case name, e.g. "frame_too_large" (metrics labels, logs).
const char* to_string(protocol_errc code);

}  // namespace tidegate::protocol
