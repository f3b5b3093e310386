#pragma once

#include <caf/actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/local_actor.hpp>

namespace tidegate::actors {

// Node-wide actors are found by name in the actor system's registry, not by a handle held
// since spawn, so one restarted by its supervisor is found at once (decision 0005). Each
// names itself when it starts and removes the name when it exits.
inline constexpr caf::atom_value session_registry_name = caf::atom("sessions");
inline constexpr caf::atom_value sync_router_name = caf::atom("sync");
inline constexpr caf::atom_value storage_writer_name = caf::atom("writer");

/// Names `self` `name` for as long as it runs: a newer actor's name is left alone when `self`
/// exits. Call from the actor's behavior function (or right after its spawn, for the put).
inline void name_while_running(caf::local_actor* self, caf::atom_value name) {
  self->home_system().registry().put(name, caf::actor_cast<caf::actor>(self));
  self->attach_functor(
      [sys = &self->home_system(), addr = self->address(), name](const caf::error&) {
        auto current = sys->registry().get<caf::actor>(name);
        if (current && current.address() == addr) {
          sys->registry().erase(name);
        }
      });
}

/// The session registry of `sys`, or an invalid handle while none runs.
inline caf::actor session_registry_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(session_registry_name);
}

/// The sync router of `sys`, or an invalid handle while none runs.
inline caf::actor sync_router_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(sync_router_name);
}

/// The storage writer of `sys`, or an invalid handle while none runs.
inline caf::actor storage_writer_of(caf::actor_system& sys) {
  return sys.registry().get<caf::actor>(storage_writer_name);
}

}  // namespace tidegate::actors
