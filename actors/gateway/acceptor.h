#pragma once

#include <caf/io/broker.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the acceptor broker on `listen_fd` (a listening socket it takes over and closes).
/// Layer 1 of flow control: the connection cap (ctx.max_connections, below the fd limit so
/// accept never meets EMFILE) and the new-connections-per-second limit; a refused connection
/// is closed at once and counted by reason. Each admitted one is forked into a `connection`
/// broker. (drain_atom) stops accepting (the listening socket closes, so other processes on
/// the same SO_REUSEPORT port take new clients) and the acceptor exits normally.
/// (caf::get_atom) answers once it accepts.
caf::actor spawn_acceptor(caf::actor_system& sys, int listen_fd, gateway_context_ptr ctx);

}  // namespace tidegate::actors
