#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/gateway/gateway_context.h"

namespace tidegate::actors {

/// Spawns the session of one client connection on the scheduler: it owns the MMTP protocol
/// (session_machine), its timers and its place in the session registry. It talks to the
/// client only through `connection` (its broker), sending (outbound_atom, std::string) and
/// (caf::close_atom, caf::error); the broker links to it, so either half ending ends both.
caf::actor spawn_session(caf::local_actor* parent, caf::actor connection, gateway_context_ptr ctx);

}  // namespace tidegate::actors
