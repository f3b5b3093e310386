#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the gateway: an actor owning the socket_loop that accepts on `listen_fd` (a
/// listening socket it takes over and closes) and reads every client connection of this
/// process; sessions write to their connection themselves (client_socket). CAF 0.17's
/// middleman ran all of this on its one thread with a mailbox hop, two epoll_ctl calls and an
/// acknowledgement message per write (docs/decisions/0011-own-socket-loop.md).
///
/// Per connection the loop spawns a `session` on the scheduler. Bytes that arrive go to the
/// session as (inbound_atom, std::string). A session that exits (for any reason, a crash
/// included) closes only its connection; a client that closes ends only its session.
///
/// Flow control, layers 1-2: the connection cap (ctx.max_connections, below the fd limit so
/// accept never meets EMFILE) and the accept-rate bucket refuse a connection at once, counted
/// by reason; past `max_unsent_bytes` queued (the client stopped reading) the client is cut
/// off with gateway_errc::slow_reader.
///
/// (drain_atom) closes the listening socket (other processes on the same SO_REUSEPORT port
/// take new clients); open connections stay. (caf::get_atom) answers once it accepts. When
/// this actor exits, every connection closes and every session ends with its exit reason.
caf::actor spawn_gateway_io(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx);

}  // namespace tidegate::actors
