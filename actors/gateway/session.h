#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/gateway/client_socket.h"
#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the session of a client connection on the scheduler: it owns the MMTP protocol
/// (session_machine), its timers and its place in the session registry. It writes to the
/// client through `socket` itself and closes it with the reason it ends with; when the socket
/// loop sees the connection end first, it sends the session an exit with the reason.
caf::actor spawn_session(caf::actor_system& sys, client_socket_ptr socket, gateway_context_ptr ctx);

}  // namespace tidegate::actors
