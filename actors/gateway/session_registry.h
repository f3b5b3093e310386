#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "actors/gateway/gateway_context.h"
#include "actors/names.h"

namespace tidegate::actors {

/// Spawns the node's session registry and names it in the actor system's registry. It knows
/// every live session past HELLO (monitored) and which one serves each device, so a newer
/// connection of a device drains the older one (soft disconnect), and shutdown can spread
/// GOAWAYs. Sessions still before HELLO are not here: the handshake timeout ends them.
///
/// Messages:
///  - (hello_atom, std::string device_id, std::string app_id) from a session: track it until
///    it exits; it now
///    serves that device, and an older session of the device gets (replaced_atom). During a
///    drain it gets (goaway_atom) at once.
///  - (drain_atom, uint32_t window_ms) -> uint64_t: sends (goaway_atom, reconnect_after_ms)
///    to every session spread evenly over the window; answers with how many were drained once
///    all have exited.
///  - (login_atom, std::string user_id) from a session after AUTH: it serves that user.
///  - (zone_atom, uint32_t window_ms) -> uint64_t: the zone rules changed; sends
///    (goaway_atom, 0) to every session whose user the gateway context would now redirect
///    to another zone, spread evenly over the window; answers how many.
///  - (deliver_atom, uint8_t bucket_kind, std::string owner, sync_page): new ops of an owner,
///    forwarded as (deliver_atom, sync_page) to its online sessions (by user or by device;
///    `global` ops go through the topic relay instead).
///  - (deliver_atom, owner_deliveries) -> (): the same for each item, in order; from another
///    member's delivery_outbox, which sends the next batch once this one is answered.
///  - (count_atom) -> uint64_t: live sessions.
///  - (caf::get_atom, std::string device_id) -> caf::actor: the device's session.
caf::actor spawn_session_registry(caf::actor_system& sys, gateway_context_ptr ctx);

}  // namespace tidegate::actors
