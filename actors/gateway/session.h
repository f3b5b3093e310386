#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <caf/io/connection_handle.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the session of client connection `hdl` on the scheduler: it owns the MMTP protocol
/// (session_machine), its timers and its place in the session registry. It talks to the
/// client only through `io` (the gateway's broker), sending (outbound_atom, hdl, std::string)
/// and (caf::close_atom, hdl, caf::error), after which the broker ends it. The broker monitors
/// it; a session that ends on its own closes its connection.
caf::actor spawn_session(caf::local_actor* parent, caf::actor io, caf::io::connection_handle hdl,
                         gateway_context_ptr ctx);

}  // namespace tidegate::actors
