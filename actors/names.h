#pragma once

#include <caf/actor.hpp>
#include <caf/actor_registry.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>

namespace tidegate::actors {

// Node-wide actors are found by name in the actor system's registry, not by a handle held
// since spawn, so one restarted by its supervisor is found at once (decision 0005). Each
// names itself when it starts and removes the name when it exits.
inline constexpr caf::atom_value session_registry_name = caf::atom("sessions");
inline constexpr caf::atom_value sync_router_name = caf::atom("sync");
inline constexpr caf::atom_value storage_writer_name = caf::atom("writer");

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
