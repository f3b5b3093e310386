#include "actors/gateway/gateway_errc.h"

namespace tidegate::actors {

close_reason to_close_reason(const caf::error& reason) {
  if (reason.category() != caf::atom("gateway")) {
    return close_reason::crashed;
  }
  switch (static_cast<gateway_errc>(reason.code())) {
    case gateway_errc::peer_closed:
      return close_reason::peer_closed;
    case gateway_errc::protocol_error:
      return close_reason::protocol_error;
    case gateway_errc::auth_failed:
      return close_reason::auth_failed;
    case gateway_errc::idle_timeout:
      return close_reason::idle_timeout;
    case gateway_errc::handshake_timeout:
      return close_reason::handshake_timeout;
    case gateway_errc::dead_connection:
      return close_reason::dead_connection;
    case gateway_errc::slow_reader:
      return close_reason::slow_reader;
    case gateway_errc::replaced:
      return close_reason::replaced;
    case gateway_errc::drained:
      return close_reason::drained;
    case gateway_errc::redirected:
      return close_reason::redirected;
  }
  return close_reason::crashed;
}

}  // namespace tidegate::actors
