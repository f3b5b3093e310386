#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the gateway's one broker: it accepts on `listen_fd` (a listening socket it takes
/// over and closes) and moves the bytes of every client connection of this process. CAF 0.17
/// runs every broker on the one I/O thread anyway, so one broker loses no parallelism, and an
/// idle connection costs a scribe and a session instead of a broker actor too
/// (docs/decisions/0006-one-io-broker.md).
///
/// Per connection it spawns a `session` on the scheduler and monitors it. Bytes that arrive
/// go to the session as (inbound_atom, std::string). From the session it takes
/// (outbound_atom, connection_handle, std::string), written and flushed, and
/// (caf::close_atom, connection_handle, caf::error): flush, close, and the session is ended
/// with that reason. A session that exits on its own (a crash) closes only its connection; a
/// client that closes ends only its session.
///
/// Flow control, layers 1-2: the connection cap (ctx.max_connections, below the fd limit so
/// accept never meets EMFILE) and the accept-rate bucket refuse a connection at once, counted
/// by reason; past `max_unsent_bytes` unsent (the client stopped reading, see ack_writes) the
/// client is cut off with gateway_errc::slow_reader.
///
/// (drain_atom) closes the listening socket (other processes on the same SO_REUSEPORT port
/// take new clients); open connections stay. (caf::get_atom) answers once it accepts.
caf::actor spawn_gateway_io(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx);

}  // namespace tidegate::actors
