#pragma once

#include <cstdint>

#include <caf/error.hpp>

#include "actors/admin/metrics.h"

namespace tidegate::actors {

/// Why a connection's actors exited. Non-zero so linked actors always follow (a normal exit
/// would leave the other half of a connection running). Numbers are append-only.
enum class gateway_errc : uint8_t {
  peer_closed = 1,    ///< The client closed the TCP connection.
  protocol_error,     ///< ERROR sent for bad input; see the session's log line.
  auth_failed,        ///< ERROR 8007 sent.
  idle_timeout,       ///< No frame within the idle timeout.
  handshake_timeout,  ///< HELLO+AUTH not done within handshake_timeout_ms.
  dead_connection,    ///< Server frames unacked past the ack deadline.
  slow_reader,        ///< Unsent bytes over max_unsent_bytes.
  replaced,           ///< A newer connection of the same device; grace period over.
  drained,            ///< GOAWAY DRAIN sent on shutdown.
  redirected,         ///< GOAWAY REDIRECT sent: the user belongs to another zone.
};

/// The metrics label of an exit reason; anything not a gateway_errc is a crash.
close_reason to_close_reason(const caf::error& reason);

}  // namespace tidegate::actors

CAF_ERROR_CODE_ENUM(tidegate::actors::gateway_errc, "gateway")
