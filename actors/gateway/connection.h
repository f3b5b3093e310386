#pragma once

#include <caf/io/broker.hpp>
#include <caf/io/connection_handle.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// The broker of one client TCP connection, forked by the acceptor. It runs on the one I/O
/// thread of the process, so it only moves bytes: what arrives goes to its session as
/// (inbound_atom, std::string); (outbound_atom, std::string) is written and flushed. Write
/// backpressure: past `max_unsent_bytes` unsent (the client stopped reading) it cuts the
/// client off with gateway_errc::slow_reader. (caf::close_atom, caf::error) writes what is
/// queued and exits with that reason. It exits with a gateway_errc and its session follows.
caf::behavior connection(caf::io::broker* self, caf::io::connection_handle hdl,
                         gateway_context_ptr ctx);

}  // namespace tidegate::actors
